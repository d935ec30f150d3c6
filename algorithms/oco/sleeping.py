"""Sleeping experts by exponential weights on the sleeping regrets.

The learner sees the awake mask ``A_t`` (``obs``, ``[N]``) before playing and the loss
vector after (``feedback.grad``; ``envs.oco_sleeping``). The same two helpers
(:func:`awake_distribution`, :func:`sleeping_log_weights`) drive the groupwise-regret
reduction (:func:`algorithms.oco.groupwise.groupwise`), whose experts are per-group
regressors awake on their group's rounds.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.core import Array, Learner, check_int, check_positive, float_dtype
from algorithms.oco.gradient import checked_grad


def awake_distribution(log_weights: Array, awake: Array) -> Array:
    """``p_i = w_i 1[i awake] / sum_{j awake} w_j`` (log-sum-exp; ``awake`` must
    have at least one positive entry)."""
    return jax.nn.softmax(jnp.where(awake > 0, log_weights, -jnp.inf))


def sleeping_log_weights(log_weights: Array, awake: Array, gain: Array, eta) -> Array:
    """``log w_i += eta 1[i awake] gain_i`` (``gain_i = <p, l> - l_i``, the
    instantaneous sleeping regret), renormalised so the largest log-weight is 0."""
    new = log_weights + eta * jnp.where(awake > 0, gain, 0.0)
    return new - jnp.max(new)


class SleepingHedgeState(NamedTuple):
    """Sleeping Hedge."""

    log_weights: Array  # [N] eta * R_{t,i} (sleeping regrets), shifted to max 0


def sleeping_hedge(
    num_experts: int,
    *,
    step_size: float | None = None,
    horizon: int | None = None,
) -> Learner:
    """Sleeping experts by exponential weights (Freund, Schapire, Singer, Warmuth
    1997; Blum and Mansour 2007).

    .. math::

        p_{t,i} = \\frac{1[i \\in A_t]\\, w_{t,i}}{\\sum_{j \\in A_t} w_{t,j}},\\qquad
        w_{t+1,i} = w_{t,i}\\, e^{\\eta (\\langle p_t, l_t\\rangle - l_{t,i})}
        \\ \\ (i \\in A_t),

    i.e. ``w_{t,i} = exp(eta R_{t-1,i})`` with ``R`` the sleeping regret. For losses in
    ``[0, 1]``, Hoeffding's lemma gives ``sum_{i in A_t} w_{t+1,i} <= e^{eta^2/8}
    sum_{i in A_t} w_{t,i}`` (the sleeping weights do not move), so the potential
    ``sum_i w_i`` grows by at most ``e^{eta^2/8}`` per round and, on every sequence,

    .. math:: R_{T,i} \\le \\frac{\\ln N}{\\eta} + \\frac{\\eta T}{8}
              = \\sqrt{T \\ln N / 2}\\ \\text{ for }\\ \\eta = \\sqrt{8 \\ln N / T}

    for every expert ``i`` (the default rate, given ``horizon``). The multiplicative
    form is Blum and Mansour's for time-selection functions / sleeping experts
    ("From External to Internal Regret", JMLR 2007, Section 5; their Theorem 16 gives
    ``O(sqrt(T_i log N))`` with per-expert rates; section and theorem numbers from
    memory, unverified); the bound above is derived in this docstring and checked on
    every run in the tests.

    Args:
        num_experts: N (static).
        step_size: eta > 0 (traced); default ``sqrt(8 ln N / horizon)``.
        horizon: T, for the default rate.

    Returns:
        A Learner; ``obs`` is the awake mask ``[N]`` and the action ``p_t``.
    """
    num_experts = check_int(num_experts, "num_experts", minimum=2)
    if step_size is None:
        if horizon is None:
            raise ValueError("sleeping_hedge needs step_size or horizon")
        step_size = float(np.sqrt(8 * np.log(num_experts) / check_int(horizon, "T")))
    check_positive(step_size, "step_size")

    def check_awake(obs):
        if np.shape(obs) != (num_experts,):
            raise ValueError(
                f"sleeping_hedge takes the awake mask [{num_experts}] as obs, "
                f"got {obs!r}"
            )

    def init(key):
        return SleepingHedgeState(jnp.zeros((num_experts,), float_dtype()))

    def act(key, state, obs):
        check_awake(obs)
        return awake_distribution(state.log_weights, obs), state

    def update(state, obs, action, feedback):
        check_awake(obs)
        losses = checked_grad(feedback)
        p = awake_distribution(state.log_weights, obs)
        gain = jnp.dot(p, losses) - losses
        return SleepingHedgeState(
            sleeping_log_weights(state.log_weights, obs, gain, step_size)
        )

    return Learner(init, act, update)


def awake_hedge(num_experts: int, *, step_size: float) -> Learner:
    """The naive baseline: Hedge on each expert's cumulative loss over the rounds it
    was awake, restricted to the awake set (``p_t ∝ 1[i in A_t] e^{-eta L_i}``). It
    ignores how often an expert sleeps, so an expert that is rarely awake looks
    better than a frequently awake one with a lower mean loss; its sleeping regret can
    grow linearly (``experiments.oco_sleeping``)."""
    num_experts = check_int(num_experts, "num_experts", minimum=2)
    check_positive(step_size, "step_size")

    def init(key):
        return SleepingHedgeState(jnp.zeros((num_experts,), float_dtype()))

    def act(key, state, obs):
        return awake_distribution(state.log_weights, obs), state

    def update(state, obs, action, feedback):
        losses = checked_grad(feedback)
        new = state.log_weights - step_size * jnp.where(obs > 0, losses, 0.0)
        return SleepingHedgeState(new - jnp.max(new))

    return Learner(init, act, update)
