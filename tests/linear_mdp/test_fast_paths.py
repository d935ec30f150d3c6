"""Equivalence tests of the benchmark's fast paths against the formulas they replace.

The linear-form values of ``envs.linear_mdp`` against the tabular backward induction,
the all-steps bonus downdate against the per-step one, and LSVI-UCB's batched refresh
rule against the unbatched ``cond``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.linear_mdp import lsvi_ucb
from algorithms.linear_mdp.lsvi import (
    _refresh_if,
    _refresh_inverse,
    downdate_bonus_sq,
    downdate_bonus_sq_all,
    lsvi_q_values,
)
from algorithms.tabular import greedy_policy
from envs.linear_mdp import (
    LinearMDPObs,
    linear_backward_induction,
    linear_policy_value,
    linear_to_tabular,
    random_linear_mdp,
)
from envs.tabular_mdp import Trajectory, backward_induction, policy_value

_linear_values = jax.jit(linear_backward_induction)
_linear_policy_value = jax.jit(linear_policy_value)
_tabular_values = jax.jit(backward_induction)
_tabular_policy_value = jax.jit(policy_value)


def _instance(seed=0, sizes=(7, 4, 5, 6)):
    env = random_linear_mdp(*sizes, concentration=0.5)
    return env, jax.jit(env.sample_params)(jax.random.key(seed))


@pytest.mark.parametrize("seed", [0, 1])
def test_linear_values_equal_the_tabular_backward_induction(seed):
    env, params = _instance(seed)
    tabular = linear_to_tabular(params)
    q_tab, v_tab = _tabular_values(tabular)
    q_lin, v_lin = _linear_values(params)
    np.testing.assert_allclose(q_lin, q_tab, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(v_lin, v_tab, rtol=1e-5, atol=1e-5)
    # A stochastic policy, and a deterministic one.
    rng = np.random.default_rng(seed)
    horizon, num_states, num_actions = tabular.rewards.shape
    for policy in (
        rng.dirichlet(np.ones(num_actions), (horizon, num_states)),
        np.eye(num_actions)[rng.integers(num_actions, size=(horizon, num_states))],
    ):
        policy = jnp.asarray(policy, jnp.float32)
        np.testing.assert_allclose(
            _linear_policy_value(params, policy),
            _tabular_policy_value(tabular, policy),
            rtol=1e-5,
            atol=1e-5,
        )
    # The wrong horizon is refused.
    with pytest.raises(AssertionError):
        linear_policy_value(params, jnp.ones((horizon + 1, num_states, num_actions)))


def test_linear_env_regret_of_the_optimal_policy_is_zero_and_of_others_exact():
    env, params = _instance(2)
    state, _ = jax.jit(env.reset)(jax.random.key(0), params)
    step = jax.jit(env.step)
    q_star, _ = _tabular_values(linear_to_tabular(params))
    _, _, _, info = step(jax.random.key(1), state, greedy_policy(q_star), params)
    assert abs(float(info.regret)) < 1e-6
    # The uniform policy: regret from the tabular values (an independent route).
    tabular = linear_to_tabular(params)
    uniform = jnp.full(tabular.rewards.shape, 1.0 / tabular.rewards.shape[-1])
    _, _, _, info = step(jax.random.key(1), state, uniform, params)
    expected = (
        backward_induction(tabular)[1][0, 0] - policy_value(tabular, uniform)[0, 0]
    )
    assert float(expected) > 0.05
    np.testing.assert_allclose(info.regret, expected, rtol=1e-5)


def test_all_steps_downdate_equals_the_per_step_downdate():
    rng = np.random.default_rng(0)
    horizon, num_states, num_actions, dim = 4, 5, 3, 6
    features = jnp.asarray(rng.dirichlet(np.ones(dim), (num_states, num_actions)))
    grams = np.eye(dim) + np.einsum(
        "hni,hnj->hij", *(2 * [rng.normal(size=(horizon, 20, dim))])
    )
    inverses = jnp.asarray(np.linalg.inv(grams), jnp.float32)
    phis = jnp.asarray(rng.dirichlet(np.ones(dim), horizon), jnp.float32)
    bonus_sq = jnp.einsum("sai,hij,saj->hsa", features, inverses, features)
    per_step = jax.vmap(downdate_bonus_sq, in_axes=(0, None, 0, 0))(
        bonus_sq, features, inverses, phis
    )
    all_steps = downdate_bonus_sq_all(bonus_sq, features, inverses, phis)
    np.testing.assert_allclose(all_steps, per_step, rtol=1e-5, atol=1e-7)
    # And both are the quadratic forms under the updated inverses (float64).
    updated = np.linalg.inv(grams + np.einsum("hi,hj->hij", phis, phis))
    direct = np.einsum("sai,hij,saj->hsa", features, updated, features)
    np.testing.assert_allclose(all_steps, direct, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("flags", [(True, False, True), (False, False, False)])
def test_batched_refresh_rule_equals_the_unbatched_cond(flags):
    rng = np.random.default_rng(1)
    dim, horizon = 4, 2
    x = rng.normal(size=(3, horizon, 10, dim))
    grams = jnp.asarray(np.eye(dim) + np.einsum("bhni,bhnj->bhij", x, x), jnp.float32)
    stale = jnp.asarray(rng.normal(size=grams.shape), jnp.float32)  # not the inverse
    refresh = jnp.asarray(flags)
    batched = jax.jit(jax.vmap(_refresh_if))(refresh, grams, stale)
    for b, flag in enumerate(flags):
        single = jax.jit(_refresh_if)(refresh[b], grams[b], stale[b])
        np.testing.assert_array_equal(batched[b], single)
        expected = _refresh_inverse(grams[b]) if flag else stale[b]
        np.testing.assert_array_equal(batched[b], expected)
    # An unbatched predicate and gram with a batched inverse.
    out = jax.vmap(_refresh_if, in_axes=(None, None, 0))(refresh[0], grams[0], stale)
    expected = _refresh_inverse(grams[0]) if flags[0] else stale
    np.testing.assert_array_equal(out, jnp.broadcast_to(expected, out.shape))


@pytest.mark.slow  # ~15-30 s of compilation; kept out of the fast suite
def test_lsvi_ucb_vmapped_equals_per_seed_across_a_refresh():
    """The batched rule (one cond for the batch) against the plain cond, seed by
    seed, over 12 episodes (the inverse is refreshed at episodes 5 and 10)."""
    num_states, num_actions, dim, horizon, num_seeds = 5, 3, 4, 3, 3
    learner = lsvi_ucb(num_states, num_actions, dim, horizon, beta=0.7, refresh_every=5)
    keys = jax.random.split(jax.random.key(0), num_seeds)
    features = jax.vmap(
        lambda k: jax.random.dirichlet(k, jnp.ones(dim), (num_states, num_actions))
    )(keys)

    def play(state, features, key):
        obs = LinearMDPObs(features)
        policy, state = learner.act(key, state, obs)
        k_s, k_r = jax.random.split(key)
        states = jax.random.randint(k_s, (horizon,), 0, num_states)
        actions = jnp.argmax(policy[jnp.arange(horizon), states], axis=-1)
        rewards = jax.random.uniform(k_r, (horizon,))
        trajectory = Trajectory(states, actions.astype(jnp.int32), rewards)
        return learner.update(state, obs, policy, trajectory), policy

    def episodes(play_fn, state, features, key):
        def body(state, k):
            return play_fn(state, features, k)

        return jax.lax.scan(body, state, jax.random.split(key, 12))

    batched_state, batched_policies = jax.jit(
        jax.vmap(lambda s, f, k: episodes(play, s, f, k))
    )(jax.vmap(learner.init)(keys), features, keys)
    single = jax.jit(lambda s, f, k: episodes(play, s, f, k))
    for b in range(num_seeds):
        state, policies = single(learner.init(keys[b]), features[b], keys[b])
        np.testing.assert_array_equal(policies, batched_policies[b])
        for leaf, batched_leaf in zip(
            jax.tree.leaves(state), jax.tree.leaves(batched_state), strict=True
        ):
            np.testing.assert_allclose(leaf, batched_leaf[b], rtol=1e-6, atol=1e-7)


@pytest.mark.slow  # ~15-30 s of compilation; kept out of the fast suite
def test_behaviour_cloning_is_fitted_once_and_kept():
    """The cached clone: fitted in the first act only (batched rule: per seed, as
    the unbatched cond), equal to a refit from the observation, and kept by update."""
    from algorithms.linear_mdp.demonstrations import (
        _cached_clone,
        _clone,
        demo_lsvi_ucb,
    )
    from envs.linear_demonstrations import with_linear_demonstrations

    shape = (6, 3, 4, 3)
    env = with_linear_demonstrations(random_linear_mdp(*shape), 5)
    keys = jax.random.split(jax.random.key(0), 3)
    params = jax.vmap(env.sample_params)(keys)
    _, obs = jax.vmap(env.reset)(keys, params)
    clone = _cached_clone(6, 3, 12, jnp.float32)
    stale = jnp.full((3, 3, 6, 3), -7.0)
    first = jnp.asarray([True, False, True])
    bc_reg = jnp.ones(3)
    out = jax.jit(jax.vmap(clone))(first, stale, obs, bc_reg)
    for b in range(3):
        obs_b = jax.tree.map(lambda x, b=b: x[b], obs)
        refit = jax.jit(_clone, static_argnums=(1, 2, 4, 5))(
            obs_b, 6, 3, 1.0, 12, jnp.float32
        )
        expected = refit if bool(first[b]) else stale[b]
        np.testing.assert_allclose(out[b], expected, rtol=1e-6, atol=1e-6)
        single = jax.jit(clone)(first[b], stale[b], obs_b, bc_reg[b])
        np.testing.assert_allclose(single, out[b], rtol=1e-6, atol=1e-6)
    # The learner fits in its first act and keeps the fit through update.
    learner = demo_lsvi_ucb(*shape)
    obs_0 = jax.tree.map(lambda x: x[0], obs)
    _, state = jax.jit(learner.act)(keys[0], learner.init(keys[0]), obs_0)
    refit = _clone(obs_0, 6, 3, 1.0, 12, jnp.float32)
    np.testing.assert_allclose(state.log_reference, refit, rtol=1e-6, atol=1e-6)
    trajectory = Trajectory(
        jnp.zeros(3, jnp.int32), jnp.zeros(3, jnp.int32), jnp.zeros(3)
    )
    fitted = state.log_reference
    state = jax.jit(learner.update)(state, obs_0, None, trajectory)
    np.testing.assert_array_equal(state.log_reference, fitted)
    assert int(state.lsvi.stats.num_episodes) == 1


@pytest.mark.slow  # compiles the learner twice (batched and single): over 3 s loaded
def test_lsvi_ucb_first_episode_bonus_per_seed_under_vmap():
    """The first-episode bonus fill (one batched cond, ``lockstep_cond``) on a batch
    mixing a fresh seed and a seed with data: each seed's policy and updated state
    equal the unbatched learner's, bit for bit, and the fresh seed's bonus is
    ``||phi|| / sqrt(lambda)``."""
    num_states, num_actions, dim, horizon = 5, 3, 4, 3
    learner = lsvi_ucb(num_states, num_actions, dim, horizon, beta=0.7, reg=2.0)
    rng = np.random.default_rng(3)
    features = jnp.asarray(
        rng.dirichlet(np.ones(dim), (2, num_states, num_actions)), jnp.float32
    )
    trajectory = Trajectory(
        jnp.asarray(rng.integers(num_states, size=(2, horizon)), jnp.int32),
        jnp.asarray(rng.integers(num_actions, size=(2, horizon)), jnp.int32),
        jnp.asarray(rng.uniform(size=(2, horizon)), jnp.float32),
    )
    fresh = learner.init(jax.random.key(0))
    seen = learner.update(
        fresh, LinearMDPObs(features[1]), None, jax.tree.map(lambda x: x[1], trajectory)
    )
    batch = jax.tree.map(lambda a, b: jnp.stack([a, b]), fresh, seen)

    def play(state, features, trajectory):
        obs = LinearMDPObs(features)
        policy, state = learner.act(jax.random.key(1), state, obs)
        return policy, learner.update(state, obs, policy, trajectory)

    batched = jax.jit(jax.vmap(play))(batch, features, trajectory)
    for b in range(2):
        single = jax.jit(play)(
            jax.tree.map(lambda x, b=b: x[b], batch),
            features[b],
            jax.tree.map(lambda x, b=b: x[b], trajectory),
        )
        for leaf, batched_leaf in zip(
            jax.tree.leaves(single), jax.tree.leaves(batched), strict=True
        ):
            np.testing.assert_array_equal(leaf, batched_leaf[b])
    # The fresh seed planned with the bonus ||phi||^2 / lambda: its first policy is
    # the greedy policy of the capped Q-values of the empty statistics.
    q0 = lsvi_q_values(features[0], fresh.stats, 0.7)
    np.testing.assert_array_equal(batched[0][0], greedy_policy(q0))
