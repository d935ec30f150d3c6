"""The benchmark's NumPy EGPO is the same algorithm as ours."""

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.nash import egpo
from envs.games import duality_gap, preference_game
from experiments.benchmark_nash import numpy_egpo, numpy_random_games


def test_numpy_egpo_matches_jax():
    with jax.enable_x64(True):
        P = numpy_random_games(np.random.default_rng(3), 1, 6)[0]
        beta, eta, iters = 0.1, 0.5, 15
        logits_np, gaps_np = numpy_egpo(P, iters, beta, eta)
        env = preference_game(P, beta=beta)
        learner = egpo(6, eta=eta)
        act, update, step = (
            jax.jit(learner.act),
            jax.jit(learner.update),
            jax.jit(env.step),
        )
        state = learner.init(jax.random.key(0))
        env_state, obs = env.reset(jax.random.key(0), env.params)
        gaps = []
        for t in range(2 * iters):
            action, state = act(jax.random.key(t), state, obs)
            env_state, obs, fb, info = step(
                jax.random.key(t), env_state, action, env.params
            )
            if t % 2 == 0:
                gaps.append(float(info.duality_gap))
            state = update(state, obs, action, fb)
        np.testing.assert_allclose(state.logits, logits_np, atol=1e-12)
        np.testing.assert_allclose(gaps, gaps_np, atol=1e-12)
        mu = jnp.full(6, 1 / 6)
        pi = jnp.exp(state.logits)
        assert float(duality_gap(P, pi, pi, mu, mu, beta)) < gaps_np[0]
