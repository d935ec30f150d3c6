"""Learning to relax: bandits choosing the SOR relaxation parameter, and a registry.

Protocol (``envs.sor_systems``): ``obs`` is the coming system's diagonal shift
``c_t`` (the context); the action is an index into the environment's relaxation grid
``omegas [K]``; the feedback is the number of SOR iterations the pulled ``omega``
took, at most the cap ``m = max_iters``. The learners turn it into the loss
``l_t = iterations / m`` in [0, 1] and run 1/2-Tsallis-INF
(``algorithms.bandits.adversarial.tsallis_inf``) on it: without context over the whole
grid, and with context independently in each of ``num_bins`` bins of the shift range;
:func:`chebcb` is the paper's Chebyshev-regression contextual bandit (a
reconstruction): per-omega online regression of the loss on Chebyshev polynomials of
the shift, with SquareCB's inverse gap weighting over the predictions.

``RELAX_ALGORITHMS`` maps a command-line name to a builder
``(num_omegas, max_iters, shift_low, shift_high) -> Learner`` with the default tuning.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.bandits.adversarial import TsallisINFState, tsallis_inf
from algorithms.bandits.contextual import inverse_gap_weighting
from algorithms.core import (
    Learner,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
    sample_categorical,
)

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
      contextual algorithm (``ChebCB``, Chebyshev regression of the loss in the
      shift) is :func:`chebcb` (section and theorem numbers unverified).
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
# ChebCB: Chebyshev regression of the loss in the shift + inverse gap weighting.
# --------------------------------------------------------------------------------------


def chebyshev_features(shift, shift_low, shift_high, degree: int) -> Array:
    """``[T_0(u), ..., T_D(u)]`` (``[D + 1]``) at ``u = 2 (c - c_lo) / (c_hi - c_lo) -
    1``.

    ``u`` is clipped to [-1, 1] (where ``T_k(u) = cos(k arccos u)`` is bounded by 1);
    the polynomials by the three-term recurrence ``T_{k+1} = 2 u T_k - T_{k-1}``.
    """
    dtype = jnp.result_type(shift, float)
    width = jnp.maximum(jnp.asarray(shift_high - shift_low, dtype), 1e-12)
    u = jnp.clip(2.0 * (shift - shift_low) / width - 1.0, -1.0, 1.0).astype(dtype)
    values = [jnp.ones_like(u), u]
    for _ in range(degree - 1):
        values.append(2.0 * u * values[-1] - values[-2])
    return jnp.stack(values[: degree + 1])


class ChebCBState(NamedTuple):
    gram: Array  # [K, p, p] sum of phi phi^T over the rounds each omega was played
    moment: Array  # [K, p] sum of phi * loss over the same rounds
    theta: Array  # [K, p] ridge coefficients (reg I + gram)^{-1} moment, per omega
    t: Array  # [] int32 rounds played


def chebcb_gamma(num_omegas: int, degree: int, horizon: int, scale=1.0) -> float:
    """``scale * sqrt(K p^2 T / (K p^3 + T))``, ``p = D + 1``: the fixed IGW rate of the
    authors' code (applied there to raw iteration counts; ``scale`` converts to the
    normalised loss, e.g. ``scale = m`` for ``loss = iterations / m``).
    """
    p = degree + 1
    k = num_omegas
    return scale * math.sqrt(k * p * p * horizon / (k * p**3 + horizon))


def chebcb(
    num_omegas: int,
    *,
    max_iters: int,
    shift_low,
    shift_high,
    degree: int = 5,
    gamma=100.0,
    gamma_exponent=0.5,
    reg=1.0,
) -> Learner:
    """ChebCB: per-omega online Chebyshev regression of the loss in the shift, with
    inverse gap weighting (a reconstruction).

    .. math::

        \\phi(c) = (T_0(u), \\dots, T_D(u)),\\ u = \\tfrac{2 (c - c_{lo})}{c_{hi} -
        c_{lo}} - 1, \\qquad
        \\hat\\theta_\\omega = \\Big(\\lambda I + \\sum_{s < t: \\omega_s = \\omega}
        \\phi(c_s) \\phi(c_s)^\\top\\Big)^{-1} \\sum_{s < t: \\omega_s = \\omega}
        \\phi(c_s) \\ell_s,

    :math:`\\hat\\ell_t(\\omega) = \\langle \\hat\\theta_\\omega, \\phi(c_t)
    \\rangle`, and :math:`\\omega_t` is drawn from SquareCB's inverse gap weighting of
    the predicted losses with :math:`\\gamma_t = \\gamma t^{\\rho}`:
    :math:`p_\\omega = 1 / (K + \\gamma_t (\\hat\\ell_t(\\omega) - \\min_{\\omega'}
    \\hat\\ell_t(\\omega')))` off the predicted best, the rest on it
    (``algorithms.bandits.contextual.inverse_gap_weighting`` on ``-\\hat\\ell``). The
    loss is ``l_t = min(iterations, m) / m``. Only the played omega's regression is
    updated (its Gram matrix and moment, then a Cholesky solve of the ``p x p``
    system, ``p = D + 1``): O(p^3) per round, O(K p) per action, fixed-shape state.

    Why it approaches the instance-optimal policy: for a fixed omega the SOR cost is a
    smooth function of the shift away from a few kinks (Young's theory: the spectral
    radius of the SOR matrix is analytic in ``c`` on either side of ``omega*(c)``), so
    a low-degree Chebyshev expansion approximates it uniformly on ``[c_lo, c_hi]``;
    SquareCB's regret against the best policy ``c -> argmin_omega f_omega(c)`` of the
    realisable class is ``O(sqrt(K T Reg_Sq(T)))`` (Foster and Rakhlin 2020, Theorem
    1), here ``Reg_Sq = O(K p log T)`` for online ridge plus the approximation error
    of degree ``D``.

    Args:
      num_omegas: K (static).
      max_iters: ``m``, the iteration cap (normalises the loss).
      shift_low, shift_high: the context range ``[c_lo, c_hi]`` mapped to [-1, 1]
        (shifts outside are clipped).
      degree: ``D``, the Chebyshev degree (static); ``p = D + 1`` coefficients per
        omega.
      gamma: the IGW rate ``gamma > 0`` in normalised-loss units (traceable).
      gamma_exponent: ``rho >= 0``, ``gamma_t = gamma t^rho`` (traceable). The
        default ``gamma_t = 100 sqrt(t)`` (anytime; 7,000 at t = 5,000) was chosen on
        the relax_sor sequences (8 x 8 grid, m = 128, T = 5,000, 16 runs each): its
        total iterations are within 3% of the best of fixed ``gamma`` in {10^4, 10^5,
        10^7} (near-greedy) on all three; fixed 1,000 is 4-9% and fixed 100 28-50%
        above. The fixed rate of the authors' code is :func:`chebcb_gamma` with
        ``scale = m`` (~2,000 there). Near-greedy works because the ridge estimate of
        an unplayed omega is 0, an optimistic loss, and the SOR cost given the shift
        is almost deterministic.
      reg: the ridge parameter ``lambda > 0`` (traceable).

    References:
      Khodak, Chow, Balcan and Talwalkar, "Learning to Relax: Setting Solver Parameters
      Across a Sequence of Linear System Instances", ICLR 2024 (arXiv 2310.02246):
      ChebCB, a contextual bandit regressing each parameter's cost on a Chebyshev
      basis of the diagonal shift, with sublinear regret against the instance-optimal
      policy (proved there for SSOR-preconditioned CG). RECONSTRUCTION: we could read
      only the paper's abstract and third-party summaries, not its algorithm box or
      theorem; the structure (Chebyshev features ``T_0..T_{D}`` of the shift mapped to
      [-1, 1], one regression per grid point refit on that point's history, inverse
      gap weighting with the fixed rate ``sqrt(K p^2 T / (K p^3 + T))``) follows the
      authors' public MATLAB code (``learners/ChebCB.m``), read but not copied. Two
      differences: the authors refit a box-constrained least squares (``lsqlin``,
      coefficient ``j`` bounded by ``scale / ((c_hi - c_lo) j)``) on raw iteration
      counts; we use ridge regression (an online, closed-form, fixed-shape update) on
      iterations / m. Foster and Rakhlin, "Beyond UCB: Optimal and Efficient
      Contextual Bandits with Regression Oracles", ICML 2020, Algorithm 1 (inverse gap
      weighting) and Theorem 1.
    """
    num_omegas = check_int(num_omegas, "num_omegas", minimum=2)
    max_iters = check_int(max_iters, "max_iters")
    degree = check_int(degree, "degree")
    check_positive(shift_high - shift_low, "shift_high - shift_low")
    check_positive(gamma, "gamma")
    check_nonnegative(gamma_exponent, "gamma_exponent")
    check_positive(reg, "reg")
    p = degree + 1

    def init(key):
        del key
        dtype = float_dtype()
        return ChebCBState(
            gram=jnp.zeros((num_omegas, p, p), dtype),
            moment=jnp.zeros((num_omegas, p), dtype),
            theta=jnp.zeros((num_omegas, p), dtype),
            t=jnp.zeros((), jnp.int32),
        )

    def predict(state, obs):
        """Predicted normalised losses of every omega, ``[K]``."""
        phi = chebyshev_features(obs, shift_low, shift_high, degree)
        return state.theta @ phi.astype(state.theta.dtype)

    def act(key, state, obs):
        _check_context(obs)
        losses = predict(state, obs)
        t = (state.t + 1).astype(losses.dtype)
        probs = inverse_gap_weighting(-losses, gamma * t**gamma_exponent)
        return sample_categorical(key, probs), state

    def update(state, obs, action, iterations):
        _check_context(obs)
        dtype = state.theta.dtype
        phi = chebyshev_features(obs, shift_low, shift_high, degree).astype(dtype)
        loss = 1.0 - _reward(iterations, max_iters, dtype)
        gram = state.gram[action] + jnp.outer(phi, phi)
        moment = state.moment[action] + phi * loss
        chol = jnp.linalg.cholesky(gram + reg * jnp.eye(p, dtype=dtype))
        theta = jax.scipy.linalg.cho_solve((chol, True), moment)
        return ChebCBState(
            gram=state.gram.at[action].set(gram),
            moment=state.moment.at[action].set(moment),
            theta=state.theta.at[action].set(theta),
            t=state.t + 1,
        )

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
    "chebcb": lambda k, m, lo, hi: chebcb(
        k, max_iters=m, shift_low=lo, shift_high=hi, degree=5
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
    "ChebCBState",
    "ContextualRelaxState",
    "RelaxTsallisINFState",
    "chebcb",
    "chebcb_gamma",
    "chebyshev_features",
    "context_bin",
    "contextual_relax_tsallis_inf",
    "make_relax_learner",
    "relax_tsallis_inf",
]
