"""Demonstration-regularised RL (tabular): behaviour cloning, then KL-regularised
optimistic value iteration towards the cloned policy.

Tiapkin et al. (2024): from ``N^E`` expert trajectories, first fit a behaviour-cloning
policy ``pi^BC`` (a smoothed maximum-likelihood estimate, so every action keeps a
positive probability and the KL divergence to it is finite), then solve the
KL-regularised MDP

.. math::

    \\max_\\pi \\; V^\\pi_1(s_1) - \\lambda \\,
    \\mathbb{E}_\\pi\\Big[\\sum_h \\mathrm{KL}\\big(\\pi_h(\\cdot|s_h) \\,\\|\\,
    \\pi^{BC}_h(\\cdot|s_h)\\big)\\Big]

with an optimistic (UCBVI-type) solver. Since the expert's policy is close to
``pi^BC`` (``KL ~ S A H / N^E``), the regularised optimum is near-optimal for
``lambda ~ epsilon N^E / (S A H)``, and a regularised problem is solved at a fast rate
(``1 / (lambda epsilon)`` episodes instead of ``1 / epsilon^2``): the online sample
complexity falls like ``1 / N^E``.

Protocol: the env is :func:`envs.demonstrations.with_demonstrations` (the observation is
the ``Demonstrations``: ``states / actions [N_max, H]`` and ``mask [N_max]``); one round
is one episode; ``act`` returns a policy ``[H, S, A]``. This module does not import
``envs``.

``DEMONSTRATION_ALGORITHMS`` maps a name to a builder ``(S, A, H, K) -> Learner`` with
default tuning (a separate registry from ``TABULAR_ALGORITHMS``: these learners need the
demonstrations as observation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from algorithms.core import (
    Key,
    Learner,
    check_int,
    check_positive,
    float_dtype,
    safe_log,
)
from algorithms.tabular.model_based import ucbvi_hoeffding_bonus, ucbvi_log_term
from algorithms.tabular.statistics import (
    VisitCounts,
    empirical_model,
    init_counts,
    update_counts,
)

Array = jax.Array

__all__ = [
    "DEMONSTRATION_ALGORITHMS",
    "BehaviorCloningState",
    "DemoRegularizedState",
    "behavior_cloning",
    "behavior_cloning_learner",
    "demonstration_counts",
    "demo_regularized_ucbvi",
    "kl_regularized_backward_induction",
    "theory_lambda",
]


def demonstration_counts(demonstrations, num_states: int, num_actions: int) -> Array:
    """``N^E_h(s, a) [H, S, A]``: how often the (unmasked) expert played ``a`` in ``s``
    at step ``h``."""
    states, actions, mask = demonstrations
    chex.assert_rank((states, actions), 2)
    num_max, horizon = states.shape
    steps = jnp.broadcast_to(jnp.arange(horizon), (num_max, horizon))
    weights = jnp.broadcast_to(mask[:, None], (num_max, horizon)).astype(float_dtype())
    counts = jnp.zeros((horizon, num_states, num_actions), float_dtype())
    return counts.at[steps, states, actions].add(weights)


def behavior_cloning(
    demonstrations, num_states: int, num_actions: int, smoothing=1.0
) -> Array:
    """The smoothed behaviour-cloning policy ``pi^BC [H, S, A]``.

    .. math::

        \\pi^{BC}_h(a | s) = \\frac{N^E_h(s, a) + \\kappa}{N^E_h(s) + \\kappa A},

    the maximiser of the regularised log-likelihood
    ``sum_{(h, s, a) in D^E} log pi_h(a|s) + kappa sum_{h, s, a} log pi_h(a|s)``
    (the data term plus a logarithmic regulariser that keeps every probability at least
    ``kappa / (N^E_h(s) + kappa A)``; unvisited states get the uniform policy).

    Args:
        demonstrations: ``(states [N, H], actions [N, H], mask [N])``.
        num_states, num_actions: S, A.
        smoothing: kappa > 0 (traceable); 1 is add-one (Laplace) smoothing.

    Returns:
        ``[H, S, A]`` stochastic policy, every entry > 0.

    References:
        Tiapkin et al., "Demonstration-Regularized RL", ICLR 2024, Section 3 (behaviour
        cloning for finite MDPs by a log-regularised maximum-likelihood estimate; its
        trajectory-KL guarantee ``KL(pi^E || pi^BC) = O~(S A H / N^E)``). The exact form
        of the regulariser and the section number are from memory (the paper's text
        was not available here), unverified.
    """
    counts = demonstration_counts(demonstrations, num_states, num_actions)
    smoothing = jnp.asarray(smoothing, counts.dtype)
    return (counts + smoothing) / (
        jnp.sum(counts, axis=-1, keepdims=True) + smoothing * num_actions
    )


def kl_regularized_backward_induction(
    transitions: Array,
    rewards: Array,
    reference: Array,
    lam,
    caps: Array | None = None,
) -> tuple[Array, Array, Array]:
    """Backward induction of the KL-regularised MDP with reference policy ``reference``.

    .. math::

        Q_h(s, a) = \\min\\Big(c_h,\\; r_h(s, a) + \\sum_{s'} P_h(s'|s, a)
        V_{h+1}(s')\\Big), \\qquad
        V_h(s) = \\lambda \\log \\sum_a \\pi^{ref}_h(a|s) e^{Q_h(s, a) / \\lambda},

        \\pi_h(a|s) \\propto \\pi^{ref}_h(a|s) \\, e^{Q_h(s, a) / \\lambda},

    so ``V_h(s) = max_p <p, Q_h(s)> - lambda KL(p || pi^ref_h(s))``, attained at
    ``pi_h(s)`` (the Gibbs variational principle); computed by log-sum-exp.

    Args:
        transitions: ``[H, S, A, S]``.
        rewards: ``[H, S, A]`` (may include an optimistic bonus; ``+inf`` is clipped).
        reference: ``[H, S, A]``, every entry > 0.
        lam: lambda > 0 (traceable).
        caps: ``[H]`` upper clip of ``Q_h`` (default none).

    Returns:
        ``(Q [H, S, A], V [H + 1, S], policy [H, S, A])``.
    """
    chex.assert_rank(rewards, 3)
    horizon, num_states, num_actions = rewards.shape
    chex.assert_shape(transitions, (horizon, num_states, num_actions, num_states))
    chex.assert_shape(reference, (horizon, num_states, num_actions))
    dtype = rewards.dtype
    lam = jnp.asarray(lam, dtype)
    if caps is None:
        caps = jnp.full((horizon,), jnp.inf, dtype)
    log_reference = safe_log(reference)

    def backward_step(value_next, step):
        p_h, r_h, log_ref_h, cap = step
        # Where r_h is +inf the min picks the cap; P V is finite.
        q_h = jnp.minimum(cap, r_h + jnp.einsum("sat,t->sa", p_h, value_next))
        logits = log_ref_h + q_h / lam
        value_h = lam * jax.nn.logsumexp(logits, axis=-1)
        policy_h = jax.nn.softmax(logits, axis=-1)
        return value_h, (q_h, value_h, policy_h)

    terminal = jnp.zeros((num_states,), dtype)
    _, (q_values, values, policy) = jax.lax.scan(
        backward_step,
        terminal,
        (transitions, rewards, log_reference, caps.astype(dtype)),
        reverse=True,
    )
    return q_values, jnp.concatenate([values, terminal[None]], axis=0), policy


def theory_lambda(epsilon, num_demonstrations, num_states, num_actions, horizon):
    """The regularisation ``lambda = epsilon N^E / (2 S A H)`` (log factors dropped).

    Tiapkin et al. (2024) pick ``lambda = epsilon / (2 B)`` with ``B`` the bound on
    ``KL(pi^E || pi^BC)`` (``O~(S A H / N^E)`` in finite MDPs), so that the
    regularised optimum is ``epsilon / 2``-optimal; the constant and the log factors of
    ``B`` are dropped here (from memory, unverified).
    """
    n = jnp.maximum(jnp.asarray(num_demonstrations, float_dtype()), 1.0)
    return epsilon * n / (2.0 * num_states * num_actions * horizon)


class DemoRegularizedState(NamedTuple):
    """State of :func:`demo_regularized_ucbvi`."""

    counts: VisitCounts  # online statistics (the demonstrations are the observation)


def demo_regularized_ucbvi(
    num_states: int,
    num_actions: int,
    horizon: int,
    num_episodes: int,
    *,
    lam=0.05,
    smoothing=1.0,
    bonus_scale=5e-4,
    delta=0.1,
    lam_per_demonstration: bool = False,
    max_return: float | None = None,
) -> Learner:
    """Demonstration-regularised optimistic value iteration (tabular).

    Each episode ``k``: ``pi^BC`` from the demonstrations (:func:`behavior_cloning`),
    the empirical model ``(P_hat, r_hat)`` of the online episodes, the optimistic
    rewards ``r_hat + c * 7 (H) L / sqrt(N_h(s, a))`` (UCBVI-CH's bonus,
    ``+inf`` where ``N = 0``), and the KL-regularised backward induction
    (:func:`kl_regularized_backward_induction`) towards ``pi^BC`` with ``Q_h`` clipped
    at ``H - h``:

    .. math::

        \\pi^k_h(a|s) \\propto \\pi^{BC}_h(a|s)\\, \\exp\\big(\\bar Q^k_h(s, a) /
        \\lambda\\big).

    The episode is played with ``pi^k``, which is also the policy output after ``k``
    episodes (its exact suboptimality is the env's ``info.gap``). ``lambda -> 0``
    recovers UCBVI (greedy in ``bar Q``); ``lambda -> inf`` plays ``pi^BC``.

    Differences from the paper: its solver (UCBVI-Ent+, from Tiapkin et al. 2023,
    "Fast Rates for Maximum Entropy Exploration") uses Bernstein-type bonuses built
    for regularised values, an upper and a lower value and a stopping rule
    (best-policy identification); here the bonus is UCBVI-CH's, scaled by
    ``bonus_scale`` (1 = Azar et al.'s constants; the default is the tabular
    registry's UCBVI-CH scale), and the run lasts a fixed number of episodes.

    Args:
        num_states, num_actions, horizon: S, A, H (fix shapes).
        num_episodes: K, for the log term ``L = ln(5 S A K H / delta)``.
        lam: lambda > 0, the KL weight (traceable); see :func:`theory_lambda`.
        smoothing: kappa > 0 of the behaviour cloning (traceable).
        bonus_scale: c > 0 (traceable).
        delta: confidence in (0, 1) (traceable).
        lam_per_demonstration: use ``lambda = lam * max(N^E, 1)`` with ``N^E`` the
            number of demonstrations in the observation (the theorem's scaling
            ``lambda ~ epsilon N^E``, :func:`theory_lambda`, with ``lam`` in the role
            of ``epsilon / (2 S A H)``), so one learner serves a grid over ``N^E``.
        max_return: a known bound on returns: ``Q_h`` is clipped at
            ``min(H - h, max_return)`` (``None``: ``H - h``). With a tight bound the
            optimistic values of unexplored actions tie with the demonstrated ones
            and the reference ``pi^BC`` breaks the tie.

    Returns:
        A :class:`~algorithms.core.Learner` with state :class:`DemoRegularizedState`.

    References:
        Tiapkin, Belomestny, Calandriello, Moulines, Munos, Naumov, Perrault, Valko
        and Menard, "Demonstration-Regularized RL", ICLR 2024: demonstration-regularised
        BPI (Algorithm 1, "Demonstration-regularized RL"; its Theorem for finite MDPs:
        an ``epsilon``-optimal policy after
        ``O~(S^3 A^2 H^6 / (epsilon^2 N^E))`` online episodes, given
        ``N^E`` demonstrations of an ``epsilon_E``-optimal expert,
        ``epsilon_E <= epsilon``). Algorithm/theorem numbers and the polynomial are
        from memory of the paper (its text was not available here), unverified; the
        ``1 / (epsilon^2 N^E)`` rate is the abstract's.
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    horizon = check_int(horizon, "horizon")
    for value, name in (
        (lam, "lam"),
        (smoothing, "smoothing"),
        (bonus_scale, "bonus_scale"),
        (delta, "delta"),
        (num_episodes, "num_episodes"),
    ):
        check_positive(value, name)
    dtype = float_dtype()
    caps = jnp.arange(horizon, 0, -1).astype(dtype)  # [H] H - h
    if max_return is not None:
        caps = jnp.minimum(caps, float(max_return))

    def init(key: Key) -> DemoRegularizedState:
        del key
        return DemoRegularizedState(init_counts(num_states, num_actions, horizon))

    def act(key: Key, state: DemoRegularizedState, obs):
        del key
        reference = behavior_cloning(obs, num_states, num_actions, smoothing)
        p_hat, r_hat, visits, _ = empirical_model(state.counts, stationary=False)
        log_term = ucbvi_log_term(
            num_states, num_actions, horizon, num_episodes, delta
        ).astype(dtype)
        bonus = bonus_scale * ucbvi_hoeffding_bonus(visits, horizon, log_term)
        weight = lam
        if lam_per_demonstration:
            weight = lam * jnp.maximum(jnp.sum(obs.mask), 1.0)
        _, _, policy = kl_regularized_backward_induction(
            p_hat, r_hat + bonus, reference, weight, caps
        )
        return policy, state

    def update(state: DemoRegularizedState, obs, action, feedback):
        del obs, action
        return DemoRegularizedState(update_counts(state.counts, feedback))

    return Learner(init, act, update)


class BehaviorCloningState(NamedTuple):
    """State of :func:`behavior_cloning_learner` (nothing is learned online)."""

    step: Array  # [] int32 episodes played


def behavior_cloning_learner(
    num_states: int, num_actions: int, horizon: int, *, smoothing=1.0
) -> Learner:
    """Plays the behaviour-cloning policy :func:`behavior_cloning` in every episode
    (the ``lambda -> inf`` limit of :func:`demo_regularized_ucbvi`; a baseline that
    uses only the demonstrations)."""
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    check_int(horizon, "horizon")
    check_positive(smoothing, "smoothing")

    def init(key: Key) -> BehaviorCloningState:
        del key
        return BehaviorCloningState(jnp.zeros((), jnp.int32))

    def act(key: Key, state: BehaviorCloningState, obs):
        del key
        return behavior_cloning(obs, num_states, num_actions, smoothing), state

    def update(state: BehaviorCloningState, obs, action, feedback):
        del obs, action, feedback
        return BehaviorCloningState(state.step + 1)

    return Learner(init, act, update)


DEMONSTRATION_ALGORITHMS: dict[str, Callable[[int, int, int, int], Learner]] = {
    "demo_ucbvi": lambda s, a, h, k: demo_regularized_ucbvi(s, a, h, k),
    "behavior_cloning": lambda s, a, h, k: behavior_cloning_learner(s, a, h),
}
