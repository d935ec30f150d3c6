"""Tabular reward-free exploration: RF-UCRL's exploration and planning phases."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import Key, Learner, check_int, check_positive, float_dtype
from algorithms.tabular.planning import (
    greedy_policy,
    greedy_policy_random_ties,
    optimal_q_values,
)
from algorithms.tabular.statistics import (
    VisitCounts,
    empirical_model,
    init_counts,
    update_counts,
)
from envs.reward_free import RewardFreeAction  # the setting's action type

Array = jax.Array

__all__ = [
    "RFUCRLState",
    "rf_ucrl",
    "rf_ucrl_error_bounds",
    "rf_ucrl_plan",
]


def rf_ucrl_error_bounds(counts: VisitCounts, delta, scale=1.0) -> Array:
    """RF-UCRL's upper bounds ``W [H, S, A]`` on the estimation error of any value.

    .. math::

        W_h(s, a) = \\min\\Big(H - h,\\;
        c (H - h) \\sqrt{\\frac{2 \\beta(n, \\delta)}{n}}
        + \\sum_{s'} \\hat P_h(s' | s, a) \\max_b W_{h+1}(s', b)\\Big),
        \\quad \\beta(n, \\delta) = \\ln(3 S A H / \\delta) + S \\ln(8 e (n + 1)),

    ``W = H - h`` where ``n = N_h(s, a) = 0``, ``W_H = 0``; ``c = scale``.
    """
    p_hat, _, visits, _ = empirical_model(counts, stationary=False)
    horizon, num_states, num_actions = visits.shape
    dtype = visits.dtype
    remaining = jnp.arange(horizon, 0, -1).astype(dtype)
    beta = jnp.log(3.0 * num_states * num_actions * horizon / delta) + num_states * (
        jnp.log(8.0 * jnp.e * (visits + 1.0))
    )
    width = jnp.sqrt(2.0 * beta / jnp.maximum(visits, 1.0))

    def backward_step(w_next, step):
        p_h, n_h, width_h, cap = step
        w_h = scale * cap * width_h + jnp.einsum("sat,t->sa", p_h, w_next)
        w_h = jnp.where(n_h > 0, jnp.minimum(cap, w_h), cap)
        return jnp.max(w_h, axis=-1), w_h

    _, w = jax.lax.scan(
        backward_step,
        jnp.zeros((num_states,), dtype),
        (p_hat, visits, width, remaining),
        reverse=True,
    )
    return w


def rf_ucrl_plan(counts: VisitCounts, reward_functions: Array) -> Array:
    """The planning phase: optimal policies ``[R, H, S, A]`` of ``(P_hat, r_i)``.

    Unvisited ``(s, a)`` have a zero transition row (no future value).
    """
    p_hat, _, _, _ = empirical_model(counts, stationary=False)
    return jax.vmap(lambda r: greedy_policy(optimal_q_values(p_hat, r)))(
        reward_functions
    )


class RFUCRLState(NamedTuple):
    counts: VisitCounts


def rf_ucrl(
    num_states: int, num_actions: int, horizon: int, *, delta=0.1, bonus_scale=1.0
) -> Learner:
    """RF-UCRL: explore greedily with respect to the error bounds ``W``, plan on P_hat.

    Exploration phase (each episode): play ``argmax_a W_h(s, a)`` of
    :func:`rf_ucrl_error_bounds` (ties at random), which drives the agent where the
    empirical model is least certain about any value; the paper stops once
    ``max_a W_0(s_1, a) <= epsilon / 2``, here the runner fixes the number of
    episodes and the figure reads the suboptimality at every one. Planning phase
    (:func:`rf_ucrl_plan`): for each revealed reward function, the optimal policy of
    the empirical model. The learner's action is ``(explore, planned)`` for
    ``envs.reward_free``; the observation is the ``[R, H, S, A]`` reward functions,
    used only by the planning phase.

    Args:
        num_states, num_actions, horizon: S, A, H.
        delta: confidence (traceable).
        bonus_scale: c > 0 multiplying the confidence width (1 = the paper's).

    References:
        Kaufmann, Menard, Darwiche Domingues, Jonsson, Leurent and Valko, "Adaptive
        Reward-Free Exploration", ALT 2021: RF-UCRL (Algorithm 1), sample complexity
        ``O~(S A H^4 / epsilon^2 (ln(1/delta) + S))`` (Theorem 1). The exact form of
        ``beta`` and the theorem number are from memory of the paper, unverified.
        Jin, Krishnamurthy, Simchowitz and Yu, "Reward-Free Exploration for
        Reinforcement Learning", ICML 2020 (the reward-free setting).
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    horizon = check_int(horizon, "horizon")
    check_positive(delta, "delta")
    check_positive(bonus_scale, "bonus_scale")

    def init(key: Key) -> RFUCRLState:
        del key
        return RFUCRLState(init_counts(num_states, num_actions, horizon))

    def act(key: Key, state: RFUCRLState, obs):
        w = rf_ucrl_error_bounds(state.counts, delta, bonus_scale)
        explore = greedy_policy_random_ties(key, w)
        planned = rf_ucrl_plan(state.counts, jnp.asarray(obs, float_dtype()))
        return RewardFreeAction(explore, planned), state

    def update(state: RFUCRLState, obs, action, feedback) -> RFUCRLState:
        del obs, action
        return RFUCRLState(update_counts(state.counts, feedback))

    return Learner(init, act, update)
