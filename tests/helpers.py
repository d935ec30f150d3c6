"""Tiny learners and environments for testing the runner itself."""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import Learner, float_dtype
from envs.core import Env


def fixed_arm(
    arm: int = 0, *, use_key: bool = False, trace_counter: list | None = None
):
    """Always pulls ``arm``; with ``use_key`` it also consumes randomness (to test
    CRN).
    """

    def init(key):
        return jnp.zeros((), float_dtype())

    def act(key, state, obs):
        if trace_counter is not None:
            trace_counter.append(1)  # runs only while tracing
        if use_key:
            state = state + jax.random.uniform(key, (), float_dtype())
        return jnp.asarray(arm, jnp.int32), state

    def update(state, obs, action, feedback):
        return state

    return Learner(init, act, update)


class RewardInfo(NamedTuple):
    regret: jax.Array
    reward: jax.Array


def constant_regret_env(regret_per_round: float, num_arms: int = 2) -> Env:
    """Every round: reward = uniform draw, regret = the given constant."""

    def reset(key, params):
        return (), ()

    def step(key, state, action, params):
        reward = jax.random.uniform(key, (), float_dtype())
        info = RewardInfo(jnp.asarray(params, float_dtype()), reward)
        return state, (), reward, info

    return Env(reset, step, regret_per_round, None, "constant")
