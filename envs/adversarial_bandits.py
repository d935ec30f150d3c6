"""Adversarial multi-armed bandits: oblivious loss sequences and their exact regret.

Every environment here fixes, before the run, a sequence of loss vectors
``l_0, l_1, ... in [0, 1]^K`` that does not depend on the learner's actions (an
*oblivious* adversary), and hands the learner the reward ``1 - l_t(a_t)`` of the pulled
arm. The loss vector of round ``t`` is a pure function of the instance ``params``, the
round index ``t`` (0-based) and, for random sequences, the step key; no ``[T, K]`` table
is ever stored.

**Regret against the best fixed arm in hindsight.** The state carries the round index
and the per-arm cumulative losses ``L_t(i) = sum_{s <= t} l_s(i)``. Round ``t`` reports

.. math::

    r_t = l_t(a_t) - \\big(\\min_i L_t(i) - \\min_i L_{t-1}(i)\\big),

so the running sum equals ``sum_{s <= t} l_s(a_s) - min_i L_t(i)`` on every round (the
sum telescopes; ``L_{-1} = 0``): the runner's cumulative ``regret`` is the regret
against the best fixed arm *for the horizon it is read at*. ``best_arm_played`` is 1
when the pulled arm is a leader, ``L_t(a_t) = min_i L_t(i)``. ``pseudo_regret`` is the
same telescoped quantity for the *expected* losses ``m_t = E[l_t]`` (the pseudo-regret
``max_i E[sum_t l_t(a_t) - l_t(i)]`` of Zimmert and Seldin 2021, for the actions
played); for a deterministic sequence it equals ``regret``, and in the stochastically
constrained regime it is the gap ``Delta_{a_t}`` of the pulled arm.

**Precision.** Cumulative losses are kept in ``float_dtype()`` with Kahan's compensated
summation (the rounding error of each addition is carried in a second array and fed back
into the next one), so ``L_t`` stays within one unit in the last place of the exact sum.
Measured in float32 over ``10^6`` rounds: error 0.006 for uniform losses (sum ``5e5``)
and 0.0015 for a constant loss 0.1, where naive accumulation is off by 3.7 and 958. The
increment of the minimum is the difference of two stored floats within a factor two of
each other once the minimum exceeds 1, which is exact (Sterbenz's lemma), so the
telescoped sum loses nothing beyond the rounding of ``L_t`` itself. Under
``jax_enable_x64`` everything is float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, KahanSum, check_int, float_dtype, is_concrete, kahan_add

Array = jax.Array

__all__ = [
    "AdversarialBanditInfo",
    "AdversarialBanditState",
    "KahanSum",
    "PhasedLossParams",
    "kahan_add",
    "oblivious_bandit_from_fn",
    "phase_index",
    "phased_losses",
    "stochastically_constrained_bandit",
    "switching_bandit",
]


class AdversarialBanditInfo(NamedTuple):
    """Per-round oracle quantities of an adversarial bandit (additive over rounds)."""

    regret: Array  # [] telescoped increment against the best fixed arm (realised)
    best_arm_played: Array  # [] 1.0 when the pulled arm leads the realised L_t
    pseudo_regret: Array  # [] the same increment for the expected losses E[l_t]


class AdversarialBanditState(NamedTuple):
    """What changes during a run of an adversarial bandit."""

    round_index: Array  # [] int32 rounds played so far (next round's 0-based index)
    cumulative_losses: KahanSum  # [K] realised L_t(i)
    cumulative_mean_losses: KahanSum  # [K] expected sum_s E[l_s(i)]


# A loss generator: (key, params, t) -> (losses [K], expected losses [K]).
LossesFn = Callable[[jax.Array, object, Array], tuple[Array, Array]]


def _adversarial_env(
    name: str,
    num_arms: int,
    losses_fn: LossesFn,
    params,
    sample_params=None,
) -> Env:
    """An Env over an oblivious loss generator, with the module's telescoped regret."""

    def reset(key, params):
        del key, params
        zeros = jnp.zeros((num_arms,), float_dtype())
        state = AdversarialBanditState(
            round_index=jnp.zeros((), jnp.int32),
            cumulative_losses=KahanSum(zeros, zeros),
            cumulative_mean_losses=KahanSum(zeros, zeros),
        )
        return state, ()

    def step(key, state, action, params):
        losses, mean_losses = losses_fn(key, params, state.round_index)
        dtype = state.cumulative_losses.total.dtype
        losses = losses.astype(dtype)
        mean_losses = mean_losses.astype(dtype)
        realised = kahan_add(state.cumulative_losses, losses)
        expected = kahan_add(state.cumulative_mean_losses, mean_losses)
        leader = jnp.min(realised.total)  # min_i L_t(i)
        previous_leader = jnp.min(state.cumulative_losses.total)  # min_i L_{t-1}(i)
        mean_leader = jnp.min(expected.total)
        previous_mean_leader = jnp.min(state.cumulative_mean_losses.total)
        info = AdversarialBanditInfo(
            regret=losses[action] - (leader - previous_leader),
            best_arm_played=(realised.total[action] == leader).astype(dtype),
            pseudo_regret=mean_losses[action] - (mean_leader - previous_mean_leader),
        )
        new_state = AdversarialBanditState(state.round_index + 1, realised, expected)
        return new_state, (), 1.0 - losses[action], info

    return Env(reset, step, params, sample_params, name)


