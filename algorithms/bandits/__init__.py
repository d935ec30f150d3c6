"""Multi-armed bandit learners (stochastic, Bayesian, adversarial) and their registry.

``ALGORITHMS`` maps a command-line name to a builder ``(num_arms, horizon) -> Learner``
that applies the default (theory) tuning; :func:`make_learner` builds one by name. The
factories themselves take their hyperparameters as keyword arguments (traceable, so
``sweep`` can grid over them).
"""

from __future__ import annotations

from collections.abc import Callable

from algorithms.bandits.adversarial import (
    exp3,
    exp3_ix,
    exp3_ix_parameters,
    exp3_learning_rate,
    tsallis_inf,
)
from algorithms.bandits.bayesian import (
    bayes_ucb,
    beta_sample,
    gaussian_thompson_sampling,
    thompson_sampling,
)
from algorithms.bandits.stochastic import (
    epsilon_greedy,
    explore_then_commit,
    kl_ucb,
    kl_ucb_index,
    moss,
    successive_elimination,
    ucb1,
    ucb1_index,
    ucb_v,
)
from algorithms.core import Learner, check_int


def _etc(num_arms: int, horizon: int) -> Learner:
    # Gap-free tuning m ~ (T / K)^(2/3): regret O(K^(1/3) T^(2/3)) (Lattimore and
    # Szepesvari 2020, Exercise 6.5 / Section 6.2).
    return explore_then_commit(
        num_arms, explore_per_arm=max(1, round((horizon / num_arms) ** (2 / 3) / 2))
    )


def _exp3_ix(num_arms: int, horizon: int) -> Learner:
    learning_rate, gamma = exp3_ix_parameters(horizon, num_arms)
    return exp3_ix(num_arms, learning_rate=learning_rate, gamma=gamma)


ALGORITHMS: dict[str, Callable[[int, int], Learner]] = {
    "etc": _etc,
    "eps_greedy": lambda k, n: epsilon_greedy(k, epsilon=0.1),
    # eps_t = min(1, c K / (d^2 t)) with d = 0.1 (a lower bound on the gaps of the
    # figures' instances) and c = 0.5: fully random for the first 50 K rounds, then
    # decaying as 1/t.
    "eps_greedy_decay": lambda k, n: epsilon_greedy(k, decay=True, c=0.5, d=0.1),
    "ucb1": lambda k, n: ucb1(k),
    "ucb_v": lambda k, n: ucb_v(k),
    "moss": lambda k, n: moss(k, horizon=n),
    "kl_ucb": lambda k, n: kl_ucb(k),
    "thompson": lambda k, n: thompson_sampling(k),
    "gaussian_ts": lambda k, n: gaussian_thompson_sampling(k, noise_var=0.25),
    "bayes_ucb": lambda k, n: bayes_ucb(k, horizon=max(n, 2)),
    "succ_elim": lambda k, n: successive_elimination(k, delta=1.0 / n),
    "exp3": lambda k, n: exp3(k, learning_rate=exp3_learning_rate(n, k)),
    "exp3_ix": _exp3_ix,
    "tsallis_inf": lambda k, n: tsallis_inf(k),
}


def make_learner(name: str, *, num_arms: int, horizon: int) -> Learner:
    """The learner ``name`` of :data:`ALGORITHMS` with its default tuning."""
    if name not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}"
        )
    check_int(num_arms, "num_arms", minimum=2)
    check_int(horizon, "horizon", minimum=1)
    return ALGORITHMS[name](num_arms, horizon)


__all__ = [
    "ALGORITHMS",
    "bayes_ucb",
    "beta_sample",
    "epsilon_greedy",
    "exp3",
    "exp3_ix",
    "exp3_ix_parameters",
    "exp3_learning_rate",
    "explore_then_commit",
    "gaussian_thompson_sampling",
    "kl_ucb",
    "kl_ucb_index",
    "make_learner",
    "moss",
    "successive_elimination",
    "thompson_sampling",
    "tsallis_inf",
    "ucb1",
    "ucb1_index",
    "ucb_v",
]
