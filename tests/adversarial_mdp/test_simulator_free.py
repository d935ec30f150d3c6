"""The regularised empirical inverse covariance (Dai et al. 2023's alternative to
Matrix Geometric Resampling): NumPy reference, its second-order bias bound, and the
convergence of both estimators to the inverse covariance in expectation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.adversarial_mdp.mgr import (
    empirical_inverse_bias_bound,
    empirical_inverse_covariance,
    matrix_geometric_resampling,
    mgr_expectation,
)


def _distribution(seed, num_features=8, dim=3):
    """A finite feature distribution with ``||x|| <= 1``: its table, probabilities,
    covariance and fourth moment ``E||X||^4`` (float64 NumPy)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(num_features, dim))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    features *= rng.uniform(0.5, 1.0, size=(num_features, 1))
    probs = rng.dirichlet(np.full(num_features, 5.0))
    covariance = features.T @ (probs[:, None] * features)
    fourth = float(np.sum(probs * np.sum(features**2, axis=1) ** 2))
    return features, probs, covariance, fourth


def _sampler(features, probs):
    table, p = jnp.asarray(features), jnp.asarray(probs)

    def sample_fn(key):
        return table[jax.random.choice(key, table.shape[0], p=p)]

    return sample_fn


def test_empirical_inverse_matches_numpy_on_the_same_samples():
    with jax.enable_x64(True):
        features, probs, _, _ = _distribution(0)
        sample_fn = _sampler(features, probs)
        key, gamma, n = jax.random.key(3), 0.05, 7
        estimate = np.asarray(
            jax.jit(
                lambda k: empirical_inverse_covariance(
                    k, sample_fn, 3, regularization=gamma, num_samples=n
                )
            )(key)
        )
        samples = np.asarray(jax.jit(jax.vmap(sample_fn))(jax.random.split(key, n)))
        expected = np.linalg.inv(samples.T @ samples / n + gamma * np.eye(3))
        np.testing.assert_allclose(estimate, expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(estimate, estimate.T, atol=0)
        assert np.linalg.eigvalsh(estimate).max() <= 1 / gamma + 1e-12


def test_empirical_inverse_rejects_bad_arguments():
    sample_fn = _sampler(*_distribution(0)[:2])
    with pytest.raises(ValueError):
        empirical_inverse_covariance(
            jax.random.key(0), sample_fn, 3, regularization=-1.0, num_samples=4
        )
    with pytest.raises(ValueError):
        empirical_inverse_covariance(
            jax.random.key(0), sample_fn, 3, regularization=0.1, num_samples=0
        )


def _leading_bias(features, probs, covariance, gamma, n):
    """``(1/N) E[B^-1 (xx^T - Sigma) B^-1 (xx^T - Sigma) B^-1]``, with
    ``B = Sigma + gamma I``: the exact second-order term of the empirical inverse's
    bias."""
    target = np.linalg.inv(covariance + gamma * np.eye(covariance.shape[0]))
    lead = np.zeros_like(covariance)
    for x, p in zip(features, probs, strict=True):
        d = np.outer(x, x) - covariance
        lead += p * target @ d @ target @ d @ target
    return lead / n


def _monte_carlo(estimator, reps, **kwargs):
    keys = jax.random.split(jax.random.key(11), reps)
    return np.asarray(jax.jit(jax.vmap(lambda k: estimator(k, **kwargs)))(keys))


def test_empirical_inverse_bias_is_within_its_second_order_bound():
    """E[Sigma_hat^+] - (Sigma + gamma I)^{-1}, estimated from 20,000 estimates with N =
    20 samples each, is (a) within the bound E||D||^2 / (gamma lambda_min(B)^2) and
    (b) equal to its leading term E[B^-1 D B^-1 D B^-1] (computed exactly on the finite
    distribution) up to 25% plus Monte-Carlo error. (b) fails for an estimator with a
    first-order error (a 1/(N-1) normalisation, a missing gamma) and for one with no
    bias (e.g. an exact inverse), since the leading term is ~25 standard errors."""
    with jax.enable_x64(True):
        features, probs, covariance, fourth = _distribution(1)
        gamma, n, reps = 0.1, 20, 20_000
        estimates = _monte_carlo(
            empirical_inverse_covariance,
            reps,
            sample_fn=_sampler(features, probs),
            dim=3,
            regularization=gamma,
            num_samples=n,
        )
        target = np.linalg.inv(covariance + gamma * np.eye(3))
        bias = estimates.mean(0) - target
        # Monte-Carlo error of the mean: 5 standard errors per entry (CLT; a 6e-7
        # two-sided chance per entry), summed in Frobenius norm as an operator bound.
        error = np.linalg.norm(5 * estimates.std(0) / np.sqrt(reps))
        bound = float(empirical_inverse_bias_bound(covariance, fourth, gamma, n))
        assert np.linalg.norm(bias, 2) <= bound + error
        lead = _leading_bias(features, probs, covariance, gamma, n)
        assert np.linalg.norm(lead, 2) > 4 * error  # the bias is resolvable here
        assert np.linalg.norm(bias - lead, 2) <= 0.25 * np.linalg.norm(lead, 2) + error


@pytest.mark.slow
def test_both_estimators_converge_to_the_inverse_covariance_in_expectation():
    """MGR (beta = 1/2, M = 200) and the empirical inverse (gamma = 1e-4, N = 400) over
    16,000 estimates each: the mean is within its predicted distance of Sigma^{-1}
    plus 5 standard errors, and within 3% (MGR, whose variance does not fall with M)
    and 2% (empirical inverse) of ||Sigma^{-1}||. MGR's mean is also equal
    to its exact expectation (the truncated Neumann series); an estimator of the
    inverse of anything else (e.g. of Sigma + 0.05 I, 4% away) fails the 2% check."""
    with jax.enable_x64(True):
        features, probs, covariance, fourth = _distribution(2)
        sample_fn = _sampler(features, probs)
        inverse = np.linalg.inv(covariance)
        scale = np.linalg.norm(inverse, 2)
        reps = 16_000
        beta, m = 0.5, 200
        mgr = _monte_carlo(
            matrix_geometric_resampling,
            reps,
            sample_fn=sample_fn,
            dim=3,
            beta=beta,
            num_samples=m,
        )
        mgr_error = np.linalg.norm(5 * mgr.std(0) / np.sqrt(reps))
        mgr_exact = np.asarray(mgr_expectation(jnp.asarray(covariance), beta, m))
        assert np.linalg.norm(mgr.mean(0) - mgr_exact, 2) <= mgr_error
        mgr_bias = np.linalg.norm(mgr_exact - inverse, 2)
        assert np.linalg.norm(mgr.mean(0) - inverse, 2) <= mgr_bias + mgr_error
        assert mgr_bias + mgr_error < 0.03 * scale

        gamma, n = 1e-4, 400
        emp = _monte_carlo(
            empirical_inverse_covariance,
            reps,
            sample_fn=sample_fn,
            dim=3,
            regularization=gamma,
            num_samples=n,
        )
        emp_error = np.linalg.norm(5 * emp.std(0) / np.sqrt(reps))
        regularised = np.linalg.inv(covariance + gamma * np.eye(3))
        # ||(Sigma + gamma I)^-1 - Sigma^-1|| = gamma / (l (l + gamma)), l = lambda_min
        smallest = np.linalg.eigvalsh(covariance)[0]
        shrink = gamma / (smallest * (smallest + gamma))
        np.testing.assert_allclose(np.linalg.norm(regularised - inverse, 2), shrink)
        # The remaining sampling bias is its second-order term plus terms smaller by
        # a factor ~ 1 / (N lambda_min) ~ 1/20: 1.25 x the exact leading term covers it.
        lead = np.linalg.norm(_leading_bias(features, probs, covariance, gamma, n), 2)
        distance = np.linalg.norm(emp.mean(0) - inverse, 2)
        assert distance <= shrink + 1.25 * lead + emp_error
        assert distance < 0.02 * scale
