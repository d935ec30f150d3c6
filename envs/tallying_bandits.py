r"""Weighted tallying bandits (WTB): an arm's loss depends on its recent plays.

Model (Malik, Igoe, Li and Singh 2023, Section 2; equation numbers not verified). There
are ``K`` arms, a memory ``m`` and non-negative weights ``w_0, ..., w_{m-1}``
(``w_0 > 0``). Pulling arm ``a`` in round ``t`` costs the loss

.. math::

    \ell_t = f_a(x_t(a)), \qquad
    x_t(a) = \sum_{j=0}^{m-1} w_j \, \mathbb{1}\{a_{t-j} = a\},

the weighted tally of ``a`` over the last ``m`` rounds, the current one included
(rounds before the first count as no play). ``f_a`` is unknown to the learner; the
learner observes a Bernoulli reward ``1 - Y_t`` with ``Y_t ~ Ber(f_a(x_t(a)))`` (the
rewards/losses convention of ``envs.adversarial_bandits``, so UCB1 and EXP3 run
unchanged). Here ``f_a`` is piecewise linear on ``G`` equally spaced nodes of
``[0, W]``, ``W = sum_j w_j`` (``losses [K, G]``; ``G = 2`` is a linear ``f_a``).

**Repeated exposure optimality (REO).** The instance has an arm ``k*`` whose loss under
repeated play, ``f_{k*}(W)``, is at most every loss any arm can produce:
``f_{k*}(W) <= min_{a, x} f_a(x)`` (checked at construction over the nodes, which
bound a piecewise-linear ``f``). Played forever, ``k*`` eventually beats every action
sequence.

**Complete policy regret (exact).** The comparator is the best fixed arm played
forever from round 1: ``F_a(t) = sum_{s=1}^t f_a(P_{min(s, m) - 1})`` with
``P_j = w_0 + ... + w_j``. Round ``t`` reports the telescoped increment

.. math::

    r_t = f_{a_t}(x_t(a_t)) - \big(\min_a F_a(t) - \min_a F_a(t - 1)\big),

so the runner's cumulative ``regret`` at ``T`` is ``sum_t f_{a_t}(x_t(a_t)) - min_a
F_a(T)``, in expectation over the Bernoulli draws (the learner's realised actions are
kept; only the loss noise is integrated out). The increments ``min_a F_a(t) - min_a
F_a(t-1)`` are computed once in float64 (:func:`comparator_increments`) up to the round
after which they are constant (the steady loss ``f_{k*}(W)``). On instances where
``f_{k*}`` is non-increasing and the other arms stay above ``f_{k*}`` once the best arm
has settled, the best fixed arm is also the best *sequence* of actions for every ``T``
past a few rounds: the regret is then the paper's complete policy regret against the
best action sequence; :func:`best_sequence_loss` (a NumPy dynamic programme over the
last ``m - 1`` actions, for tiny ``K^{m-1}``) computes that optimum for the tests.

Env state: the previous ``m - 1`` actions (``-1`` before round 1; fixed shape) and the
round index. Observation: ``()`` (a multi-armed bandit; the learner sees no tally).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, check_int, float_dtype

Array = jax.Array

__all__ = [
    "TallyingInfo",
    "TallyingParams",
    "TallyingState",
    "best_sequence_loss",
    "comparator_increments",
    "fixed_arm_losses",
    "loss_of",
    "play_sequence_losses",
    "reo_instance",
    "weighted_tallying_bandit",
]

# A best fixed arm that keeps changing after this many rounds is refused: the
# comparator table would be too long (and such an instance is not what REO is about).
MAX_TABLE = 1_000_000


class TallyingParams(NamedTuple):
    """A weighted tallying bandit instance."""

    weights: Array  # [m] w_0 (current round), ..., w_{m-1}
    losses: Array  # [K, G] f_a at G equally spaced nodes of [0, W]
    comparator: Array  # [L + 1] min_a F_a(t) - min_a F_a(t - 1) for t = 1..L, then
    # the steady increment (entry L) for every later round
    reo_arm: Array  # [] int32 the repeated-exposure-optimal arm k*


class TallyingState(NamedTuple):
    """What changes during a run."""

    previous: Array  # [m - 1] int32 actions of rounds t-1, ..., t-m+1 (-1: none)
    round_index: Array  # [] int32 rounds played so far


class TallyingInfo(NamedTuple):
    """Per-round oracle quantities (additive over rounds)."""

    regret: Array  # [] telescoped increment of the complete policy regret
    reo_arm_played: Array  # [] 1.0 when the pulled arm is k*
    loss: Array  # [] expected loss f_{a_t}(x_t(a_t)) of the pull


def _interp(losses_row, x, total):
    """``f(x)`` for a piecewise-linear ``f`` on equally spaced nodes of ``[0, total]``
    (NumPy or JAX)."""
    xp = jnp if isinstance(losses_row, jax.Array) else np
    nodes = xp.linspace(0.0, 1.0, losses_row.shape[-1])
    return xp.interp(x / total, nodes, losses_row)


def loss_of(params: TallyingParams, tally: Array, arm: Array) -> Array:
    """``f_arm(tally)`` (traceable)."""
    total = jnp.sum(params.weights)
    return _interp(params.losses[arm], tally, total)


def fixed_arm_losses(weights, losses, num_rounds: int) -> np.ndarray:
    """``[K, num_rounds]`` float64 losses of playing each arm forever from round 1:
    round ``s`` (1-based) costs ``f_a(P_{min(s, m) - 1})``."""
    w = np.asarray(weights, np.float64)
    f = np.asarray(losses, np.float64)
    prefix = np.cumsum(w)
    s = np.arange(1, num_rounds + 1)
    tally = prefix[np.minimum(s, w.shape[0]) - 1]
    return np.stack([_interp(row, tally, w.sum()) for row in f])


def comparator_increments(weights, losses) -> np.ndarray:
    """``min_a F_a(t) - min_a F_a(t - 1)`` for ``t = 1..L`` and the steady increment
    (float64 ``[L + 1]``), ``L`` the first round after which the leader set of
    ``F(t)`` can no longer change its steady loss (see the module docstring)."""
    w = np.asarray(weights, np.float64)
    f = np.asarray(losses, np.float64)
    m = w.shape[0]
    ramp = fixed_arm_losses(w, f, m)  # [K, m]
    ramp_total = ramp.sum(axis=1)  # F_a(m)
    steady = ramp[:, -1]  # f_a(W)
    best_steady = steady.min()
    # After round m: F_a(t) = ramp_total_a + (t - m) steady_a. Arms with a larger
    # steady loss fall behind the best-steady arms for good once
    # t - m > (min over best-steady arms of ramp_total - ramp_total_a) / gap_a.
    lead = ramp_total[steady == best_steady].min()
    gaps = steady - best_steady
    catch = np.where(gaps > 0, (lead - ramp_total) / np.where(gaps > 0, gaps, 1), 0)
    length = m + int(np.ceil(max(0.0, catch.max()))) + 1
    if length > MAX_TABLE:
        raise ValueError(
            f"the best fixed arm keeps changing until round {length}; the comparator "
            f"table is capped at {MAX_TABLE} rounds"
        )
    totals = np.cumsum(fixed_arm_losses(w, f, length), axis=1).min(axis=0)
    inc = np.diff(np.concatenate([[0.0], totals]))
    return np.concatenate([inc, [best_steady]])


def _validate(weights, losses, reo_arm) -> TallyingParams:
    w = np.asarray(weights, np.float64)
    f = np.asarray(losses, np.float64)
    if w.ndim != 1 or w.shape[0] < 1:
        raise ValueError(f"weights must be a non-empty 1-D [m] vector, got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w[0] > 0:
        raise ValueError(f"weights must be finite, >= 0, with w_0 > 0; got {weights}")
    if f.ndim != 2 or f.shape[0] < 2 or f.shape[1] < 2:
        raise ValueError(
            f"losses must be a [K, G] table (K >= 2 arms, G >= 2 nodes), got {f.shape}"
        )
    if not np.all(np.isfinite(f)) or np.any(f < 0) or np.any(f > 1):
        raise ValueError("losses must lie in [0, 1] (Bernoulli feedback)")
    k = f.shape[0]
    if reo_arm is None:
        reo_arm = int(np.argmin(f[:, -1]))
    if not 0 <= int(reo_arm) < k:
        raise ValueError(f"reo_arm must be an arm index in [0, {k}), got {reo_arm}")
    # REO: f_{k*}(W) <= every loss any arm can produce (a piecewise-linear f attains
    # its minimum at a node). Nodes below the smallest reachable tally w_0 are
    # included, which is conservative.
    if f[reo_arm, -1] > f.min() + 1e-12:
        raise ValueError(
            f"arm {reo_arm} is not repeated-exposure optimal: f_k*(W) = "
            f"{f[reo_arm, -1]} exceeds the smallest loss {f.min()}"
        )
    dtype = float_dtype()
    return TallyingParams(
        jnp.asarray(w, dtype),
        jnp.asarray(f, dtype),
        jnp.asarray(comparator_increments(w, f), dtype),
        jnp.asarray(reo_arm, jnp.int32),
    )


def weighted_tallying_bandit(weights, losses, *, reo_arm=None) -> Env:
    """A weighted tallying bandit on a fixed instance.

    Args:
      weights: ``[m]`` tally weights ``w_0`` (the current round), ..., ``w_{m-1}``.
      losses: ``[K, G]`` values of each ``f_a`` at ``G`` equally spaced nodes of
        ``[0, W]`` (piecewise-linear interpolation), in ``[0, 1]``.
      reo_arm: the repeated-exposure-optimal arm (default: the smallest ``f_a(W)``).

    Raises:
      ValueError: on bad shapes, losses outside ``[0, 1]``, negative weights, or an
        instance without repeated exposure optimality.
    """
    params = _validate(weights, losses, reo_arm)
    memory = params.weights.shape[0]
    table_last = params.comparator.shape[0] - 1

    def reset(key, params):
        del key
        previous = jnp.full((memory - 1,), -1, jnp.int32)
        return TallyingState(previous, jnp.zeros((), jnp.int32)), ()

    def step(key, state, action, params):
        action = jnp.asarray(action, jnp.int32)
        tally = params.weights[0] + jnp.sum(
            jnp.where(state.previous == action, params.weights[1:], 0.0)
        )
        loss = loss_of(params, tally, action)
        t = state.round_index + 1  # 1-based index of this round
        # Rounds past the table all have the steady increment (its last entry).
        increment = params.comparator[jnp.minimum(t, table_last + 1) - 1]
        reward = 1.0 - jax.random.bernoulli(key, loss).astype(loss.dtype)
        previous = jnp.concatenate([action[None], state.previous[:-1]])[: memory - 1]
        info = TallyingInfo(
            regret=loss - increment,
            reo_arm_played=(action == params.reo_arm).astype(loss.dtype),
            loss=loss,
        )
        return TallyingState(previous, t), (), reward, info

    return Env(reset, step, params, None, "weighted_tallying")


def reo_instance(
    num_arms: int = 4,
    memory: int = 10,
    *,
    decay=0.9,
    reo_loss=(0.9, 0.9, 0.9, 0.9, 0.15),
    novelty_base=0.3,
    novelty_step=0.05,
    boredom=0.35,
) -> Env:
    """An REO instance where the optimal arm pays off only after long repetition.

    ``w_j = decay^j``. Arm 0 is ``k*``: ``f_0`` takes the values ``reo_loss`` at
    equally spaced nodes of ``[0, W]`` (default: 0.9 until the tally reaches 75% of
    ``W``, then down to 0.15 at ``W``; several consecutive plays are needed before it
    improves). Arms ``a >= 1`` are "novelty" arms, best when fresh and worse with
    exposure: ``f_a(x) = c_a + boredom * x / W``, ``c_a = novelty_base + (a - 1)
    novelty_step``. A learner that switches often sees ``k*`` at a low tally (0.9) and
    prefers the novelty arms (at most ``c_a + boredom``), which costs
    ``Omega(T)`` complete policy regret.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    memory = check_int(memory, "memory")
    weights = float(decay) ** np.arange(memory)
    reo_row = np.asarray(reo_loss, np.float64)
    nodes = np.linspace(0.0, 1.0, reo_row.shape[0])
    losses = [reo_row]
    for a in range(1, num_arms):
        losses.append(novelty_base + (a - 1) * novelty_step + boredom * nodes)
    return weighted_tallying_bandit(weights, np.stack(losses), reo_arm=0)


