"""Learners for tabular episodic MDPs, finite-horizon planning, and their registry.

Protocol (``envs.tabular_mdp``): one round is one episode; ``act`` returns a policy
table ``[H, S, A]`` (each ``policy[h, s]`` a distribution over actions) and ``update``
receives the episode's trajectory. The package does not import ``envs``: a model is
anything with ``transitions [H, S, A, S]`` and ``rewards [H, S, A]`` fields.

``TABULAR_ALGORITHMS`` maps a command-line name to a builder
``(num_states, num_actions, horizon, num_episodes) -> Learner`` with the default tuning;
:func:`make_tabular_learner` builds one by name.
"""

from __future__ import annotations

from collections.abc import Callable

from algorithms.core import Learner
from algorithms.tabular.model_based import (
    PSRLState,
    RLSVIState,
    UCBVIState,
    psrl,
    rlsvi,
    rlsvi_posterior,
    ucbvi,
    ucbvi_bernstein_bonus,
    ucbvi_hoeffding_bonus,
    ucbvi_log_term,
)
from algorithms.tabular.planning import (
    UniformPolicyState,
    ValueIterationOracleState,
    greedy_policy,
    greedy_policy_random_ties,
    optimal_q_values,
    uniform_policy,
    value_iteration_oracle,
)
from algorithms.tabular.q_learning import (
    QLearningState,
    epsilon_greedy_q_learning,
    q_learning_ucb,
    ucb_bernstein_beta,
)
from algorithms.tabular.reward_free import (
    RFUCRLState,
    rf_ucrl,
    rf_ucrl_error_bounds,
    rf_ucrl_plan,
)
from algorithms.tabular.statistics import (
    VisitCounts,
    dirichlet_fixed_cost,
    empirical_model,
    init_counts,
    log_gamma_fixed_cost,
    update_counts,
)

__all__ = [
    "PSRLState",
    "QLearningState",
    "RFUCRLState",
    "RLSVIState",
    "TABULAR_ALGORITHMS",
    "UCBVIState",
    "UniformPolicyState",
    "ValueIterationOracleState",
    "VisitCounts",
    "dirichlet_fixed_cost",
    "empirical_model",
    "epsilon_greedy_q_learning",
    "greedy_policy",
    "greedy_policy_random_ties",
    "init_counts",
    "log_gamma_fixed_cost",
    "make_tabular_learner",
    "optimal_q_values",
    "psrl",
    "q_learning_ucb",
    "rf_ucrl",
    "rf_ucrl_error_bounds",
    "rf_ucrl_plan",
    "rlsvi",
    "rlsvi_posterior",
    "ucb_bernstein_beta",
    "ucbvi",
    "ucbvi_bernstein_bonus",
    "ucbvi_hoeffding_bonus",
    "ucbvi_log_term",
    "uniform_policy",
    "update_counts",
    "value_iteration_oracle",
]

# Default tuning. The papers' constants (UCBVI's 7 H L / sqrt(N), UCB-H's unspecified
# absolute c) are worst-case: with them every value stays at its cap H - h for
# thousands of visits and the regret is linear over any horizon a figure can show.
# The registry scales the bonuses down (a standard practice; bonus_scale = 1 is the
# paper's): each scale is the best of a 4-point grid (factor ~3-4 apart) on RiverSwim
# (S = 6, H = 20, K = 2,000, 16 seeds) and is kept for every instance. With UCBVI-CH's
# 5e-4 the bonus is about 1.2 / sqrt(N) at K = 2,000.
TABULAR_ALGORITHMS: dict[str, Callable[[int, int, int, int], Learner]] = {
    "ucbvi_h": lambda s, a, h, k: ucbvi(
        s, a, h, k, bonus="hoeffding", bonus_scale=5e-4
    ),
    "ucbvi_b": lambda s, a, h, k: ucbvi(
        s, a, h, k, bonus="bernstein", bonus_scale=5e-3
    ),
    "psrl": lambda s, a, h, k: psrl(s, a, h),
    "rlsvi": lambda s, a, h, k: rlsvi(s, a, h),
    "ucb_h": lambda s, a, h, k: q_learning_ucb(s, a, h, k, bonus_scale=5e-3),
    "ucb_b": lambda s, a, h, k: q_learning_ucb(
        s, a, h, k, bonus="bernstein", bonus_scale=5e-3
    ),
    "eps_greedy_q": lambda s, a, h, k: epsilon_greedy_q_learning(s, a, h, epsilon=0.1),
    "uniform": lambda s, a, h, k: uniform_policy(s, a, h),
}


def make_tabular_learner(
    name: str, num_states: int, num_actions: int, horizon: int, num_episodes: int
) -> Learner:
    """The registered learner ``name`` with its default tuning."""
    if name not in TABULAR_ALGORITHMS:
        raise ValueError(
            f"unknown tabular algorithm {name!r}; choose from "
            f"{', '.join(TABULAR_ALGORITHMS)}"
        )
    return TABULAR_ALGORITHMS[name](num_states, num_actions, horizon, num_episodes)
