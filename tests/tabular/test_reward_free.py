"""Reward-free exploration: RF-UCRL's error bounds, planning, and the env's gap."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.tabular import rf_ucrl, rf_ucrl_error_bounds, rf_ucrl_plan
from algorithms.tabular.statistics import VisitCounts
from envs.core import snapshot_fields
from envs.reward_free import RewardFreeAction, reward_free
from envs.tabular_mdp import backward_induction, garnet, river_swim


def _numpy_w(visits, trans, delta, scale):
    horizon, num_states, num_actions = visits.shape
    w = np.zeros_like(visits)
    w_next = np.zeros(num_states)
    for h in reversed(range(horizon)):
        cap = horizon - h
        for s in range(num_states):
            for a in range(num_actions):
                n = visits[h, s, a]
                if n == 0:
                    w[h, s, a] = cap
                    continue
                beta = math.log(3 * num_states * num_actions * horizon / delta)
                beta += num_states * math.log(8 * math.e * (n + 1))
                p = trans[h, s, a] / max(trans[h, s, a].sum(), 1)
                w[h, s, a] = min(
                    cap, scale * cap * math.sqrt(2 * beta / n) + p @ w_next
                )
        w_next = w[h].max(-1)
    return w


def test_error_bounds_match_numpy_loop():
    rng = np.random.default_rng(0)
    horizon, num_states, num_actions = 3, 3, 2
    visits = rng.integers(0, 50, (horizon, num_states, num_actions)).astype(float)
    visits[0, 1, 1] = 0
    trans = rng.integers(0, 20, (horizon, num_states, num_actions, num_states)) * 1.0
    counts = VisitCounts(
        jnp.asarray(visits), jnp.asarray(trans), jnp.zeros_like(visits)
    )
    with jax.enable_x64(True):
        counts = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), counts)
        got = rf_ucrl_error_bounds(counts, 0.1, 0.05)
    want = _numpy_w(visits, trans, 0.1, 0.05)
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-9)
    assert np.any(want < np.arange(horizon, 0, -1)[:, None, None])  # not all capped


def test_planning_on_the_exact_model_is_optimal():
    # Counts proportional to the true transitions: P_hat = P, so the planned policy is
    # optimal for every reward function (gap 0).
    env = river_swim(3, 4)
    params = env.params
    trans = np.asarray(params.transitions, np.float64) * 1000.0
    visits = np.full(params.rewards.shape, 1000.0)
    counts = VisitCounts(
        jnp.asarray(visits), jnp.asarray(trans), jnp.zeros(visits.shape)
    )
    rewards = jax.random.uniform(jax.random.key(0), (5, *params.rewards.shape))
    planned = rf_ucrl_plan(
        jax.tree.map(lambda x: x.astype(jnp.float32), counts), rewards
    )
    for i in range(5):
        model = params._replace(rewards=rewards[i])
        q, _ = backward_induction(model)
        chosen = np.take_along_axis(
            np.asarray(q), np.asarray(planned[i]).argmax(-1)[..., None], -1
        )[..., 0]
        # The last step's transition is never observed, but V_H = 0 makes it irrelevant.
        np.testing.assert_allclose(chosen, np.asarray(q).max(-1), atol=1e-5)


def test_env_gap_is_a_snapshot_and_zero_for_optimal_plans():
    env = reward_free(river_swim(3, 4), num_rewards=3)
    params = env.sample_params(jax.random.key(1))
    state, obs = env.reset(jax.random.key(2), params)
    optimal = jax.vmap(
        lambda r: jax.nn.one_hot(
            backward_induction(params.mdp._replace(rewards=r))[0].argmax(-1), 2
        )
    )(obs)
    uniform = jnp.full((4, 3, 2), 0.5)
    _, _, traj, info = env.step(
        jax.random.key(3), state, RewardFreeAction(uniform, optimal), params
    )
    assert snapshot_fields(info) == ("gap", "max_gap")
    assert float(info.gap) == pytest.approx(0.0, abs=1e-5)
    assert np.all(np.asarray(traj.rewards) == 0)  # nothing observed
    _, _, _, info = env.step(
        jax.random.key(3), state, RewardFreeAction(uniform, 1 - optimal), params
    )
    assert float(info.max_gap) >= float(info.gap) > 0.01


@pytest.mark.slow
def test_rf_ucrl_gap_decreases():
    from experiments.runner import run

    env = reward_free(garnet(5, 2, 2, 4), num_rewards=4)
    result = run(
        rf_ucrl(5, 2, 4, bonus_scale=0.05),
        env,
        1000,
        key=jax.random.key(0),
        num_seeds=16,
        record=np.array([10, 1000]),
    )
    early, late = result.metrics["gap"].mean(0)
    # 16 seeds: the mean gap after 1000 episodes is far below that after 10.
    assert late < 0.25 * early, (early, late)