# --------------------------------------------------------------------------------------
# Loss vectors alternating between two values in geometrically growing phases.
# --------------------------------------------------------------------------------------


class PhasedLossParams(NamedTuple):
    """Two loss vectors alternating in phases of geometrically growing length.

    Phase ``j = 0, 1, ...`` covers the rounds ``round(s_j) <= t < round(s_{j+1})`` with
    ``s_j = first_phase (growth^j - 1) / (growth - 1)`` (its length is
    ``first_phase growth^j`` up to rounding); in phase ``j`` the (expected) loss vector
    is ``phase_losses[j mod 2]``. Every field is an array, so ``vmap`` sweeps over
    instances.
    """

    phase_losses: Array  # [2, K] (expected) losses in even and in odd phases
    first_phase: Array  # [] length of phase 0, >= 1
    growth: Array  # [] ratio of consecutive phase lengths, > 1


def phase_index(params: PhasedLossParams, t: Array) -> Array:
    """The phase ``j`` holding round ``t`` (0-based), as an int32 scalar.

    Phase ``j`` is ``round(s_j) <= t < round(s_{j+1})`` with
    ``s_j = first_phase (growth^j - 1) / (growth - 1)``: boundaries are rounded to
    integers so that a boundary that is an integer in exact arithmetic (``s_2 = 26`` for
    ``first_phase = 10``, ``growth = 1.6``) does not move with the rounding of
    ``growth^j``. The guess ``floor(log_growth(1 + t (growth - 1) / first_phase))`` is
    corrected by one against the rounded boundaries (enough since every phase lasts at
    least one round).
    """
    dtype = params.phase_losses.dtype
    t = jnp.asarray(t, dtype)
    growth = params.growth.astype(dtype)
    first = params.first_phase.astype(dtype)

    def start(j):
        return jnp.round(first * (growth**j - 1.0) / (growth - 1.0))

    guess = jnp.floor(jnp.log1p(t * (growth - 1.0) / first) / jnp.log(growth))
    guess = jnp.maximum(guess, 0.0)
    guess = guess - (start(guess) > t).astype(dtype)
    guess = guess + (start(guess + 1.0) <= t).astype(dtype)
    return guess.astype(jnp.int32)


def phased_losses(params: PhasedLossParams, t: Array) -> Array:
    """The loss vector ``phase_losses[phase_index(t) mod 2]`` of round ``t``, [K]."""
    return params.phase_losses[phase_index(params, t) % 2]


def _check_phases(first_phase, growth) -> None:
    if is_concrete(first_phase) and not float(first_phase) >= 1:
        raise ValueError(f"first_phase must be >= 1 (rounds), got {first_phase!r}")
    if is_concrete(growth) and not float(growth) > 1:
        raise ValueError(
            f"growth must be > 1 (phases grow geometrically), got {growth!r}"
        )


