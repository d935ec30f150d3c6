"""The linear benchmark's NumPy baselines compute the same OFUL as ours."""

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.bandits.linear import oful
from experiments import benchmark_linear_bandits as bench


def test_numpy_oful_loop_and_vectorised_match_ours():
    rng = np.random.default_rng(0)
    x, th = bench._numpy_instances(rng, 2, 8, 3)
    x = x * rng.uniform(0.5, 1.0, size=(2, 8, 1))  # generic norms: no first-round ties
    T, delta = 40, 0.05
    noise = rng.normal(size=(T, 2))
    learner = oful(3, regularization=1.0, noise_std=1.0, theta_bound=1.0, delta=delta)
    act, update = jax.jit(learner.act), jax.jit(learner.update)
    regrets = []
    for s in range(2):
        expected, regret = bench.numpy_oful_loop(x[s], th[s], noise[:, s], delta)
        regrets.append(regret)
        obs, mu = jnp.asarray(x[s], jnp.float32), x[s] @ th[s]
        state = learner.init(jax.random.key(0))
        for t in range(T):
            a, state = act(jax.random.key(t), state, obs)
            assert int(a) == expected[t]
            state = update(state, obs, a, jnp.float32(mu[int(a)] + noise[t, s]))
    np.testing.assert_allclose(
        bench.numpy_oful_vectorised(x, th, noise, delta), regrets, rtol=1e-9
    )
