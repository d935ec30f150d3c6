"""A jitted rollout for OCO envs with observations (sleeping experts, groups)."""

import jax
import numpy as np


def play_obs(learner, env, num_rounds, seed=0):
    """Like ``tests.oco.test_oco.play`` for envs with observations (the awake mask):
    returns actions, stacked infos, feedbacks and the observations seen."""
    key = jax.random.key(seed)
    state = learner.init(key)
    env_state, obs = env.reset(key, env.params)
    act, step, update = jax.jit(learner.act), jax.jit(env.step), jax.jit(learner.update)
    actions, infos, feedbacks, observations = [], [], [], []
    for t in range(num_rounds):
        action, state = act(jax.random.fold_in(key, t), state, obs)
        env_state, next_obs, fb, info = step(
            jax.random.fold_in(key, 10_000 + t), env_state, action, env.params
        )
        state = update(state, obs, action, fb)
        actions.append(np.asarray(action))
        infos.append(info)
        feedbacks.append(fb)
        observations.append(jax.tree.map(np.asarray, obs))
        obs = next_obs
    infos = jax.tree.map(lambda *x: np.stack(x), *infos)
    observations = jax.tree.map(lambda *x: np.stack(x), *observations)
    return np.stack(actions), infos, feedbacks, observations
