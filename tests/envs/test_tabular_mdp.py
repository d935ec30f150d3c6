"""Tests for envs.tabular_mdp and algorithms.tabular: exact values, regret, simulation.

The closed-loop episode checks use the local helper ``_episode_regrets`` (``lax.scan``
over episodes); they can move to ``experiments.runner``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.tabular import (
    greedy_policy,
    optimal_q_values,
    uniform_policy,
    value_iteration_oracle,
)
from envs.core import StepInfo
from envs.tabular_mdp import (
    TabularMDPParams,
    Trajectory,
    backward_induction,
    combination_lock,
    deep_sea,
    deep_sea_params,
    garnet,
    grid_world,
    policy_value,
    random_tabular_mdp,
    river_swim,
    tabular_mdp,
)

# --------------------------------------------------------------------------------------
# NumPy references: plain loops over h, s, a, s'.
# --------------------------------------------------------------------------------------


def _numpy_backward_induction(transitions, rewards):
    horizon, num_states, num_actions = rewards.shape
    q = np.zeros((horizon, num_states, num_actions))
    v = np.zeros((horizon + 1, num_states))
    for h in reversed(range(horizon)):
        for s in range(num_states):
            for a in range(num_actions):
                expected_next = 0.0
                for s_next in range(num_states):
                    expected_next += transitions[h, s, a, s_next] * v[h + 1, s_next]
                q[h, s, a] = rewards[h, s, a] + expected_next
            v[h, s] = max(q[h, s, a] for a in range(num_actions))
    return q, v


def _numpy_policy_value(transitions, rewards, policy):
    horizon, num_states, num_actions = rewards.shape
    v = np.zeros((horizon + 1, num_states))
    for h in reversed(range(horizon)):
        for s in range(num_states):
            total = 0.0
            for a in range(num_actions):
                q = rewards[h, s, a]
                for s_next in range(num_states):
                    q += transitions[h, s, a, s_next] * v[h + 1, s_next]
                total += policy[h, s, a] * q
            v[h, s] = total
    return v


def _random_numpy_mdp(seed, num_states=4, num_actions=3, horizon=5):
    rng = np.random.default_rng(seed)
    transitions = rng.dirichlet(np.ones(num_states), (horizon, num_states, num_actions))
    rewards = rng.uniform(size=(horizon, num_states, num_actions))
    initial = rng.dirichlet(np.ones(num_states))
    return transitions, rewards, initial


def _random_policy(seed, horizon, num_states, num_actions):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(num_actions), (horizon, num_states))


def _episode_regrets(learner, env, params, num_episodes, key):
    """Closed loop over episodes: per-episode info.regret [num_episodes]."""

    @jax.jit
    def run(params, key):
        learner_state = learner.init(jax.random.fold_in(key, 2**31 - 1))
        env_state, obs = env.reset(jax.random.fold_in(key, 2**31 - 2), params)

        def body(carry, t):
            learner_state, env_state, obs = carry
            key_learner, key_env = jax.random.split(jax.random.fold_in(key, t))
            policy, learner_state = learner.act(key_learner, learner_state, obs)
            env_state, next_obs, trajectory, info = env.step(
                key_env, env_state, policy, params
            )
            learner_state = learner.update(learner_state, obs, policy, trajectory)
            return (learner_state, env_state, next_obs), info.regret

        carry = (learner_state, env_state, obs)
        return jax.lax.scan(body, carry, jnp.arange(num_episodes))[1]

    return np.asarray(run(params, key), np.float64)


# --------------------------------------------------------------------------------------
# Exact values.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_induction_matches_numpy_loops(seed):
    transitions, rewards, initial = _random_numpy_mdp(seed)
    policy = _random_policy(seed + 10, *rewards.shape)
    with jax.enable_x64(True):
        env = tabular_mdp(transitions, rewards, initial, horizon=5)
        q, v = jax.jit(backward_induction)(env.params)
        v_pi = jax.jit(policy_value)(env.params, jnp.asarray(policy))
        q_planner = jax.jit(optimal_q_values)(
            env.params.transitions, env.params.rewards
        )
        assert q.dtype == jnp.float64
    q_ref, v_ref = _numpy_backward_induction(transitions, rewards)
    np.testing.assert_allclose(np.asarray(q), q_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.asarray(v), v_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.asarray(q_planner), q_ref, rtol=0, atol=1e-10)
    v_pi_ref = _numpy_policy_value(transitions, rewards, policy)
    np.testing.assert_allclose(np.asarray(v_pi), v_pi_ref, rtol=0, atol=1e-10)
    # Not vacuous: a random policy is strictly worse than the optimal one somewhere.
    assert np.max(v_ref[0] - v_pi_ref[0]) > 0.1


def test_optimal_policy_value_equals_optimal_value():
    transitions, rewards, initial = _random_numpy_mdp(3, num_states=5, num_actions=4)
    with jax.enable_x64(True):
        env = tabular_mdp(transitions, rewards, initial, horizon=5)
        q, v = backward_induction(env.params)
        v_greedy = policy_value(env.params, greedy_policy(q))
    np.testing.assert_allclose(np.asarray(v_greedy), np.asarray(v), rtol=0, atol=1e-12)
    # Every other deterministic policy (one action changed) is no better.
    q_np = np.asarray(q)
    best = q_np.argmax(-1)
    other = (best + 1) % q_np.shape[-1]
    with jax.enable_x64(True):
        v_other = policy_value(
            env.params, jax.nn.one_hot(other, q_np.shape[-1], dtype=jnp.float64)
        )
    assert np.all(np.asarray(v_other) <= np.asarray(v) + 1e-12)


def test_stationary_tables_broadcast_over_the_horizon():
    transitions, rewards, initial = _random_numpy_mdp(4, horizon=1)
    env = tabular_mdp(transitions[0], rewards[0], initial, horizon=7)
    assert env.params.transitions.shape == (7, 4, 3, 4)
    assert env.params.rewards.shape == (7, 4, 3)
    for h in range(7):
        np.testing.assert_allclose(
            np.asarray(env.params.transitions[h]), transitions[0]
        )
    # With stationary tables, V*_0 of horizon 7 is V*_{h} of horizon 7 + h.
    _, v = backward_induction(env.params)
    _, v_long = backward_induction(
        tabular_mdp(transitions[0], rewards[0], initial, horizon=9).params
    )
    np.testing.assert_allclose(np.asarray(v[0]), np.asarray(v_long[2]), atol=1e-5)


# --------------------------------------------------------------------------------------
# The two reference learners.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["river_swim", "random"])
def test_oracle_has_zero_regret(which):
    if which == "river_swim":
        env = river_swim()
        params = env.params
    else:
        env = random_tabular_mdp(5, 3, 4)
        params = jax.tree.map(lambda x: x[3], _random_instances()[0])
    regrets = _episode_regrets(
        value_iteration_oracle(params), env, params, 50, jax.random.key(0)
    )
    assert regrets.shape == (50,)
    assert abs(regrets.sum()) <= 1e-6


def test_uniform_policy_regret_is_the_numpy_value_gap():
    env = river_swim(num_states=6, horizon=20)
    params = env.params
    transitions = np.asarray(params.transitions, np.float64)
    rewards = np.asarray(params.rewards, np.float64)
    initial = np.asarray(params.initial, np.float64)
    _, v_star = _numpy_backward_induction(transitions, rewards)
    uniform = np.full(rewards.shape, 0.5)
    v_uniform = _numpy_policy_value(transitions, rewards, uniform)
    expected_gap = initial @ v_star[0] - initial @ v_uniform[0]
    assert expected_gap > 0.1  # RiverSwim: dithering rarely reaches the far bank
    regrets = _episode_regrets(
        uniform_policy(6, 2, 20), env, params, 30, jax.random.key(1)
    )
    # float32 values of magnitude <= H = 20: relative rounding ~1e-7.
    np.testing.assert_allclose(regrets, expected_gap, rtol=1e-5)


def test_river_swim_optimal_policy_swims_right():
    env = river_swim(num_states=6, horizon=20)
    q, v = backward_induction(env.params)
    policy = np.asarray(q).argmax(-1)  # [H, S]
    # With 20 steps left the far bank is worth the swim from every state...
    np.testing.assert_array_equal(policy[0], 1)
    # ... but with one step left in state 0 only the small sure reward is available.
    assert policy[-1, 0] == 0
    assert float(v[0, 0]) > 20 * 0.005  # better than collecting 0.005 every step


# --------------------------------------------------------------------------------------
# Simulation.
# --------------------------------------------------------------------------------------


# One compiled simulator shared by the tests below: reset / step take the params as an
# argument, so every instance of shape (H, S, A) = (5, 5, 3) reuses one program.
_NUM_EPISODES = 4000


@functools.cache
def _episode_simulator():
    env = river_swim()

    @jax.jit
    def simulate(params, policy, keys):
        def one(key):
            state, _ = env.reset(key, params)
            return env.step(key, state, policy, params)

        return jax.vmap(one)(keys)

    return simulate


def _simulate(params, policy, seed):
    keys = jax.random.split(jax.random.key(seed), _NUM_EPISODES)
    return _episode_simulator()(params, jnp.asarray(policy, jnp.float32), keys)


def _sparse(probabilities, threshold):
    """Zeroes entries below ``threshold`` and gives the mass back to index 0."""
    sparse = np.where(probabilities > threshold, probabilities, 0.0)
    sparse[..., 0] += 1.0 - sparse.sum(-1)
    return sparse


def test_trajectories_follow_the_model():
    transitions, rewards, initial = _random_numpy_mdp(5, num_states=5, num_actions=3)
    # Sparse supports, so that an impossible transition or action would show.
    transitions = _sparse(transitions, 0.15)
    policy = _sparse(_random_policy(6, 5, 5, 3), 0.2)
    env = tabular_mdp(transitions, rewards, initial, horizon=5)
    _, obs, trajectory, info = _simulate(env.params, policy, 0)
    assert isinstance(trajectory, Trajectory) and isinstance(info, StepInfo)
    assert obs == ()
    states = np.asarray(trajectory.states)
    actions = np.asarray(trajectory.actions)
    assert states.shape == actions.shape == (_NUM_EPISODES, 5)
    assert states.dtype == actions.dtype == np.int32
    h = np.arange(5)[None, :]
    np.testing.assert_allclose(
        np.asarray(trajectory.rewards), rewards[h, states, actions], atol=1e-6
    )
    assert np.all(policy[h, states, actions] > 0)
    next_states = states[:, 1:]
    assert np.all(
        transitions[h[:, :-1], states[:, :-1], actions[:, :-1], next_states] > 0
    )
    assert np.all(initial[states[:, 0]] > 0)


def test_state_visitation_matches_exact_occupancy():
    transitions, rewards, initial = _random_numpy_mdp(7, num_states=5, num_actions=3)
    policy = _random_policy(8, 5, 5, 3)
    env = tabular_mdp(transitions, rewards, initial, horizon=5)
    states = np.asarray(_simulate(env.params, policy, 2)[2].states)
    # Exact occupancy d_{h+1}(s') = sum_{s, a} d_h(s) pi_h(a | s) P_h(s' | s, a).
    occupancy = np.zeros((5, 5))
    occupancy[0] = initial
    for h in range(4):
        occupancy[h + 1] = np.einsum(
            "s,sa,sat->t", occupancy[h], policy[h], transitions[h]
        )
    empirical = np.stack([np.bincount(states[:, h], minlength=5) for h in range(5)])
    empirical = empirical / _NUM_EPISODES
    # Binomial frequencies: sd = sqrt(p (1 - p) / n) <= 0.0079; 5 sd over 25 cells fails
    # a correct simulator with probability < 2e-5 (the 3 / n slack covers the heavier
    # Poisson tail of cells with tiny p).
    sd = np.sqrt(occupancy * (1 - occupancy) / _NUM_EPISODES)
    assert np.all(np.abs(empirical - occupancy) <= 5 * sd + 3 / _NUM_EPISODES)
    # Not vacuous: the occupancy moves away from the initial distribution.
    assert np.abs(occupancy[4] - occupancy[0]).max() > 0.05


def test_mean_return_matches_policy_value():
    transitions, rewards, initial = _random_numpy_mdp(9, num_states=5, num_actions=3)
    # Sparse rewards: the return varies a lot between episodes.
    rewards = np.where(rewards > 0.7, rewards, 0.0)
    policy = _random_policy(10, 5, 5, 3)
    env = tabular_mdp(transitions, rewards, initial, horizon=5)
    sampled = np.asarray(jnp.sum(_simulate(env.params, policy, 3)[2].rewards, axis=1))
    v_pi = initial @ _numpy_policy_value(transitions, rewards, policy)[0]
    # The mean of n i.i.d. returns has standard error sd / sqrt(n); 5 standard errors
    # (estimated sd, n = 4000) is exceeded with probability < 1e-6.
    standard_error = sampled.std(ddof=1) / np.sqrt(_NUM_EPISODES)
    assert standard_error > 0.005
    assert abs(sampled.mean() - v_pi) <= 5 * standard_error


def test_common_random_numbers_across_policies():
    # Two deterministic policies that agree on step 0 see the same first transition.
    transitions, rewards, initial = _random_numpy_mdp(11, num_states=5, num_actions=3)
    env = tabular_mdp(transitions, rewards, initial, horizon=5)
    first_actions = np.zeros((5, 5), np.int64)
    other_actions = first_actions.copy()
    other_actions[1:] = 2
    first = _simulate(env.params, np.eye(3)[first_actions], 4)[2].states
    other = _simulate(env.params, np.eye(3)[other_actions], 4)[2].states
    first, other = np.asarray(first), np.asarray(other)
    np.testing.assert_array_equal(first[:, :2], other[:, :2])
    # Not vacuous: the policies differ from step 1 on, and so do some later states.
    assert np.any(first[:, 2] != other[:, 2])


# --------------------------------------------------------------------------------------
# Random instances and validation.
# --------------------------------------------------------------------------------------


@functools.cache
def _random_instances():
    """16 instances of each sampler, (H, S, A) = (4, 5, 3), in one compiled program."""
    varying = random_tabular_mdp(5, 3, 4)
    homogeneous = random_tabular_mdp(5, 3, 4, time_homogeneous=True)
    assert varying.params is None and homogeneous.params is None

    @jax.jit
    @jax.vmap
    def sample(key):
        return varying.sample_params(key), homogeneous.sample_params(key)

    return sample(jax.random.split(jax.random.key(0), 16))


def test_random_instances_vmap():
    env = random_tabular_mdp(5, 3, 4)
    instances, homogeneous = _random_instances()
    assert isinstance(instances, TabularMDPParams)
    assert instances.transitions.shape == (16, 4, 5, 3, 5)
    for batch in (instances, homogeneous):
        transitions = np.asarray(batch.transitions)
        np.testing.assert_allclose(transitions.sum(-1), 1.0, atol=1e-5)
        rewards = np.asarray(batch.rewards)
        assert np.all((rewards >= 0) & (rewards <= 1)) and rewards.std() > 0.2
        np.testing.assert_array_equal(np.asarray(batch.initial)[:, 0], 1.0)
    # One table shared by every step, or one per step.
    transitions = np.asarray(homogeneous.transitions)
    np.testing.assert_array_equal(transitions[:, 0], transitions[:, 3])
    assert not np.allclose(
        np.asarray(instances.transitions)[:, 0], instances.transitions[:, 3]
    )
    uniform = jnp.full((4, 5, 3), 1.0 / 3)

    @jax.jit
    @jax.vmap
    def regret(params, key):
        state, _ = env.reset(key, params)
        return env.step(key, state, uniform, params)[3].regret

    keys = jax.random.split(jax.random.key(1), 16)
    regrets = np.asarray(regret(instances, keys))
    assert regrets.shape == (16,) and np.all(regrets > 0)


def test_validation_errors():
    transitions, rewards, initial = _random_numpy_mdp(0, horizon=2)
    bad_rows = transitions.copy()
    bad_rows[1, 2, 0] += 0.1
    with pytest.raises(ValueError, match="sum to 1"):
        tabular_mdp(bad_rows, rewards, initial, horizon=2)
    negative = transitions.copy()
    negative[0, 0, 0, :2] = [-0.5, 1.5 - negative[0, 0, 0, 2:].sum()]
    with pytest.raises(ValueError, match="non-negative"):
        tabular_mdp(negative, rewards, initial, horizon=2)
    with pytest.raises(ValueError, match="steps but horizon"):
        tabular_mdp(transitions, rewards, initial, horizon=3)
    with pytest.raises(ValueError, match="S states"):
        tabular_mdp(transitions[..., :3], rewards, initial, horizon=2)
    with pytest.raises(ValueError, match="rewards must have shape"):
        tabular_mdp(transitions, rewards[:, :, :2], initial, horizon=2)
    with pytest.raises(ValueError, match=r"rewards must lie in \[0, 1\]"):
        tabular_mdp(transitions, rewards + 1.0, initial, horizon=2)
    with pytest.raises(ValueError, match="initial"):
        tabular_mdp(transitions, rewards, initial * 2, horizon=2)
    with pytest.raises(ValueError, match="horizon"):
        tabular_mdp(transitions[0], rewards[0], initial, horizon=0)
    with pytest.raises(ValueError, match="num_states"):
        river_swim(num_states=1)
    with pytest.raises(ValueError, match="concentration"):
        random_tabular_mdp(3, 2, 4, concentration=0.0)
    with pytest.raises(ValueError, match="size"):
        deep_sea(1)
    with pytest.raises(ValueError, match="unscaled_move_cost"):
        deep_sea(4, unscaled_move_cost=2.0)
    with pytest.raises(ValueError, match="branching"):
        garnet(3, 2, 4, 5)
    with pytest.raises(ValueError, match="slip"):
        grid_world(3, 5, slip=1.5)
    with pytest.raises(ValueError, match="num_actions"):
        combination_lock(4, num_actions=1)
    negative_rewards = rewards.copy()
    negative_rewards[0, 1, 1] = -0.01
    with pytest.raises(ValueError, match=r"rewards must lie in \[0, 1\]"):
        tabular_mdp(transitions, negative_rewards, initial, horizon=2)


# --------------------------------------------------------------------------------------
# Exploration benchmarks: hand-solved values.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 6])
def test_deep_sea_hand_solved(size):
    mapping = np.random.default_rng(size).integers(0, 2, (size, size))
    cost = 0.01
    with jax.enable_x64(True):
        params = deep_sea_params(mapping, unscaled_move_cost=cost)
        q, v = backward_induction(params)
        # Always "right" reaches the treasure: bsuite's optimal return 1 - c, plus the
        # shift c / N per step (N steps).
        assert float(v[0, 0]) == pytest.approx(1.0, abs=1e-12)
        # The optimal action on the diagonal is the instance's "right".
        greedy = np.asarray(q).argmax(-1)
        np.testing.assert_array_equal(
            greedy[np.arange(size), np.arange(size)],
            mapping[np.arange(size), np.arange(size)],
        )
        # Always "left": collects c / N per step, c in total (bsuite: 0).
        left = jax.nn.one_hot(1 - mapping[:, :], 2, dtype=jnp.float64)
        assert float(policy_value(params, left)[0, 0]) == pytest.approx(cost, abs=1e-12)
        # Uniform dithering: the treasure needs N "rights" in a row, prob 2^-N; every
        # step pays c / N w.p. 1/2 ("left"), so V = 2^-N + c / 2 exactly.
        uniform = jnp.full((size, size, 2), 0.5, jnp.float64)
        v_unif = float(policy_value(params, uniform)[0, 0])
        assert v_unif == pytest.approx(2.0**-size + cost / 2, abs=1e-12)
        q_ref, _ = _numpy_backward_induction(
            np.asarray(params.transitions), np.asarray(params.rewards)
        )
        np.testing.assert_allclose(np.asarray(q), q_ref, atol=1e-12)
        stochastic = deep_sea_params(mapping, deterministic=False)
        _, v_sto = backward_induction(stochastic)
        # bsuite's optimal_no_cost (1 - 1/N)^(N-1) is a lower bound (always right).
        assert float(v_sto[0, 0]) >= (1 - 1 / size) ** (size - 1) - 1e-12
        assert float(v_sto[0, 0]) < 1.0


def test_deep_sea_instances_draw_their_action_mapping():
    env = deep_sea(5)
    assert env.params is None
    params = jax.jit(jax.vmap(env.sample_params))(
        jax.random.split(jax.random.key(0), 64)
    )
    # Which action is "right" at (0, 0): reward at column N-1 is reached only by it;
    # read it from the transitions (right moves column 0 -> 1).
    right_is_1 = np.asarray(params.transitions[:, 0, 0, 1, 1]) == 1.0
    # Bernoulli(1/2) over 64 instances: all-equal has probability 2^-63.
    assert 0 < right_is_1.sum() < 64
    fixed = deep_sea(5, randomize_actions=False)
    np.testing.assert_array_equal(
        np.asarray(fixed.params.transitions[0, 0, 1]), np.eye(5)[1]
    )


def test_combination_lock_hand_solved():
    horizon, num_actions = 4, 3
    env = combination_lock(horizon, num_actions)
    with jax.enable_x64(True):
        params = env.sample_params(jax.random.key(0))
        _, v = backward_induction(params)
        uniform = jnp.full((horizon, 2, num_actions), 1.0 / num_actions, jnp.float64)
        v_unif = policy_value(params, uniform)
    assert float(v[0, 0]) == pytest.approx(1.0)
    assert float(v[0, 1]) == 0.0
    # Dithering opens the lock w.p. A^-H.
    assert float(v_unif[0, 0]) == pytest.approx(num_actions**-horizon, rel=1e-12)


def test_garnet_rows_have_branching_support():
    env = garnet(8, 3, 3, 5)
    params = jax.jit(jax.vmap(env.sample_params))(
        jax.random.split(jax.random.key(1), 16)
    )
    transitions = np.asarray(params.transitions, np.float64)
    np.testing.assert_allclose(transitions.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal((transitions > 0).sum(-1), 3)
    # Stationary: every step has step 0's table.
    np.testing.assert_array_equal(
        transitions[:, 1:],
        np.broadcast_to(transitions[:, :1], transitions[:, 1:].shape),
    )


def test_grid_world_hand_solved():
    # No slip: 4 moves to the goal of a 3x3 grid, then H - 4 steps there at reward 1.
    env = grid_world(3, 6, slip=0.0)
    with jax.enable_x64(True):
        _, v = backward_induction(
            env.with_params(
                jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), env.params)
            ).params
        )
    assert float(v[0, 0]) == pytest.approx(2.0)
    # With slip the optimal value is strictly lower.
    _, v_slip = backward_induction(grid_world(3, 6, slip=0.3).params)
    assert float(v_slip[0, 0]) < 2.0
