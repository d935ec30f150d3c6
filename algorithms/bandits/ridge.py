"""Online ridge regression with rank-one updates, and OFUL's confidence radius.

The statistics after ``t`` observations ``(x_s, y_s)``:

.. math::

    V_t = \\lambda I + \\sum_{s \\le t} x_s x_s^\\top, \\qquad
    b_t = \\sum_{s \\le t} y_s x_s, \\qquad \\hat\\theta_t = V_t^{-1} b_t.

``V_t^{-1}`` is kept by the Sherman-Morrison formula in symmetric form,

.. math::

    V_{t}^{-1} = V_{t-1}^{-1} - \\frac{u u^\\top}{1 + x_t^\\top u}, \\qquad
    u = V_{t-1}^{-1} x_t,

(the denominator is at least 1, and the result is re-symmetrised), and
``log det V_t`` by the matrix determinant lemma
``log det V_t = log det V_{t-1} + log(1 + x_t^T V_{t-1}^{-1} x_t)``; an update is
``O(d^2)`` whatever ``t``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


class RidgeState(NamedTuple):
    """Sufficient statistics of ridge regression (see the module docstring)."""

    V: Array  # [d, d] V_t (kept exactly, by sums; used for Cholesky sampling)
    V_inv: Array  # [d, d] V_t^{-1} (Sherman-Morrison)
    b: Array  # [d] sum_s y_s x_s
    log_det: Array  # [] log det V_t
    count: Array  # [] int32 number of observations t


def ridge_init(dim: int, regularization, dtype=None) -> RidgeState:
    """``V_0 = lambda I``, ``b_0 = 0``."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    lam = jnp.asarray(regularization, dtype)
    return RidgeState(
        V=lam * jnp.eye(dim, dtype=dtype),
        V_inv=jnp.eye(dim, dtype=dtype) / lam,
        b=jnp.zeros(dim, dtype),
        log_det=dim * jnp.log(lam),
        count=jnp.zeros((), jnp.int32),
    )


def ridge_update(state: RidgeState, x: Array, y: Array, weight=1.0) -> RidgeState:
    """Adds ``weight`` copies of the observation ``(x, y)``: ``V += w x x^T``,
    ``b += w y x``.

    ``weight`` in {0, 1} masks an update (fixed-shape code); any ``weight >= 0`` is
    valid (Sherman-Morrison with ``w x x^T``).
    """
    dtype = state.V_inv.dtype
    w = jnp.asarray(weight, dtype)
    u = state.V_inv @ x  # [d]
    quad = jnp.maximum(x @ u, 0.0)
    denom = 1.0 + w * quad
    V_inv = state.V_inv - (w / denom) * jnp.outer(u, u)
    V_inv = 0.5 * (V_inv + V_inv.T)
    return RidgeState(
        V=state.V + w * jnp.outer(x, x),
        V_inv=V_inv,
        b=state.b + w * y * x,
        log_det=state.log_det + jnp.log(denom),
        count=state.count + (w > 0).astype(jnp.int32),
    )


def ridge_estimate(state: RidgeState) -> Array:
    """``theta_hat = V^{-1} b``."""
    return state.V_inv @ state.b


def feature_norms(state: RidgeState, features: Array) -> Array:
    """``||x_a||_{V^{-1}} = sqrt(x_a^T V^{-1} x_a)`` for each row of ``features``
    ``[K, d]``.
    """
    quad = jnp.einsum("kd,de,ke->k", features, state.V_inv, features)
    return jnp.sqrt(jnp.maximum(quad, 0.0))


def oful_radius(state: RidgeState, *, regularization, noise_std, theta_bound, delta):
    """The confidence radius ``sqrt(beta_t(delta))`` of Abbasi-Yadkori et al. (2011).

    .. math::

        \\sqrt{\\beta_t(\\delta)} = R \\sqrt{2 \\log\\frac{\\det(V_t)^{1/2}
        \\det(\\lambda I)^{-1/2}}{\\delta}} + \\lambda^{1/2} S,

    so that with probability at least ``1 - delta``, for all ``t``,
    ``||theta_hat_t - theta*||_{V_t} <= sqrt(beta_t(delta))`` when the noise is
    conditionally ``R``-sub-Gaussian and ``||theta*|| <= S``.

    References:
      Abbasi-Yadkori, Pal and Szepesvari, "Improved Algorithms for Linear Stochastic
      Bandits", NeurIPS 2011, Theorem 2.
    """
    dtype = state.V_inv.dtype
    lam = jnp.asarray(regularization, dtype)
    dim = state.b.shape[0]
    log_ratio = 0.5 * (state.log_det - dim * jnp.log(lam)) - jnp.log(
        jnp.asarray(delta, dtype)
    )
    return noise_std * jnp.sqrt(2.0 * jnp.maximum(log_ratio, 0.0)) + jnp.sqrt(
        lam
    ) * jnp.asarray(theta_bound, dtype)
