"""Matrix Geometric Resampling: its mean is the truncated Neumann series and it
converges to the inverse covariance."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.adversarial_mdp.mgr import matrix_geometric_resampling, mgr_expectation


def test_mgr_is_unbiased_for_the_neumann_series_and_converges_to_the_inverse():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        features = rng.normal(size=(6, 3))
        features /= np.linalg.norm(features, axis=1, keepdims=True)  # ||x|| = 1
        probs = rng.dirichlet(np.ones(6))
        covariance = features.T @ (probs[:, None] * features)
        beta, num_samples, reps = 0.5, 60, 4000
        table, p = jnp.asarray(features), jnp.asarray(probs)

        def sample_fn(key):
            return table[jax.random.choice(key, 6, p=p)]

        estimate = jax.jit(
            jax.vmap(
                lambda k: matrix_geometric_resampling(
                    k, sample_fn, 3, beta=beta, num_samples=num_samples
                )
            )
        )(jax.random.split(jax.random.key(1), reps))
        estimate = np.asarray(estimate)
        mean = estimate.mean(0)
        se = estimate.std(0) / np.sqrt(reps)
        expected = np.asarray(
            mgr_expectation(jnp.asarray(covariance), beta, num_samples)
        )
        # 5 standard errors per entry (CLT over 4,000 independent estimates).
        assert np.all(np.abs(mean - expected) <= 5 * se + 1e-9)
        inverse = np.linalg.inv(covariance)
        bias = (
            np.linalg.matrix_power(np.eye(3) - beta * covariance, num_samples + 1)
            @ inverse
        )
        np.testing.assert_allclose(expected, inverse - bias, atol=1e-10)
        # the bias vanishes geometrically: a longer chain is closer to Sigma^{-1}
        far = np.asarray(mgr_expectation(jnp.asarray(covariance), beta, 2000))
        np.testing.assert_allclose(far, inverse, rtol=1e-6)
        assert np.linalg.norm(far - inverse) < np.linalg.norm(expected - inverse)
