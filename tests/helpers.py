"""Tiny learners and environments for testing the runner itself."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

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


class CountdownInfo(NamedTuple):
    regret: jax.Array  # summed over rounds
    last_round: jax.Array  # a snapshot: the 1-indexed round just played
    SNAPSHOT_FIELDS = ("last_round",)


def countdown_env() -> Env:
    """Regret 1 per round; ``last_round`` (a snapshot field) is the round's index."""

    def reset(key, params):
        return jnp.zeros((), jnp.int32), ()

    def step(key, state, action, params):
        state = state + 1
        info = CountdownInfo(jnp.ones((), float_dtype()), state.astype(float_dtype()))
        return state, (), jnp.zeros((), float_dtype()), info

    return Env(reset, step, 0.0, None, "countdown")


# --------------------------------------------------------------------------------------
# The learner contract (tests/test_contract.py and every family's contract test).
# --------------------------------------------------------------------------------------


def rollout(learner, env, key, num_rounds, params=None):
    """A plain Python loop over rounds, keys derived as in the runner.

    Returns ``(actions, regrets, states)``: the actions stacked (a pytree of
    ``[T, ...]`` arrays), the per-round ``info.regret`` ``[T]`` and the learner states
    (``T + 1`` of them, the initial one first).
    """
    k_init, k_reset, k_env, k_learner = jax.random.split(key, 4)
    params = env.params if params is None else params
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
    stacked = jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *actions)
    return stacked, np.asarray(regrets), states


def _structure(state):
    return (
        jax.tree.structure(state),
        [(jnp.shape(x), jnp.result_type(x)) for x in jax.tree.leaves(state)],
    )


def check_learner_contract(
    learner,
    env,
    *,
    num_rounds: int = 12,
    run_rounds: int = 40,
    num_seeds: int = 4,
    key_seed: int = 11,
    params=None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
):
    """Asserts the contract every learner keeps on an environment it accepts.

    jit and no-jit give equal actions and regrets; the state keeps its structure,
    shapes and dtypes every round; a jitted act / update does not retrace on a second
    call; the runner vmaps it over seeds and the same key gives the same result; nothing
    is NaN. Returns the eager run's stacked actions for family-specific checks.
    """
    key = jax.random.key(key_seed)
    with jax.disable_jit():
        actions_eager, regrets_eager, states = rollout(
            learner, env, key, num_rounds, params
        )
    jitted = learner._replace(act=jax.jit(learner.act), update=jax.jit(learner.update))
    actions_jit, regrets_jit, _ = rollout(jitted, env, key, num_rounds, params)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=rtol, atol=atol),
        actions_eager,
        actions_jit,
    )
    np.testing.assert_allclose(regrets_eager, regrets_jit, rtol=rtol, atol=atol)
    first = _structure(states[0])
    for state in states[1:]:
        assert _structure(state) == first, "learner state changed structure or dtype"
    assert jitted.act._cache_size() == 1, "act retraced"
    assert jitted.update._cache_size() == 1, "update retraced"

    from experiments.runner import run

    a = run(
        learner,
        env,
        run_rounds,
        key=jax.random.key(5),
        num_seeds=num_seeds,
        params=params,
    )
    b = run(
        learner,
        env,
        run_rounds,
        key=jax.random.key(5),
        num_seeds=num_seeds,
        params=params,
    )
    np.testing.assert_array_equal(a.regret, b.regret)
    assert a.regret.shape == (num_seeds, len(a.rounds))
    assert np.all(np.isfinite(a.regret)), "non-finite regret"
    for leaf in jax.tree.leaves(states[-1]):
        if jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            assert not np.any(np.isnan(np.asarray(leaf))), "NaN in learner state"
    return actions_eager