def play_sequence_losses(weights, losses, actions) -> np.ndarray:
    """Expected losses (float64) of a given action sequence: the slow, obviously
    correct loop over rounds and over the last ``m`` actions."""
    w = np.asarray(weights, np.float64)
    f = np.asarray(losses, np.float64)
    out = []
    for t, a in enumerate(actions):
        tally = sum(
            w[j] for j in range(w.shape[0]) if t - j >= 0 and actions[t - j] == a
        )
        out.append(float(_interp(f[a], tally, w.sum())))
    return np.asarray(out)


def best_sequence_loss(weights, losses, num_rounds: int) -> np.ndarray:
    """``[num_rounds]``: the smallest total loss of ANY action sequence of length
    ``T = 1..num_rounds`` (the complete-policy optimum), by dynamic programming over
    the last ``m - 1`` actions (``K^{m-1}`` states: tiny instances only)."""
    w = np.asarray(weights, np.float64)
    f = np.asarray(losses, np.float64)
    k, m = f.shape[0], w.shape[0]
    if k ** max(m - 1, 0) > 20_000:
        raise ValueError("best_sequence_loss is for tiny instances (K^(m-1) <= 20000)")
    none = k  # marker for "no play yet"
    start = tuple([none] * (m - 1))
    value = {start: 0.0}
    best = []
    for _ in range(num_rounds):
        nxt: dict = {}
        for hist, v in value.items():
            for a in range(k):
                tally = w[0] + sum(w[j + 1] for j in range(m - 1) if hist[j] == a)
                cost = v + float(_interp(f[a], tally, w.sum()))
                new = (a, *hist[:-1]) if m > 1 else ()
                if cost < nxt.get(new, np.inf):
                    nxt[new] = cost
        value = nxt
        best.append(min(value.values()))
    return np.asarray(best)
