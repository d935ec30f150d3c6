"""Tests for envs.linear_mdp: tabular forms, known optimal values, validation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs.linear_mdp import (
    LinearMDPObs,
    LinearMixtureObs,
    linear_mdp,
    linear_mdp_from_tabular,
    linear_mixture_hard_instance,
    linear_mixture_mdp,
    linear_to_tabular,
    random_linear_mdp,
    random_linear_mixture_mdp,
    tabular_as_linear_mdp,
    two_state_linear_mdp,
)
from envs.tabular_mdp import backward_induction, policy_value, tabular_mdp


def _kernel_ok(transitions, atol=1e-5):
    t = np.asarray(transitions)
    return np.all(t >= -atol) and np.allclose(t.sum(-1), 1.0, atol=atol)


def test_random_linear_mdp_is_a_valid_mdp_with_linear_structure(seed=0):
    env = random_linear_mdp(6, 3, 4, 5, concentration=0.5)
    params = jax.jit(env.sample_params)(jax.random.key(seed))
    tab = linear_to_tabular(params)
    assert _kernel_ok(tab.transitions)
    assert np.all((np.asarray(tab.rewards) >= 0) & (np.asarray(tab.rewards) <= 1))
    # P = phi mu^T recomputed by a NumPy loop over (h, s, a, s').
    phi, mu = np.asarray(params.features), np.asarray(params.mu)
    h, s, a, t = 2, 4, 1, 3
    assert np.isclose(tab.transitions[h, s, a, t], sum(phi[s, a] * mu[h, :, t]))
    state, obs = jax.jit(env.reset)(jax.random.key(0), params)
    assert isinstance(obs, LinearMDPObs) and obs.features.shape == (6, 3, 4)


def test_tabular_as_linear_reproduces_the_tabular_mdp():
    rng = np.random.default_rng(0)
    transitions = rng.dirichlet(np.ones(4), (3, 4, 2))
    rewards = rng.uniform(size=(3, 4, 2))
    initial = np.array([1.0, 0, 0, 0])
    tab = tabular_mdp(transitions, rewards, initial, 3)
    lin = tabular_as_linear_mdp(transitions, rewards, initial, 3)
    assert lin.params.features.shape == (4, 2, 8)  # d = S A, one-hot
    back = linear_to_tabular(lin.params)
    np.testing.assert_allclose(back.transitions, tab.params.transitions, atol=1e-6)
    np.testing.assert_allclose(back.rewards, tab.params.rewards, atol=1e-6)
    # The same episode (same key) and the same exact regret under both envs.
    policy = jnp.asarray(rng.dirichlet(np.ones(2), (3, 4)), jnp.float32)
    key = jax.random.key(3)
    s_tab, _ = tab.reset(key, tab.params)
    s_lin, _ = lin.reset(key, lin.params)
    _, _, traj_t, info_t = tab.step(key, s_tab, policy, tab.params)
    _, _, traj_l, info_l = lin.step(key, s_lin, policy, lin.params)
    np.testing.assert_array_equal(traj_t.states, traj_l.states)
    np.testing.assert_allclose(info_t.regret, info_l.regret, atol=1e-5)
    np.testing.assert_allclose(
        linear_mdp_from_tabular(tab.params).theta, lin.params.theta
    )


@pytest.mark.parametrize("horizon", [1, 4, 9])
def test_two_state_linear_mdp_optimal_value_closed_form(horizon):
    probs = np.array([0.2, 0.7, 0.5])
    env = two_state_linear_mdp(probs, horizon)
    tab = linear_to_tabular(env.params)
    _, values = backward_induction(tab)
    # V*_0(bad) = (H - 1) max_a p_a (the docstring's closed form).
    np.testing.assert_allclose(values[0, 0], (horizon - 1) * 0.7, rtol=1e-5)
    # A policy that always plays action 0 has value (H - 1) p_0.
    policy = jnp.zeros((horizon, 2, 3)).at[..., 0].set(1.0)
    v0 = policy_value(tab, policy)[0, 0]
    np.testing.assert_allclose(v0, (horizon - 1) * 0.2, rtol=1e-5, atol=1e-6)
    state, _ = env.reset(jax.random.key(0), env.params)
    _, _, _, info = env.step(jax.random.key(1), state, policy, env.params)
    np.testing.assert_allclose(info.regret, (horizon - 1) * 0.5, rtol=1e-5, atol=1e-6)


def test_random_linear_mixture_is_valid_and_observes_features_and_rewards():
    env = random_linear_mixture_mdp(5, 3, 4, 6)
    params = jax.jit(env.sample_params)(jax.random.key(0))
    from envs.linear_mdp import linear_mixture_to_tabular

    tab = linear_mixture_to_tabular(params)
    assert _kernel_ok(tab.transitions)
    _, obs = jax.jit(env.reset)(jax.random.key(0), params)
    assert isinstance(obs, LinearMixtureObs)
    assert obs.features.shape == (5, 3, 5, 4) and obs.rewards.shape == (6, 5, 3)


@pytest.mark.parametrize("dim", [2, 4])
def test_hard_instance_kernel_and_best_action(dim):
    horizon = 8
    signs = np.array([1.0, -1.0, 1.0][: dim - 1])
    env = linear_mixture_hard_instance(dim, horizon, signs=signs)
    from envs.linear_mdp import linear_mixture_to_tabular

    tab = linear_mixture_to_tabular(env.params)
    delta, gap = 1 / horizon, 1 / horizon / (2 * (dim - 1))
    p_move = np.asarray(tab.transitions[0, 0, :, 1])  # P(x_2 | x_1, a) per action
    assert len(p_move) == 2 ** (dim - 1)
    import itertools

    actions = np.array(list(itertools.product([-1.0, 1.0], repeat=dim - 1)))
    np.testing.assert_allclose(p_move, delta + gap * actions @ signs, atol=1e-6)
    assert np.argmax(p_move) == next(
        i for i, a in enumerate(actions) if np.all(a == signs)
    )
    np.testing.assert_allclose(tab.transitions[0, 1, :, 1], 1.0)  # x_2 absorbing


def test_validation_errors():
    phi = np.full((2, 2, 2), 0.5)
    mu = np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="features"):
        linear_mdp(phi[0], mu, [0.5, 0.5], [1.0, 0.0], 3)
    with pytest.raises(ValueError, match="mu must have shape"):
        linear_mdp(phi, mu[:, :1], [0.5, 0.5], [1.0, 0.0], 3)
    with pytest.raises(ValueError, match="theta"):
        linear_mdp(phi, mu, [0.5, 0.5, 0.1], [1.0, 0.0], 3)
    with pytest.raises(ValueError, match="sum to 1"):
        linear_mdp(phi, 2 * mu, [0.5, 0.5], [1.0, 0.0], 3)
    with pytest.raises(ValueError, match="non-negative"):
        linear_mdp(phi, [[1.5, -0.5], [1.5, -0.5]], [0.5, 0.5], [1.0, 0.0], 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        linear_mdp(phi, mu, [2.0, 2.0], [1.0, 0.0], 3)
    with pytest.raises(ValueError, match="features"):
        linear_mixture_mdp(
            np.ones((2, 2, 3, 2)), [0.5, 0.5], np.zeros((2, 2)), [1.0, 0.0], 3
        )
    with pytest.raises(ValueError, match="sum to 1"):
        linear_mixture_mdp(
            np.ones((2, 2, 2, 2)), [0.5, 0.5], np.zeros((2, 2)), [1.0, 0.0], 3
        )
    with pytest.raises(ValueError, match="signs"):
        linear_mixture_hard_instance(3, 5, signs=[1.0, 0.5])
    with pytest.raises(ValueError, match="action_probs"):
        two_state_linear_mdp([0.2, 1.3], 3)