def _randomise_phases(key, params: PhasedLossParams) -> PhasedLossParams:
    """A random relabelling of the arms and a random phase offset in log-time.

    ``first_phase`` is multiplied by ``growth^u`` with ``u ~ U[0, 1)``, which shifts the
    phase boundaries by a uniform fraction of a phase on the log scale.
    """
    k_perm, k_offset = jax.random.split(key)
    num_arms = params.phase_losses.shape[1]
    perm = jax.random.permutation(k_perm, num_arms)
    u = jax.random.uniform(k_offset, (), params.phase_losses.dtype)
    return PhasedLossParams(
        params.phase_losses[:, perm],
        params.first_phase * params.growth**u,
        params.growth,
    )


def _phased_params(phase_losses, first_phase, growth) -> PhasedLossParams:
    dtype = float_dtype()
    return PhasedLossParams(
        jnp.asarray(phase_losses, dtype),
        jnp.asarray(first_phase, dtype),
        jnp.asarray(growth, dtype),
    )


def switching_bandit(
    num_arms: int = 2,
    *,
    gap: float = 0.1,
    first_phase: float = 10.0,
    growth: float = 3.0,
    phase_losses=None,
) -> Env:
    """Deterministic losses that switch between two vectors in lengthening phases.

    .. math::

        l_t = \\text{phase\\_losses}[j(t) \\bmod 2], \\qquad
        j(t) = \\max\\{j : \\mathrm{round}(s_j) \\le t\\}, \\quad
        s_j = n_0 \\frac{g^j - 1}{g - 1},

    so phase ``j`` lasts about ``n_0 g^j`` rounds (``n_0 = first_phase``,
    ``g = growth``; see :func:`phase_index`). The default loss vectors switch the
    *level* of all losses: even phases have low losses ``(0, gap, ..., gap)``, odd
    phases high losses ``(1 - gap, 1, ..., 1)``. Arm 0 is better by ``gap`` on every
    round, so it is the best fixed arm at every horizon, and EXP3 or Tsallis-INF have
    ``O(sqrt(K T log K))`` regret here as on any oblivious sequence.

    UCB1 has linear regret. It compares empirical means collected at different times:
    when the losses drop, the first arm it pulls after the switch raises its own index
    and keeps being pulled (a pull with a reward above an arm's mean raises its index),
    and when they rise it splits its pulls roughly in proportion to past pull counts; so
    it can lock onto the suboptimal arm for whole phases. Measured (UCB1 with
    ``alpha = 2``, default instance): regret / T = 0.090 at ``T = 10^3``, 0.096 at
    ``10^4``, 0.099 at ``10^5`` and 0.0999 at ``10^6``, where ``gap = 0.1`` is the most
    possible and the uniform policy gets ``gap / 2``. Over 32 instances from
    ``sample_params``, UCB1's mean regret / T is 0.032 at ``10^4`` and 0.031 at ``10^5``
    (it locks onto the wrong arm on about a third of them) against 0.0013 at ``10^5``
    for anytime EXP3. This is the deterministic counterpart of the stochastically
    constrained environment (:func:`stochastically_constrained_bandit`) that Zimmert
    and Seldin (2021) use in their experiments.

    Any other pair of loss vectors may be given as ``phase_losses`` (``[2, K]``), for
    instance ``[[0, 1], [1, 0]]``, which swaps the best arm every phase. Note that this
    pure best-arm switch does *not* defeat UCB1: with 0/1 losses the newly good arm's
    first pull lifts its index above the old arm's and UCB1 follows each switch within
    a few rounds (measured with ``first_phase = 16``, ``growth = 1.6``: regret / T =
    -0.44 at ``10^4``, i.e. it beats the best fixed arm).

    The deterministic dynamics of UCB1 on a deterministic sequence depend on where the
    phase boundaries fall; ``sample_params`` draws instances with a random phase offset
    (``first_phase`` times ``growth^u``, ``u ~ U[0, 1)``) and a random relabelling of
    the arms, so that averages over instances are smooth in ``T``.

    Args:
        num_arms: number of arms K >= 2 (fixes shapes).
        gap: loss advantage of arm 0 in the default loss vectors, in (0, 1).
        first_phase: length ``n_0 >= 1`` of phase 0 (need not be an integer).
        growth: ratio ``g > 1`` of consecutive phase lengths.
        phase_losses: optional ``[2, K]`` loss vectors in [0, 1] for even and odd
            phases; replaces the default built from ``gap``.

    Returns:
        An :class:`~envs.core.Env` with ``params`` a :class:`PhasedLossParams` and
        ``sample_params``; state :class:`AdversarialBanditState`; info
        :class:`AdversarialBanditInfo` (``pseudo_regret == regret``).

    References:
        Zimmert and Seldin, "Tsallis-INF: An Optimal Algorithm for Stochastic and
        Adversarial Bandits", JMLR 2021 (experiments: UCB1 and Thompson sampling suffer
        almost linear regret in an environment alternating in exponentially growing
        phases, while Tsallis-INF's regret is logarithmic). Auer, Cesa-Bianchi, Freund
        and Schapire, "The Nonstochastic Multiarmed Bandit Problem", SIAM J. Comput.
        2002 (EXP3, Corollary 3.2: ``O(sqrt(T K log K))`` on every oblivious sequence).
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    _check_phases(first_phase, growth)
    if phase_losses is None:
        if not 0 < float(gap) < 1:
            raise ValueError(f"gap must lie in (0, 1), got {gap!r}")
        low = np.full(num_arms, float(gap))
        low[0] = 0.0
        phase_losses = np.stack([low, low + 1.0 - float(gap)])
    else:
        phase_losses = np.asarray(phase_losses, dtype=np.float64)
        if phase_losses.shape != (2, num_arms):
            raise ValueError(
                f"phase_losses must have shape (2, num_arms) = (2, {num_arms}), got "
                f"{phase_losses.shape}"
            )
        if not np.all((phase_losses >= 0) & (phase_losses <= 1)):
            raise ValueError(f"phase_losses must lie in [0, 1], got {phase_losses}")
    params = _phased_params(phase_losses, first_phase, growth)

    def losses_fn(key, params, t):
        del key
        losses = phased_losses(params, t)
        return losses, losses

    def sample_params(key):
        return _randomise_phases(key, params)

    return _adversarial_env("switching", num_arms, losses_fn, params, sample_params)


def stochastically_constrained_bandit(
    num_arms: int = 2,
    *,
    gap: float = 0.1,
    levels=None,
    first_phase: float = 10.0,
    growth: float = 3.0,
) -> Env:
    """Bernoulli losses whose means drift together; the best arm stays ``gap`` ahead.

    .. math::

        l_t(i) \\sim \\text{Bernoulli}\\big(c_t + \\Delta_i\\big), \\quad
        \\Delta_0 = 0,\\ \\Delta_i = \\text{gap}\\ (i \\ge 1), \\quad
        c_t = \\text{levels}[j(t) \\bmod 2],

    with ``j(t)`` the phase of round ``t`` (phase ``j`` lasts ``first_phase growth^j``
    rounds, as in :func:`switching_bandit`). The common level ``c_t`` is an oblivious
    adversary's choice, but ``E[l_t(i) - l_t(0)] = Delta_i`` on every round: this is the
    *stochastically constrained adversarial* regime (Wei and Luo 2018; Zimmert and
    Seldin 2021, Section 2), where Tsallis-INF's pseudo-regret is
    ``O(sum_{i != i*} log(T) / Delta_i)`` (Zimmert and Seldin 2021). The default
    levels ``(0, 1 - gap)`` alternate the mean losses between ``(0, gap, ..., gap)`` and
    ``(1 - gap, 1, ..., 1)`` in exponentially growing phases, the construction of their
    experiments on which UCB1 and Thompson sampling suffer almost linear regret.
    Measured here (UCB1 with ``alpha = 2``, 16 seeds, default instance): mean regret / T
    = 0.044 at ``T = 10^4``, 0.039 at ``10^5`` and 0.038 at ``10^6`` (UCB1 locks onto
    the wrong arm in about 3 runs out of 8), against 0.0015 at ``10^5`` for anytime
    EXP3.

    Randomness: round ``t`` draws ``K`` independent uniforms ``u_t(i)`` from the step
    key and sets ``l_t(i) = 1[u_t(i) < c_t + Delta_i]``; the draws do not depend on the
    action (common random numbers across learners). ``regret`` is against the best fixed
    arm for the *realised* losses; ``pseudo_regret`` is ``Delta_{a_t}``, the gap of the
    pulled arm.

    Args:
        num_arms: number of arms K >= 2 (fixes shapes).
        gap: the constant gap ``Delta`` in (0, 1) between arm 0 and every other arm.
        levels: the two common levels ``(c_even, c_odd)``, each in ``[0, 1 - gap]``;
            default ``(0, 1 - gap)``. Equal levels give a stationary stochastic bandit.
        first_phase: length ``>= 1`` of phase 0.
        growth: ratio ``> 1`` of consecutive phase lengths.

    Returns:
        An :class:`~envs.core.Env` with ``params`` a :class:`PhasedLossParams` (the mean
        losses in each phase) and ``sample_params`` (random arm relabelling and phase
        offset, as in :func:`switching_bandit`); info :class:`AdversarialBanditInfo`.

    References:
        Zimmert and Seldin, "Tsallis-INF: An Optimal Algorithm for Stochastic and
        Adversarial Bandits", JMLR 2021 (the regime: Section 2; the experiments with
        alternating phases). Wei and Luo, "More Adaptive Algorithms for Adversarial
        Bandits", COLT 2018 (stochastically constrained adversary).
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    _check_phases(first_phase, growth)
    if not 0 < float(gap) < 1:
        raise ValueError(f"gap must lie in (0, 1), got {gap!r}")
    gap = float(gap)
    levels = np.asarray((0.0, 1.0 - gap) if levels is None else levels, np.float64)
    if levels.shape != (2,):
        raise ValueError(f"levels must be a pair (c_even, c_odd), got {levels!r}")
    if not np.all((levels >= 0) & (levels <= 1 - gap + 1e-12)):
        raise ValueError(
            f"levels must lie in [0, 1 - gap] = [0, {1 - gap}], got {levels}"
        )
    gaps = np.full(num_arms, gap)
    gaps[0] = 0.0
    phase_means = np.clip(levels[:, None] + gaps[None, :], 0.0, 1.0)
    params = _phased_params(phase_means, first_phase, growth)

    def losses_fn(key, params, t):
        means = phased_losses(params, t)
        u = jax.random.uniform(key, means.shape, means.dtype)
        return (u < means).astype(means.dtype), means

    def sample_params(key):
        return _randomise_phases(key, params)

    return _adversarial_env(
        "stochastically_constrained", num_arms, losses_fn, params, sample_params
    )


