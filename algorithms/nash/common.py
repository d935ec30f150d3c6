"""Shared pieces of the Nash-learning learners: logit arithmetic and validation."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from algorithms.core import check_positive, float_dtype

Array = jax.Array


def normalize_logits(logits: Array) -> Array:
    """Shift log-weights to log-probabilities (log-sum-exp; keeps them bounded)."""
    return logits - jax.nn.logsumexp(logits)


def uniform_logits(n: int) -> Array:
    return jnp.full((n,), -jnp.log(n), float_dtype())


def geometric_mixture(logits: Array, log_mu: Array, weight) -> Array:
    """Log of ``pi^{1 - w} mu^{w}`` normalised (Munos et al. 2023, Eq. (8))."""
    return normalize_logits((1.0 - weight) * logits + weight * log_mu)


def check_step(eta, name: str = "eta"):
    return check_positive(eta, name)


def project_simplex(v: Array) -> Array:
    """Euclidean projection onto the simplex (sort-based, Duchi et al. 2008, Fig. 1).

    Fixed shape: ``max(v - theta, 0)`` with ``theta`` from the sorted cumulative sums.
    """
    n = v.shape[0]
    u = jnp.sort(v)[::-1]
    css = jnp.cumsum(u)
    k = jnp.arange(1, n + 1, dtype=v.dtype)
    cond = u - (css - 1.0) / k > 0
    rho = jnp.max(jnp.where(cond, jnp.arange(n), 0))
    theta = (css[rho] - 1.0) / (rho + 1.0)
    return jnp.maximum(v - theta, 0.0)
