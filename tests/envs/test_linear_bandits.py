"""Linear bandit environments: validation, exact regret, changing action sets."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs.linear_bandits import (
    end_of_optimism_bandit,
    linear_bandit,
    random_linear_bandit,
)


def test_dimension_mismatch_and_bad_inputs_raise():
    with pytest.raises(ValueError, match="dimension mismatch"):
        linear_bandit(np.eye(3), [1.0, 0.0])
    with pytest.raises(ValueError, match=r"\[K, d\]"):
        linear_bandit(np.ones(3), [1.0])
    with pytest.raises(ValueError, match="bias"):
        linear_bandit(np.eye(3), np.ones(3), bias=np.zeros(2))
    with pytest.raises(ValueError, match="noise_std"):
        linear_bandit(np.eye(3), np.ones(3), noise_std=-1.0)
    with pytest.raises(ValueError, match="at least 2"):
        linear_bandit(np.ones((1, 3)), np.ones(3))
    with pytest.raises(ValueError, match="num_arms"):
        random_linear_bandit(3, 1)
    with pytest.raises(ValueError, match="epsilon"):
        end_of_optimism_bandit(epsilon=1.5)


def test_fixed_action_set_regret_and_reward_are_exact():
    features = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]])
    theta = np.array([0.5, -0.2])
    bias = np.array([0.0, 0.1, -0.05])
    env = linear_bandit(features, theta, noise_std=0.0, bias=bias)
    mu = features @ theta + bias  # [0.5, -0.1, 0.13]
    state, obs = env.reset(jax.random.key(0), env.params)
    np.testing.assert_allclose(obs, features, rtol=1e-6)
    for a in range(3):
        _, obs2, reward, info = env.step(jax.random.key(a), state, a, env.params)
        np.testing.assert_allclose(reward, mu[a], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(info.regret, mu.max() - mu[a], atol=1e-6)
        assert float(info.best_arm_played) == float(a == 0)
        np.testing.assert_allclose(obs2, features, rtol=1e-6)


def test_noise_has_the_given_std():
    env = linear_bandit(np.eye(2), [0.3, 0.0], noise_std=0.5)
    state, _ = env.reset(jax.random.key(0), env.params)
    keys = jax.random.split(jax.random.key(1), 20_000)
    rewards = jax.vmap(lambda k: env.step(k, state, 0, env.params)[2])(keys)
    # 20,000 draws: the std of the sample mean is 0.5 / 141 = 0.0035; 5 sigma = 0.018.
    assert abs(float(rewards.mean()) - 0.3) < 0.018
    assert abs(float(rewards.std()) - 0.5) < 0.015  # sd of the sd ~ 0.0025


def test_sampled_instances_are_on_the_sphere_and_seeded():
    env = random_linear_bandit(4, 6, theta_norm=2.0)
    p1 = env.sample_params(jax.random.key(3))
    p2 = env.sample_params(jax.random.key(3))
    p3 = env.sample_params(jax.random.key(4))
    np.testing.assert_allclose(jnp.linalg.norm(p1.features, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(jnp.linalg.norm(p1.theta), 2.0, rtol=1e-5)
    np.testing.assert_array_equal(p1.features, p2.features)
    assert not np.allclose(p1.theta, p3.theta)


def test_changing_action_sets_are_redrawn_and_regret_uses_the_shown_set():
    env = random_linear_bandit(3, 5, noise_std=0.0, changing=True)
    params = env.sample_params(jax.random.key(0))
    state, obs = env.reset(jax.random.key(1), params)
    assert obs.shape == (5, 3)
    state2, obs2, reward, info = env.step(jax.random.key(2), state, 2, params)
    mu = np.asarray(obs) @ np.asarray(params.theta)
    np.testing.assert_allclose(reward, mu[2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(info.regret, mu.max() - mu[2], rtol=1e-5, atol=1e-6)
    assert not np.allclose(obs, obs2)
    np.testing.assert_array_equal(state2, obs2)
    # The next set does not depend on the pulled arm (common random numbers).
    _, obs3, _, _ = env.step(jax.random.key(2), state, 0, params)
    np.testing.assert_array_equal(obs2, obs3)


def test_end_of_optimism_instance():
    env = end_of_optimism_bandit(epsilon=0.1, gamma=2.0, noise_std=0.0)
    np.testing.assert_allclose(
        env.params.features, [[1, 0], [0, 1], [0.9, 0.2]], rtol=1e-6
    )
    state, _ = env.reset(jax.random.key(0), env.params)
    gaps = [
        float(env.step(jax.random.key(0), state, a, env.params)[3].regret)
        for a in range(3)
    ]
    np.testing.assert_allclose(gaps, [0.0, 1.0, 0.1], atol=1e-6)


def test_fast_key_split_and_normal_are_jax_random_bit_for_bit():
    # The step draws its keys and noise with the unrolled cipher (envs.threefry);
    # streams (hence every committed linear-bandit figure) must not change.
    from envs import threefry
    from envs.linear_bandits import _standard_normal

    keys = jax.random.split(jax.random.key(7), 20_000)
    ours = jax.jit(jax.vmap(lambda k: _standard_normal(k, jnp.float32)))(keys)
    ref = jax.jit(jax.vmap(lambda k: jax.random.normal(k, (), jnp.float32)))(keys)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))
    split = jax.jit(jax.vmap(lambda k: jax.random.key_data(threefry.split(k))))
    ref_split = jax.jit(jax.vmap(lambda k: jax.random.key_data(jax.random.split(k))))
    np.testing.assert_array_equal(np.asarray(split(keys)), np.asarray(ref_split(keys)))
    with jax.enable_x64(True):  # 64-bit floats take jax.random's own path
        k64 = keys[:500]
        ours = jax.vmap(lambda k: _standard_normal(k, jnp.float64))(k64)
        ref = jax.vmap(lambda k: jax.random.normal(k, (), jnp.float64))(k64)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))