def oblivious_bandit_from_fn(
    loss_fn: Callable[[object, Array], Array],
    num_arms: int,
    params=None,
    *,
    sample_params=None,
    name: str = "oblivious",
) -> Env:
    """An adversarial bandit over a user-given deterministic loss sequence.

    ``loss_fn(params, t) -> [K]`` must be a pure, jittable function of the instance and
    the 0-based round index ``t`` (an int32 scalar), returning losses in [0, 1]; it is
    the user's responsibility that the values lie in [0, 1] (they are not clipped).
    Regret is against the best fixed arm in hindsight, telescoped as in the module
    docstring (``pseudo_regret == regret``, the sequence being deterministic).

    Args:
        loss_fn: the loss sequence.
        num_arms: number of arms K >= 2.
        params: the default instance (any pytree; may be ``None``).
        sample_params: optional ``key -> params`` instance sampler.
        name: the environment's name.

    Returns:
        An :class:`~envs.core.Env` with state :class:`AdversarialBanditState` and info
        :class:`AdversarialBanditInfo`.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {loss_fn!r}")

    def losses_fn(key, params, t):
        del key
        losses = jnp.asarray(loss_fn(params, t))
        if losses.shape != (num_arms,):
            raise ValueError(
                f"loss_fn must return shape ({num_arms},), got {losses.shape}"
            )
        return losses, losses

    return _adversarial_env(name, num_arms, losses_fn, params, sample_params)
