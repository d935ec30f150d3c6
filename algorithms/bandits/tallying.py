r"""Successive elimination for weighted tallying bandits, and the family's registry.

Protocol: a multi-armed bandit (``obs = ()``, int32 arm, reward feedback in [0, 1],
loss ``1 - reward``), as for ``envs.tallying_bandits``. ``TALLYING_ALGORITHMS`` maps a
command-line name to a builder ``(num_arms, horizon, memory_bound) -> Learner``: the
source paper's algorithm and the baselines UCB1 and EXP3 (the existing learners of
``algorithms.bandits``, unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp

from algorithms.bandits.adversarial import exp3, exp3_learning_rate
from algorithms.bandits.stochastic import ucb1
from algorithms.core import (
    Array,
    Key,
    Learner,
    check_in_unit_interval,
    check_int,
    check_no_obs,
    float_dtype,
)

__all__ = [
    "TALLYING_ALGORITHMS",
    "TallySEState",
    "block_samples",
    "make_tallying_learner",
    "tally_radius",
    "tally_successive_elimination",
]


class TallySEState(NamedTuple):
    """State of :func:`tally_successive_elimination`."""

    counts: Array  # [K] loss samples kept per arm (float, exact integers)
    sums: Array  # [K] sum of the kept losses per arm
    active: Array  # [K] bool, arms not eliminated
    arm: Array  # [] int32 the arm of the current block
    position: Array  # [] int32 plays of the current block done so far
    phase: Array  # [] int32 phase index l >= 1


def block_samples(phase, base=1.0) -> Array:
    """Samples kept per arm in phase ``l``: ``n_l = base 2^{l-1}`` (doubling, so
    ``O(log T)`` phases and ``O(log T)`` burn-ins per arm)."""
    phase = jnp.asarray(phase, float_dtype())
    return jnp.ceil(base * jnp.exp2(jnp.minimum(phase - 1.0, 60.0)))


def tally_radius(counts: Array, num_arms: int, horizon, delta) -> Array:
    r"""Hoeffding radius :math:`\sqrt{\ln(2 K \lceil\log_2 T\rceil / \delta) / (2N)}`
    for losses in [0, 1] (union bound over arms and the at most ``log_2 T`` phases);
    ``+inf`` at ``N = 0``."""
    dtype = float_dtype()
    n = jnp.asarray(counts).astype(dtype)
    num_phases = jnp.maximum(jnp.ceil(jnp.log2(jnp.asarray(horizon, dtype))), 1.0)
    log_term = jnp.log(2.0 * num_arms * num_phases / jnp.asarray(delta, dtype))
    radius = jnp.sqrt(log_term / (2.0 * jnp.maximum(n, 1.0)))
    return jnp.where(n > 0, radius, jnp.inf)


def tally_successive_elimination(
    num_arms: int, *, memory_bound: int, horizon, delta=None, base=1.0
) -> Learner:
    r"""Successive elimination with burn-in blocks for weighted tallying bandits.

    Phases ``l = 1, 2, ...``: each active arm, lowest index first, is played for a
    block of ``M + n_l`` CONSECUTIVE rounds, ``n_l = base 2^{l-1}``. The first ``M``
    plays of a block are a burn-in and their losses are discarded: after ``M >= m - 1``
    consecutive plays the arm's weighted tally is the full ``W`` (the window of ``m``
    rounds holds only that arm), so each of the last ``n_l`` losses is an unbiased
    sample of the repeated-exposure loss ``f_a(W)``. At the end of a phase (every
    active arm has ``N = n_1 + ... + n_l`` samples) arm ``a`` is eliminated when

    .. math::

        \hat f_a - r_N > \min_{b \text{ active}} (\hat f_b + r_N),
        \qquad r_N = \sqrt{\ln(2 K \lceil \log_2 T \rceil / \delta) / (2N)},

    i.e. its lower confidence bound on the repeated loss exceeds the smallest upper
    one. By REO the arm ``k*`` with the smallest ``f(W)`` survives (w.p. ``1 - delta``)
    and the last arm standing is played forever (its blocks simply continue). The
    burn-in is paid once per block, ``O(K log T)`` blocks in all, so ``M`` enters the
    regret additively, not as a factor.

    Args:
      num_arms: K (static).
      memory_bound: M >= m - 1 (static Python int), an upper bound on the memory; with
        the env's convention (the tally includes the current round) ``M = m - 1``
        suffices, the paper's ``M >= m`` is safe.
      horizon: T (traceable), for the union bound.
      delta: confidence in (0, 1] (traceable); default ``1 / T``.
      base: ``n_1``, samples per arm in the first phase (traceable, > 0).

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`TallySEState`.

    References:
      Malik, Igoe, Li and Singh, "Weighted Tallying Bandits: Overcoming Intractability
      via Repeated Exposure Optimality", ICML 2023: the successive-elimination
      modification for WTB under REO with a known upper bound M on m, complete policy
      regret :math:`\tilde O(\sqrt{KT} + (m + M) K)` and the lower bound
      :math:`\tilde\Omega(mK + M)` (abstract). The algorithm box and theorem numbers
      could not be read (only the abstract was available): the block / doubling
      schedule and the Hoeffding radius above are reconstructed from the abstract's
      description ("a simple modification of successive elimination", additive
      ``(m + M) K``), not verified against the paper's Algorithm 1.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    memory_bound = check_int(memory_bound, "memory_bound", minimum=0)
    if delta is None:
        delta = 1.0 / jnp.asarray(horizon, float_dtype())
    else:
        check_in_unit_interval(delta, "delta", open_left=True)

    def init(key: Key) -> TallySEState:
        del key
        zeros = jnp.zeros((num_arms,), float_dtype())
        return TallySEState(
            counts=zeros,
            sums=zeros,
            active=jnp.ones((num_arms,), bool),
            arm=jnp.zeros((), jnp.int32),
            position=jnp.zeros((), jnp.int32),
            phase=jnp.ones((), jnp.int32),
        )

    def act(key: Key, state: TallySEState, obs):
        del key
        check_no_obs(obs)
        return state.arm, state

    def update(state: TallySEState, obs, action, reward):
        del obs
        dtype = state.sums.dtype
        loss = 1.0 - jnp.asarray(reward, dtype)
        position = state.position + 1
        # Only plays past the burn-in of the block are samples of f_a(W).
        keep = (position > memory_bound) & (jnp.arange(num_arms) == action)
        counts = state.counts + keep
        sums = jnp.where(keep, state.sums + loss, state.sums)
        block_len = memory_bound + block_samples(state.phase, base)
        block_done = position.astype(dtype) >= block_len
        # The next active arm after this one in index order, if any: the phase ends
        # when there is none.
        later = state.active & (jnp.arange(num_arms) > state.arm)
        phase_done = block_done & ~jnp.any(later)
        # Elimination at the end of a phase (all active arms have the same count).
        means = sums / jnp.maximum(counts, 1.0)
        radius = tally_radius(counts, num_arms, horizon, delta).astype(dtype)
        best_upper = jnp.min(jnp.where(state.active, means + radius, jnp.inf))
        eliminate = phase_done & (means - radius > best_upper)
        active = state.active & ~eliminate
        first_active = jnp.argmax(active).astype(jnp.int32)
        next_in_phase = jnp.argmax(later).astype(jnp.int32)
        arm = jnp.where(
            block_done, jnp.where(phase_done, first_active, next_in_phase), state.arm
        )
        return TallySEState(
            counts=counts,
            sums=sums,
            active=active,
            arm=arm,
            position=jnp.where(block_done, 0, position),
            phase=state.phase + phase_done.astype(jnp.int32),
        )

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Registry.
# --------------------------------------------------------------------------------------


def _exp3(k: int, n: int, m: int) -> Learner:
    del m
    return exp3(k, learning_rate=exp3_learning_rate(n, k))


TALLYING_ALGORITHMS: dict[str, Callable[[int, int, int], Learner]] = {
    # The source algorithm with M = the given memory bound, delta = 1 / T.
    "tally_se": lambda k, n, m: tally_successive_elimination(
        k, memory_bound=m, horizon=n
    ),
    "ucb1": lambda k, n, m: ucb1(k),
    "exp3": _exp3,
}


def make_tallying_learner(
    name: str, *, num_arms: int, horizon: int, memory_bound: int
) -> Learner:
    """The learner ``name`` of :data:`TALLYING_ALGORITHMS` with its default tuning."""
    if name not in TALLYING_ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {name!r}; choose from {', '.join(TALLYING_ALGORITHMS)}"
        )
    check_int(horizon, "horizon")
    check_int(memory_bound, "memory_bound", minimum=0)
    return TALLYING_ALGORITHMS[name](num_arms, horizon, memory_bound)
