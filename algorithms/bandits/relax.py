"""Learning to relax: bandits choosing the SOR relaxation parameter, and a registry.

Protocol (``envs.sor_systems``): ``obs`` is the coming system's diagonal shift
``c_t`` (the context); the action is an index into the environment's relaxation grid
``omegas [K]``; the feedback is the number of SOR iterations the pulled ``omega``
took, at most the cap ``m = max_iters``. The learners turn it into the loss
``l_t = iterations / m`` in [0, 1] and run 1/2-Tsallis-INF
(``algorithms.bandits.adversarial.tsallis_inf``) on it: without context over the whole
grid, and with context independently in each of ``num_bins`` bins of the shift range.

``RELAX_ALGORITHMS`` maps a command-line name to a builder
``(num_omegas, max_iters, shift_low, shift_high) -> Learner`` with the default tuning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.bandits.adversarial import TsallisINFState, tsallis_inf
from algorithms.core import Learner, check_int, check_positive

Array = jax.Array


def _check_context(obs) -> None:
    if jnp.ndim(obs) != 0:
        raise ValueError(
            "relaxation learners take obs = the system's scalar shift, got shape "
            f"{jnp.shape(obs)}"
        )


def _reward(iterations, max_iters, dtype) -> Array:
    """``1 - l_t`` with ``l_t = min(iterations, m) / m``: the reward Tsallis-INF
    takes."""
    loss = jnp.minimum(jnp.asarray(iterations, dtype) / max_iters, 1.0)
    return 1.0 - loss


class RelaxTsallisINFState(NamedTuple):
    inner: TsallisINFState  # Tsallis-INF over the omega grid


def relax_tsallis_inf(
    num_omegas: int, *, max_iters: int, learning_rate_scale=None, reduced_variance=False
) -> Learner:
    """1/2-Tsallis-INF over a grid of SOR relaxation parameters.

    .. math::

        \\ell_t(\\omega) = \\mathrm{SOR}_t(\\omega) / m \\in [0, 1], \\qquad
        p_{t,i} = \\frac{4}{(\\eta_t (\\hat L_{t-1,i} - x_t))^2},
        \\quad \\eta_t = \\frac{c}{\\sqrt t},

    with importance-weighted estimates :math:`\\hat L` (``reduced_variance=False``,
    ``c = 2``: the rate of the authors' code and of Zimmert and Seldin's Theorem 1 for
    (IW)); the context is ignored.

    Args:
      num_omegas: K, the size of the environment's omega grid (static).
      max_iters: ``m``, the environment's iteration cap (normalises the loss).
      learning_rate_scale: ``c`` (traceable); default 2 (IW) or 4 (RV).
      reduced_variance: Zimmert and Seldin's (RV) estimator instead of (IW) (static).

    References:
      Khodak, Chow, Balcan and Talwalkar, "Learning to Relax: Setting Solver Parameters
      Across a Sequence of Linear System Instances", ICLR 2024: Tsallis-INF on a grid
      of omegas with the iteration count as feedback, regret against the best fixed
      omega sublinear in T (their Section 2's bandit theorem; we could read the paper's
      summary and the authors' code but not its theorem text, so the theorem number,
      the grid size ``~T^{1/3}`` and the rate ``O~(T^{2/3})`` with a grid are from
      memory, unverified). Normalisation: the analysis needs losses in [0, 1]; we
      divide by the cap ``m`` (the authors' code rescales by a running mean instead).
      Zimmert and Seldin, "Tsallis-INF", JMLR 2021, Algorithm 1 and Theorem 1:
      ``R_T <= 4 sqrt(K T) + 1`` in normalised units against the best grid point.
    """
    num_omegas = check_int(num_omegas, "num_omegas", minimum=2)
    max_iters = check_int(max_iters, "max_iters")
    inner = tsallis_inf(
        num_omegas,
        learning_rate_scale=learning_rate_scale,
        reduced_variance=reduced_variance,
    )

    def init(key):
        return RelaxTsallisINFState(inner.init(key))

    def act(key, state, obs):
        _check_context(obs)
        action, inner_state = inner.act(key, state.inner, ())
        return action, RelaxTsallisINFState(inner_state)

    def update(state, obs, action, iterations):
        _check_context(obs)
        reward = _reward(iterations, max_iters, state.inner.probs.dtype)
        return RelaxTsallisINFState(inner.update(state.inner, (), action, reward))

    return Learner(init, act, update)


class ContextualRelaxState(NamedTuple):
    inner: TsallisINFState  # leaves with a leading [B] axis: one Tsallis-INF per bin


def context_bin(shift, shift_low, shift_high, num_bins: int) -> Array:
    """The bin of ``shift`` among ``num_bins`` equal bins of ``[c_lo, c_hi]``
    (clipped)."""
    dtype = jnp.result_type(shift, float)
    width = jnp.maximum(jnp.asarray(shift_high - shift_low, dtype), 1e-12)
    index = jnp.floor((shift - shift_low) / width * num_bins)
    return jnp.clip(index, 0, num_bins - 1).astype(jnp.int32)


def contextual_relax_tsallis_inf(
    num_omegas: int,
    *,
    max_iters: int,
    shift_low,
    shift_high,
    num_bins: int = 5,
    learning_rate_scale=None,
    reduced_variance=False,
) -> Learner:
    """Contextual Tsallis-INF: one independent Tsallis-INF per bin of the shift.

    .. math::

        B_t = \\lfloor B (c_t - c_{lo}) / (c_{hi} - c_{lo}) \\rfloor, \\qquad
        \\omega_t \\sim p^{(B_t)}_t, \\qquad
        \\text{only the learner of bin } B_t \\text{ is updated with }
        \\ell_t(\\omega_t) = \\mathrm{SOR}_t(\\omega_t) / m.

    Each bin competes with its own best fixed omega, so the total approaches the
    best piecewise-constant policy ``c -> omega`` on the bins, hence the
    instance-optimal policy as the bins shrink (the optimal omega is continuous in
    ``c``, Young's formula). Regret against the best bin-wise policy is at most the
    sum of the bins' Tsallis-INF bounds, ``<= 4 sqrt(K B T) + B`` normalised.

    Args:
      num_omegas: K (static).
      max_iters: ``m``, the iteration cap.
      shift_low, shift_high: the context range ``[c_lo, c_hi]`` (shifts outside are
        clipped to the end bins).
      num_bins: ``B`` (static).
      learning_rate_scale, reduced_variance: as in :func:`relax_tsallis_inf`.

    References:
      Khodak, Chow, Balcan and Talwalkar, "Learning to Relax", ICLR 2024: the
      contextual setting with the diagonal shift as context, approaching the
      instance-optimal policy. The discretise-the-context-and-run-Tsallis-INF-per-bin
      learner is the baseline of the authors' code (``TsallisINFCB``); the paper's own
      contextual algorithm for SSOR-preconditioned CG (``ChebCB``, Chebyshev
      regression of the loss in the shift) is not implemented here (section and
      theorem numbers from memory, unverified).
    """
    num_omegas = check_int(num_omegas, "num_omegas", minimum=2)
    max_iters = check_int(max_iters, "max_iters")
    num_bins = check_int(num_bins, "num_bins")
    check_positive(shift_high - shift_low, "shift_high - shift_low")
    inner = tsallis_inf(
        num_omegas,
        learning_rate_scale=learning_rate_scale,
        reduced_variance=reduced_variance,
    )

    def init(key):
        keys = jax.random.split(key, num_bins)
        return ContextualRelaxState(jax.vmap(inner.init)(keys))

    def _bin_state(state, index):
        return jax.tree.map(lambda leaf: leaf[index], state.inner)

    def act(key, state, obs):
        _check_context(obs)
        index = context_bin(obs, shift_low, shift_high, num_bins)
        action, _ = inner.act(key, _bin_state(state, index), ())
        return action, state

    def update(state, obs, action, iterations):
        _check_context(obs)
        index = context_bin(obs, shift_low, shift_high, num_bins)
        dtype = state.inner.probs.dtype
        reward = _reward(iterations, max_iters, dtype)
        updated = inner.update(_bin_state(state, index), (), action, reward)
        stacked = jax.tree.map(
            lambda all_, one: all_.at[index].set(one), state.inner, updated
        )
        return ContextualRelaxState(stacked)

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Registry.
# --------------------------------------------------------------------------------------

RELAX_ALGORITHMS: dict[str, Callable[..., Learner]] = {
    "tsallis_inf": lambda k, m, lo, hi: relax_tsallis_inf(k, max_iters=m),
    # 5 bins of the shift range: the figure's drift spans omega* in [1.12, 1.49].
    "ctx_tsallis_inf": lambda k, m, lo, hi: contextual_relax_tsallis_inf(
        k, max_iters=m, shift_low=lo, shift_high=hi, num_bins=5
    ),
}


def make_relax_learner(
    name: str, *, num_omegas: int, max_iters: int, shift_low=0.0, shift_high=1.0
) -> Learner:
    """The learner ``name`` of :data:`RELAX_ALGORITHMS` with its default tuning."""
    if name not in RELAX_ALGORITHMS:
        raise ValueError(
            f"unknown relaxation algorithm {name!r}; choose from "
            f"{', '.join(RELAX_ALGORITHMS)}"
        )
    return RELAX_ALGORITHMS[name](num_omegas, max_iters, shift_low, shift_high)


__all__ = [
    "RELAX_ALGORITHMS",
    "ContextualRelaxState",
    "RelaxTsallisINFState",
    "context_bin",
    "contextual_relax_tsallis_inf",
    "make_relax_learner",
    "relax_tsallis_inf",
]
