"""Sleeping experts: only a subset of the experts is awake (available) each round.

Before round ``t`` the learner observes the awake set ``A_t`` (a mask ``[N]``, never
empty), plays a distribution ``p_t`` supported on ``A_t`` and then sees the loss
vector ``l_t in [0, 1]^N`` (``OCOFeedback.grad``; entries of sleeping experts are
reported but do not count). The *sleeping regret* to expert ``i`` counts only the
rounds on which ``i`` is awake (Freund, Schapire, Singer, Warmuth 1997; Blum and
Mansour 2007),

.. math:: R_{T,i} = \\sum_{t \\le T:\\ i \\in A_t} \\big(\\langle p_t, l_t\\rangle
          - l_{t,i}\\big).

The state carries the vector ``R_t`` ([N]); ``info.regret`` is the telescoped
increment of ``max_i R_{t,i}`` (so the runner's cumulative sum is the sleeping regret
to the best expert for the horizon it is read at, the analogue of the best fixed point
in hindsight), ``info.first_expert`` the increment of ``R_{t,0}`` (expert 0 is the best
one of the stochastic instance). Per-expert regrets of a whole run can be recomputed
from the feedback stream (the tests do).

Instances: each expert ``i`` is awake independently with probability ``awake[i]``
(expert 0 is forced awake when the draw leaves nobody awake); losses are Bernoulli
with means ``means[i]`` (stochastic) or the deterministic phased sequence of
:func:`envs.oco.experts` (adversarial).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.adversarial_bandits import PhasedLossParams, phase_index
from envs.core import (
    Env,
    KahanSum,
    check_int,
    float_dtype,
    is_concrete,
    kahan_add,
)
from envs.oco import LinearLoss, OCOFeedback, check_in_domain, make_domain

Array = jax.Array


class SleepingParams(NamedTuple):
    """A sleeping-experts instance."""

    awake: Array  # [N] probability that each expert is awake
    means: Array  # [N] Bernoulli mean losses (stochastic regime)
    phases: PhasedLossParams  # deterministic phased losses (adversarial regime)
    adversarial: Array  # [] 1.0 -> phased losses, 0.0 -> Bernoulli


class SleepingInfo(NamedTuple):
    """Oracle quantities of one round (summed by the runner)."""

    regret: Array  # [] increment of max_i R_{t,i}
    first_expert: Array  # [] increment of R_{t,0}
    loss: Array  # [] <p_t, l_t>


class SleepingState(NamedTuple):
    """What changes during a run."""

    round_index: Array  # [] int32
    awake: Array  # [N] the awake mask of the coming round (1.0 / 0.0)
    sleeping_regret: KahanSum  # [N] R_{t,i}


def draw_awake(key, probs: Array) -> Array:
    """An awake mask ``[N]`` (each expert awake w.p. ``probs[i]``; expert 0 when
    nobody is)."""
    mask = (jax.random.uniform(key, probs.shape, probs.dtype) < probs).astype(
        probs.dtype
    )
    nobody = jnp.sum(mask) == 0
    return mask.at[0].set(jnp.where(nobody, 1.0, mask[0]))


def sleeping_experts(
    num_experts: int = 8,
    *,
    awake=None,
    means=None,
    adversarial: bool = False,
    first_phase: float = 10.0,
    growth: float = 1.5,
) -> Env:
    """The sleeping-experts environment (module docstring).

    Args:
        num_experts: N (static).
        awake: ``[N]`` awake probabilities; default ``linspace(0.9, 0.3, N)``.
        means: ``[N]`` Bernoulli mean losses; default ``0.4`` for expert 0 and
            ``0.5`` otherwise.
        adversarial: deterministic phased losses instead of Bernoulli ones.
        first_phase, growth: the phased sequence (as :func:`envs.oco.experts`).

    Returns:
        An Env: ``obs`` is the awake mask ``[N]``, ``feedback`` an
        :class:`envs.oco.OCOFeedback` (``grad`` the loss vector), ``info``
        :class:`SleepingInfo`.
    """
    num_experts = check_int(num_experts, "num_experts", minimum=2)
    domain = make_domain("simplex", num_experts)
    awake = np.linspace(0.9, 0.3, num_experts) if awake is None else awake
    awake = np.asarray(awake, np.float64)
    if means is None:
        means = np.full(num_experts, 0.5)
        means[0] = 0.4
    means = np.asarray(means, np.float64)
    for name, v in (("awake", awake), ("means", means)):
        if v.shape != (num_experts,) or np.any(v < 0) or np.any(v > 1):
            raise ValueError(f"{name} must be {num_experts} numbers in [0, 1]")
    even = np.linspace(0.0, 1.0, num_experts)
    dtype = float_dtype()
    params = SleepingParams(
        jnp.asarray(awake, dtype),
        jnp.asarray(means, dtype),
        PhasedLossParams(
            jnp.asarray(np.stack([even, even[::-1]]), dtype),
            jnp.asarray(first_phase, dtype),
            jnp.asarray(growth, dtype),
        ),
        jnp.asarray(float(adversarial), dtype),
    )

    def reset(key, params):
        z = jnp.zeros((num_experts,), dtype)
        mask = draw_awake(key, params.awake)
        return SleepingState(jnp.zeros((), jnp.int32), mask, KahanSum(z, z)), mask

    def step(key, state, action, params):
        check_in_domain(domain, action)
        if is_concrete(action) and is_concrete(state.awake):
            asleep = np.sum(np.asarray(action) * (1 - np.asarray(state.awake)))
            if asleep > 1e-5:
                raise ValueError(f"the action puts mass {asleep} on sleeping experts")
        p = jnp.asarray(action, dtype)
        k_loss, k_awake = jax.random.split(key)
        draws = (
            jax.random.uniform(k_loss, (num_experts,), dtype) < params.means
        ).astype(dtype)
        phased = params.phases.phase_losses[
            phase_index(params.phases, state.round_index) % 2
        ]
        losses = jnp.where(params.adversarial > 0.5, phased, draws)
        loss = jnp.dot(p, losses)
        increments = state.awake * (loss - losses)
        previous = state.sleeping_regret.value
        regret = kahan_add(state.sleeping_regret, increments)
        info = SleepingInfo(
            jnp.max(regret.value) - jnp.max(previous), increments[0], loss
        )
        mask = draw_awake(k_awake, params.awake)
        new = SleepingState(state.round_index + 1, mask, regret)
        feedback = OCOFeedback(loss, losses, LinearLoss(losses))
        return new, mask, feedback, info

    return Env(reset, step, params, None, "sleeping_experts")
