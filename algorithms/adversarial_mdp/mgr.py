"""Matrix Geometric Resampling: an estimate of an inverse covariance from samples."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from algorithms.core import check_int, check_positive

Array = jax.Array

__all__ = ["matrix_geometric_resampling", "mgr_expectation"]


def matrix_geometric_resampling(
    key: jax.Array,
    sample_fn: Callable[[jax.Array], Array],
    dim: int,
    *,
    beta,
    num_samples: int,
) -> Array:
    """An estimate of ``Sigma^{-1}``, ``Sigma = E[X X^T]``, from ``num_samples`` draws.

    .. math::

        A_j = I - \\beta X_j X_j^\\top, \\quad B_0 = I,\\ B_j = B_{j-1} A_j, \\quad
        \\hat\\Sigma^+ = \\beta I + \\beta \\sum_{j=1}^{M} B_j,

    with ``X_j = sample_fn(key_j)`` independent. Since the ``A_j`` are independent
    with mean ``I - beta Sigma``,
    ``E[Sigma_hat^+] = beta sum_{j=0}^{M} (I - beta Sigma)^j``
    (:func:`mgr_expectation`), whose bias ``(I - beta Sigma)^{M+1} Sigma^{-1}``
    vanishes geometrically when ``beta ||X||^2 <= 1``.

    Args:
        key: consumed; split into ``num_samples`` keys.
        sample_fn: ``key -> [d]`` one feature vector.
        dim: d (static).
        beta: step ``beta > 0`` with ``beta ||X||^2 <= 1`` (traceable).
        num_samples: M (static).

    Returns:
        ``[d, d]`` the estimate (not symmetric in general).

    References:
        Neu and Olkhovskaya, "Efficient and Robust Algorithms for Adversarial Linear
        Contextual Bandits", COLT 2020 (Matrix Geometric Resampling; the expectation
        identity and its bias bound, Lemma numbers not verified).
    """
    dim = check_int(dim, "dim")
    num_samples = check_int(num_samples, "num_samples")
    check_positive(beta, "beta")
    eye = jnp.eye(dim)

    def body(carry, sample_key):
        product, total = carry
        x = sample_fn(sample_key)
        product = product - beta * jnp.outer(product @ x, x)  # B_j = B_{j-1} A_j
        return (product, total + product), None

    (_, total), _ = jax.lax.scan(
        body, (eye, jnp.zeros_like(eye)), jax.random.split(key, num_samples)
    )
    return beta * eye + beta * total


def mgr_expectation(covariance: Array, beta, num_samples: int) -> Array:
    """``beta sum_{j=0}^{M} (I - beta Sigma)^j``: the mean of the MGR estimate."""
    eye = jnp.eye(covariance.shape[0], dtype=covariance.dtype)
    step = eye - beta * covariance

    def body(power, _):
        return power @ step, power

    _, powers = jax.lax.scan(body, eye, None, num_samples + 1)
    return beta * jnp.sum(powers, axis=0)
