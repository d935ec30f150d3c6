"""The benchmark's NumPy LSVI-UCB computes the same Q-values as ours."""

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.linear_mdp import init_lsvi_stats, lsvi_q_values, update_lsvi_stats
from envs.tabular_mdp import Trajectory
from experiments.benchmark_linear_mdp import numpy_lsvi_ucb_q

_jit_update = jax.jit(update_lsvi_stats, static_argnames="refresh_every")


def test_numpy_benchmark_side_equals_ours_on_the_same_history():
    rng = np.random.default_rng(3)
    num_states, num_actions, dim, horizon, k = 6, 4, 3, 3, 12
    features = rng.dirichlet(np.ones(dim), (num_states, num_actions))
    states = rng.integers(num_states, size=(k, horizon))
    actions = rng.integers(num_actions, size=(k, horizon))
    rewards = rng.uniform(size=(k, horizon))
    stats = init_lsvi_stats(num_states, dim, horizon, 1.0)
    for i in range(k):
        traj = Trajectory(
            jnp.asarray(states[i]), jnp.asarray(actions[i]), jnp.asarray(rewards[i])
        )
        stats = _jit_update(
            stats, jnp.asarray(features, jnp.float32), traj, refresh_every=5
        )
    ours = lsvi_q_values(jnp.asarray(features, jnp.float32), stats, 0.8)
    ref = numpy_lsvi_ucb_q(features, states, actions, rewards, 0.8, 1.0, horizon)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)
