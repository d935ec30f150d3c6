"""The MDP benchmark's NumPy UCBVI computes the same optimistic values as ours."""

import jax
import numpy as np
import pytest

from algorithms.tabular import ucbvi
from envs.tabular_mdp import Trajectory
from experiments import benchmark_mdp as bench


def test_numpy_ucbvi_matches_ours():
    num_states, num_actions, horizon, episodes = 3, 2, 4, 40
    rng = np.random.default_rng(0)
    log_term = 5.0
    with jax.enable_x64(True):
        learner = ucbvi(
            num_states, num_actions, horizon, 100, bonus_scale=bench.BONUS_SCALE
        )
        act, update = jax.jit(learner.act), jax.jit(learner.update)
        state = learner.init(jax.random.key(0))
        # Our log term for K = 100 (delta = 0.1); the NumPy side takes it as input.
        log_term = float(np.log(5 * num_states * num_actions * 100 * horizon / 0.1))
        shape = (horizon, num_states, num_actions)
        visits, rsum = np.zeros(shape), np.zeros(shape)
        trans = np.zeros((*shape, num_states))
        q = np.broadcast_to(np.arange(horizon, 0, -1.0)[:, None, None], shape)
        for k in range(episodes):
            policy, state = act(jax.random.key(k), state, ())
            q = bench.numpy_ucbvi_q(visits, trans, rsum, q, log_term, bench.BONUS_SCALE)
            np.testing.assert_allclose(np.asarray(state.q_values), q, atol=1e-9)
            s = rng.integers(0, num_states, horizon)
            a = rng.integers(0, num_actions, horizon)
            r = rng.uniform(size=horizon)
            for h in range(horizon):
                visits[h, s[h], a[h]] += 1
                rsum[h, s[h], a[h]] += r[h]
                if h + 1 < horizon:
                    trans[h, s[h], a[h], s[h + 1]] += 1
            state = update(state, (), policy, Trajectory(s, a, r))
    assert np.any(q < np.arange(horizon, 0, -1.0)[:, None, None] - 1e-6)


def test_numpy_run_is_flat_and_finite():
    from envs.tabular_mdp import river_swim

    times = bench.numpy_ucbvi_run(river_swim(3, 4).params, 20, 0, 5.0)
    assert times.shape == (20,) and np.all(np.isfinite(times))


def test_numpy_exact_regret_is_the_envs():
    import jax.numpy as jnp

    from envs.tabular_mdp import policy_value, river_swim

    params = river_swim(4, 6).params
    p, r, rho = (np.asarray(x, np.float64) for x in params)
    rng = np.random.default_rng(1)
    for _ in range(5):
        actions = rng.integers(0, 2, (6, 4))
        policy = jnp.asarray(np.eye(2)[actions])
        ours = float(jnp.dot(params.initial, policy_value(params, policy)[0]))
        assert bench.numpy_policy_value(p, r, rho, actions) == pytest.approx(ours)
    times, regrets = bench.numpy_ucbvi_run(params, 30, 0, 5.0, exact_regret=True)
    assert times.shape == regrets.shape == (30,)
    assert np.all(regrets >= -1e-12) and np.all(np.isfinite(regrets))
    optimal = bench.numpy_policy_value(p, r, rho, None)
    assert optimal >= bench.numpy_policy_value(p, r, rho, actions)
