"""Estimates of an inverse covariance ``Sigma^{-1}`` from samples: Matrix Geometric
Resampling (Neu and Olkhovskaya 2020) and the regularised empirical inverse used by
Dai, Luo, Wei and Zimmert (2023) in its place."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from algorithms.core import check_int, check_positive

Array = jax.Array

__all__ = [
    "empirical_inverse_bias_bound",
    "empirical_inverse_covariance",
    "matrix_geometric_resampling",
    "mgr_expectation",
    "regularized_inverse",
]


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


def empirical_inverse_covariance(
    key: jax.Array,
    sample_fn: Callable[[jax.Array], Array],
    dim: int,
    *,
    regularization,
    num_samples: int,
) -> Array:
    """``(gamma I + (1/N) sum_i X_i X_i^T)^{-1}`` from ``N`` independent draws.

    .. math::

        \\tilde\\Sigma = \\frac{1}{N} \\sum_{i=1}^{N} X_i X_i^\\top, \\qquad
        \\hat\\Sigma^+ = (\\tilde\\Sigma + \\gamma I)^{-1}.

    The alternative to Matrix Geometric Resampling of Dai et al. (2023, Section 6,
    simulator-free linear MDPs): the inverse of the regularised empirical covariance
    of fresh samples, symmetric, positive definite and bounded, ``||Sigma_hat^+|| <=
    1 / gamma``, where an MGR estimate can have norm up to ``beta (M + 1)`` and is not
    symmetric. It targets ``(Sigma + gamma I)^{-1}``; writing ``B = Sigma + gamma I``,
    ``A = Sigma_tilde + gamma I`` and ``D = A - B`` (mean zero),

    .. math::

        A^{-1} = B^{-1} - B^{-1} D B^{-1} + A^{-1} D B^{-1} D B^{-1},

    so its bias is second order in ``D``:
    ``||E[A^{-1}] - B^{-1}|| <= E||D||^2 / (gamma lambda_min(B)^2)`` with
    ``E||D||_F^2 = (E||X||^4 - ||Sigma||_F^2) / N``
    (:func:`empirical_inverse_bias_bound`),
    and ``||A^{-1} - B^{-1}|| <= ||D|| / (gamma lambda_min(B))`` deterministically
    (with ``||D|| = O(sqrt(log(d / delta) / N))`` w.h.p. by matrix Bernstein). Both
    bias and variance fall like ``1 / N``; MGR's bias falls geometrically in its
    chain length but its variance does not fall (one chain, not an average).

    The inverse is a Cholesky solve (the matrix is symmetric positive definite).

    Args:
        key: consumed; split into ``num_samples`` keys.
        sample_fn: ``key -> [d]`` one feature vector.
        dim: d (static).
        regularization: ``gamma > 0`` (traceable).
        num_samples: N (static).

    Returns:
        ``[d, d]`` symmetric positive definite estimate of ``(Sigma + gamma I)^{-1}``.

    References:
        Dai, Luo, Wei and Zimmert, "Refined Regret for Adversarial MDPs with Linear
        Function Approximation", ICML 2023 (Section 6 and its covariance-estimation
        lemma in the appendix; the full text was not readable here, so the section and
        the exact form of the paper's lemma are from memory, unverified; the bias
        bound above is derived in this docstring, not quoted).
    """
    dim = check_int(dim, "dim")
    num_samples = check_int(num_samples, "num_samples")
    check_positive(regularization, "regularization")
    samples = jax.vmap(sample_fn)(jax.random.split(key, num_samples))  # [N, d]
    return regularized_inverse(samples.T @ samples / num_samples, regularization)


def regularized_inverse(second_moment: Array, regularization) -> Array:
    """``(second_moment + gamma I)^{-1}`` by a Cholesky solve, symmetrised; batched
    over leading axes (``[..., d, d]``)."""
    eye = jnp.broadcast_to(
        jnp.eye(second_moment.shape[-1], dtype=second_moment.dtype),
        second_moment.shape,
    )
    factor = jnp.linalg.cholesky(second_moment + regularization * eye)
    inverse = jax.scipy.linalg.cho_solve((factor, True), eye)
    return 0.5 * (inverse + jnp.swapaxes(inverse, -1, -2))


def empirical_inverse_bias_bound(
    covariance, fourth_moment, regularization, num_samples
) -> Array:
    """A bound on ``||E[Sigma_hat^+] - (Sigma + gamma I)^{-1}||_op``,
    ``(E||X||^4 - ||Sigma||_F^2) / (N gamma (lambda_min(Sigma) + gamma)^2)``, for
    :func:`empirical_inverse_covariance` (derived in its docstring)."""
    covariance = jnp.asarray(covariance)
    smallest = jnp.linalg.eigvalsh(covariance)[0]
    spread = fourth_moment - jnp.sum(covariance**2)
    return spread / (num_samples * regularization * (smallest + regularization) ** 2)
