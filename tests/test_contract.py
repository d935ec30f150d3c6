"""The contract every learner keeps, over the registry of all learners x compatible
envs.

For each pair: jit and no-jit give equal results; the learner vmaps over seeds; state
shapes and dtypes are stable across rounds; a jitted act/update does not retrace on a
second call; the same key gives the same result; nothing is NaN.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.bandits import ALGORITHMS, make_learner
from envs.adversarial_bandits import stochastically_constrained_bandit, switching_bandit
from envs.bandits import bernoulli_bandit, beta_bandit, gaussian_bandit
from experiments.runner import run

NUM_ARMS = 3
HORIZON = 40

ENVS = {
    "bernoulli": lambda: bernoulli_bandit([0.3, 0.5, 0.6]),
    "gaussian": lambda: gaussian_bandit([0.3, 0.5, 0.6], 0.5),
    "beta": lambda: beta_bandit([0.3, 0.5, 0.6], 5.0),
    "switching": lambda: switching_bandit(NUM_ARMS),
    "stoch_constrained": lambda: stochastically_constrained_bandit(NUM_ARMS),
}
# Which envs each learner accepts: rewards in [0, 1] for all but Gaussian TS, which is
# for unbounded Gaussian rewards (it runs on the others too).
PAIRS = [
    (name, env)
    for name in ALGORITHMS
    for env in ENVS
    if not (
        env == "gaussian"
        and name
        in ("thompson", "bayes_ucb", "kl_ucb", "exp3", "exp3_ix", "tsallis_inf")
    )
]


def _rollout(learner, env, key, num_rounds):
    """A plain Python loop over rounds (keys as in the runner)."""
    k_init, k_reset, k_env, k_learner = jax.random.split(key, 4)
    params = env.params
    state = learner.init(k_init)
    env_state, obs = env.reset(k_reset, params)
    actions, regrets, states = [], [], [state]
    for t in range(num_rounds):
        action, state = learner.act(jax.random.fold_in(k_learner, t), state, obs)
        env_state, next_obs, feedback, info = env.step(
            jax.random.fold_in(k_env, t), env_state, action, params
        )
        state = learner.update(state, obs, action, feedback)
        obs = next_obs
        actions.append(action)
        regrets.append(info.regret)
        states.append(state)
    return np.asarray(actions), np.asarray(regrets), states


@pytest.mark.parametrize("name, env_name", PAIRS)
def test_contract(name, env_name):
    learner = make_learner(name, num_arms=NUM_ARMS, horizon=HORIZON)
    env = ENVS[env_name]()
    key = jax.random.key(11)

    # jit = no-jit, and the state keeps its structure, shapes and dtypes every round.
    with jax.disable_jit():
        actions_eager, regrets_eager, states = _rollout(learner, env, key, 12)
    jitted = learner._replace(act=jax.jit(learner.act), update=jax.jit(learner.update))
    actions_jit, regrets_jit, _ = _rollout(jitted, env, key, 12)
    np.testing.assert_array_equal(actions_eager, actions_jit)
    np.testing.assert_allclose(regrets_eager, regrets_jit, rtol=1e-5, atol=1e-6)
    first = (
        jax.tree.structure(states[0]),
        [(x.shape, x.dtype) for x in jax.tree.leaves(states[0])],
    )
    for state in states[1:]:
        now = (
            jax.tree.structure(state),
            [(x.shape, x.dtype) for x in jax.tree.leaves(state)],
        )
        assert now == first
    assert all(0 <= a < NUM_ARMS for a in actions_eager)
    assert all(a.dtype == jnp.int32 for a in [jnp.asarray(actions_jit[0])])

    # No retrace: the jitted functions were called 12 times with new values.
    assert jitted.act._cache_size() == 1
    assert jitted.update._cache_size() == 1

    # vmap over seeds works and the same key gives the same result; no NaN.
    a = run(learner, env, HORIZON, key=jax.random.key(5), num_seeds=4)
    b = run(learner, env, HORIZON, key=jax.random.key(5), num_seeds=4)
    np.testing.assert_array_equal(a.regret, b.regret)
    assert a.regret.shape == (4, len(a.rounds))
    for leaf in jax.tree.leaves(states[-1]):
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            assert not np.any(np.isnan(np.asarray(leaf)))
    assert np.all(np.isfinite(a.regret))


# The episodic protocol: tabular learners on a tabular MDP (one round = one episode).
def _tabular_pairs():
    from algorithms.tabular import uniform_policy, value_iteration_oracle
    from envs.tabular_mdp import river_swim

    env = river_swim(num_states=4, horizon=5)
    return {
        "value_iteration_oracle": (value_iteration_oracle(env.params), env),
        "uniform_policy": (uniform_policy(4, 2, 5), env),
    }


@pytest.mark.parametrize("name", ["value_iteration_oracle", "uniform_policy"])
def test_contract_episodic(name):
    learner, env = _tabular_pairs()[name]
    key = jax.random.key(3)
    with jax.disable_jit():
        _, regrets_eager, states = _rollout(learner, env, key, 4)
    jitted = learner._replace(act=jax.jit(learner.act), update=jax.jit(learner.update))
    _, regrets_jit, _ = _rollout(jitted, env, key, 4)
    np.testing.assert_allclose(regrets_eager, regrets_jit, rtol=1e-5, atol=1e-6)
    structure = [(x.shape, x.dtype) for x in jax.tree.leaves(states[0])]
    for state in states[1:]:
        assert [(x.shape, x.dtype) for x in jax.tree.leaves(state)] == structure
    assert jitted.act._cache_size() == 1 and jitted.update._cache_size() == 1
    a = run(learner, env, 6, key=jax.random.key(5), num_seeds=3)
    b = run(learner, env, 6, key=jax.random.key(5), num_seeds=3)
    np.testing.assert_array_equal(a.regret, b.regret)
    assert np.all(np.isfinite(a.regret))
    if name == "value_iteration_oracle":
        np.testing.assert_allclose(a.regret, 0.0, atol=1e-5)
    else:
        assert np.all(a.regret[:, -1] > 0)
