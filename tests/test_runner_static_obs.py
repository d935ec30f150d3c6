"""The runner reads an observation that the env always returns unchanged from its
instance (a fixed action set) from the instance instead of carrying a copy: the
detection, and identical results with and without the shortcut."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import experiments.runner as runner
from algorithms.bandits.linear import oful, oful_fixed_actions
from envs.linear_bandits import linear_bandit, random_linear_bandit


def _element_args(env):
    params = env.sample_params(jax.random.key(0)) if env.params is None else env.params
    state, _ = env.reset(jax.random.key(1), params)
    action = jax.ShapeDtypeStruct((), jnp.int32)
    return params, state, jax.random.key(2), action


def test_detects_the_forwarded_instance_leaf_only():
    fixed = random_linear_bandit(3, 4)
    # LinearBanditParams(features, theta, bias, noise_std): features is leaf 0.
    assert runner._obs_from_params(fixed, *_element_args(fixed)) == [0]
    given = linear_bandit(np.eye(3), np.ones(3))
    assert runner._obs_from_params(given, *_element_args(given)) == [0]
    changing = random_linear_bandit(3, 4, changing=True)  # obs drawn every round
    assert runner._obs_from_params(changing, *_element_args(changing)) == [None]
    # Returned by step but not by reset: not an instance leaf throughout.
    lagged = fixed._replace(
        reset=lambda key, params: ((), params.features + 0.0), name="lagged"
    )
    assert runner._obs_from_params(lagged, *_element_args(lagged)) == [None]


@pytest.mark.parametrize(
    "make",
    [
        oful_fixed_actions,
        # the same check on the O(K d^2) OFUL; ~17 s, slow-only
        pytest.param(lambda d, k: oful(d), marks=pytest.mark.slow),
    ],
)
def test_results_identical_with_and_without_the_shortcut(monkeypatch, make):
    env = random_linear_bandit(4, 6)

    def go():
        return runner.run(
            make(4, 6), env, 60, key=jax.random.key(3), num_seeds=5, chunk_size=25
        )

    fast = go()
    monkeypatch.setattr(runner, "_obs_from_params", lambda *args: [])
    slow = go()  # a fresh learner object: its own compiled program
    for name in fast.metrics:
        np.testing.assert_array_equal(fast.metrics[name], slow.metrics[name])
    assert np.all(np.isfinite(fast.regret)) and fast.regret[:, -1].min() > 0
