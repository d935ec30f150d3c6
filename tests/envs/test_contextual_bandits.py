"""Contextual bandit environments: mean rewards and regret against NumPy, streams,
common random numbers, validation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs.contextual_bandits import (
    contextual_bandit,
    mean_rewards,
    random_contextual_bandit,
)

THETA = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.0, 0.8]])


def _np_means(fn, theta, x, scale=3.0):
    z = theta @ x
    if fn == "linear":
        return 0.5 * (1 + z)
    if fn == "logistic":
        return 1 / (1 + np.exp(-scale * z))
    return 0.5 * (1 + np.cos(scale * z))


@pytest.mark.parametrize("fn", ["linear", "logistic", "cosine"])
def test_mean_rewards_and_regret_match_numpy(fn):
    env = contextual_bandit(THETA, reward_fn=fn, noise_std=0.0)
    key = jax.random.key(1)
    state, obs = env.reset(key, env.params)
    for t in range(6):
        x = np.asarray(obs, np.float64)
        np.testing.assert_allclose(np.linalg.norm(x), 1.0, rtol=1e-5)
        mu = _np_means(fn, THETA, x)
        np.testing.assert_allclose(
            mean_rewards(fn, env.params.theta, obs, env.params.scale), mu, rtol=1e-5
        )
        action = jnp.asarray(t % 3, jnp.int32)
        state, obs, reward, info = env.step(
            jax.random.fold_in(key, t), state, action, env.params
        )
        # noise_std = 0: the reward is the mean.
        np.testing.assert_allclose(reward, mu[t % 3], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(info.regret, mu.max() - mu[t % 3], atol=1e-6)
        assert float(info.best_arm_played) == float(np.argmax(mu) == t % 3)


def test_common_random_numbers_across_arms():
    """One noise draw per round: two arms' rewards differ by their mean gap."""
    env = contextual_bandit(THETA, noise_std=0.5)
    key = jax.random.key(3)
    state, obs = env.reset(key, env.params)
    k = jax.random.key(7)
    _, obs0, r0, i0 = env.step(k, state, jnp.int32(0), env.params)
    _, obs1, r1, i1 = env.step(k, state, jnp.int32(1), env.params)
    np.testing.assert_allclose(r0 - r1, i1.regret - i0.regret, atol=1e-6)
    np.testing.assert_array_equal(obs0, obs1)  # the context stream ignores actions


def test_sorted_stream_blocks_of_optimal_arm():
    rng = np.random.default_rng(0)
    pool = rng.normal(size=(30, 3))
    env = contextual_bandit(THETA, stream="sorted", contexts=pool, noise_std=0.0)
    state, obs = env.reset(jax.random.key(0), env.params)
    best = []
    for t in range(60):
        mu = _np_means("linear", THETA, np.asarray(obs, np.float64))
        best.append(int(np.argmax(mu)))
        state, obs, _, _ = env.step(jax.random.key(t), state, jnp.int32(0), env.params)
    # Non-decreasing within a cycle of 30, then the same order again.
    assert best[:30] == sorted(best[:30]) and best[30:] == best[:30]
    assert len(set(best)) > 1


def test_random_instances_and_shapes():
    env = random_contextual_bandit(5, 4, reward_fn="cosine", stream="sorted")
    params = env.sample_params(jax.random.key(0))
    assert params.theta.shape == (5, 4) and params.contexts.shape == (256, 4)
    np.testing.assert_allclose(jnp.linalg.norm(params.theta, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(theta=np.ones(3)), "shape"),
        (dict(theta=np.ones((1, 3))), "shape"),
        (dict(theta=THETA, reward_fn="quadratic"), "reward_fn"),
        (dict(theta=THETA, stream="shuffled"), "stream"),
        (dict(theta=THETA, noise_std=-1.0), "noise_std"),
        (dict(theta=THETA, stream="sorted"), "contexts"),
        (dict(theta=THETA, stream="sorted", contexts=np.ones((4, 2))), "d of theta"),
        (dict(theta=np.zeros((2, 3))), "nonzero"),
    ],
)
def test_validation(kwargs, match):
    theta = kwargs.pop("theta")
    with pytest.raises(ValueError, match=match):
        contextual_bandit(theta, **kwargs)


def test_random_validation():
    with pytest.raises(ValueError, match="num_arms"):
        random_contextual_bandit(1, 3)
    with pytest.raises(ValueError, match="reward_fn"):
        random_contextual_bandit(3, 3, reward_fn="nope")
