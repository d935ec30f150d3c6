"""Tests for UCRL-VTR / UCRL-VTR+ on linear mixture MDPs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.linear_mdp import ucrl_vtr, ucrl_vtr_plus, vtr_q_values
from envs.linear_mdp import (
    LinearMixtureObs,
    linear_mixture_hard_instance,
    linear_mixture_to_tabular,
)
from envs.tabular_mdp import Trajectory, backward_induction
from experiments.runner import run


def test_planning_on_the_true_theta_without_bonus_is_value_iteration():
    env = linear_mixture_hard_instance(3, 5, signs=[1.0, -1.0])
    p = env.params
    q, v = vtr_q_values(p.features, p.rewards, p.theta, jnp.eye(3), 0.0)
    q_star, v_star = backward_induction(linear_mixture_to_tabular(p))
    np.testing.assert_allclose(q, q_star, atol=1e-5)
    np.testing.assert_allclose(v, v_star, atol=1e-5)


def test_vtr_update_is_the_value_targeted_ridge_statistics():
    """After one episode: Lambda = I + sum_h x_h x_h^T, b = sum_h x_h V_{h+1}(s_{h+1})
    with x_h = sum_s' phi(s'|s_h,a_h) V_{h+1}(s'), recomputed by a NumPy loop."""
    env = linear_mixture_hard_instance(3, 4)
    p = env.params
    obs = LinearMixtureObs(p.features, p.rewards)
    learner = ucrl_vtr(2, 4, 3, 4, beta=0.5)
    state = learner.init(jax.random.key(0))
    policy, state = learner.act(jax.random.key(1), state, obs)
    traj = Trajectory(jnp.array([0, 0, 1, 1]), jnp.array([3, 1, 0, 2]), jnp.zeros(4))
    new = learner.update(state, obs, policy, traj)
    values = np.asarray(state.values, np.float64)
    phi = np.asarray(p.features, np.float64)
    gram, target = np.eye(3), np.zeros(3)
    for h in range(4):
        s, a = int(traj.states[h]), int(traj.actions[h])
        x = sum(phi[s, a, t] * values[h + 1, t] for t in range(2))
        y = values[h + 1, int(traj.states[h + 1])] if h < 3 else 0.0
        gram += np.outer(x, x)
        target += x * y
    np.testing.assert_allclose(new.gram, gram, rtol=1e-5)
    np.testing.assert_allclose(new.target, target, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new.gram_inv @ gram, np.eye(3), atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("factory", [ucrl_vtr, ucrl_vtr_plus])
def test_regret_is_sublinear_on_the_hard_instance(factory):
    """d = 3 (4 actions), H = 4, gap large enough to learn in 300 episodes: the
    per-episode regret of the last 100 episodes is below half of the first 20's
    (16 seeds)."""
    env = linear_mixture_hard_instance(3, 4, delta=0.3, gap=0.1)
    learner = factory(2, 4, 3, 4, beta=0.5)
    result = run(
        learner,
        env,
        300,
        key=jax.random.key(0),
        num_seeds=16,
        record=np.array([20, 200, 300]),
    )
    regret = result.regret.mean(0)
    assert (regret[2] - regret[1]) / 100 < 0.5 * regret[0] / 20
