"""The XLA:CPU-friendly UCBVI / tabular-env episode path equals the plain formulas.

Each rewritten function is compared, under ``jit`` and ``vmap`` over seeds (the
runner's setting), with the formula it replaced: a scatter-add for the counts, a
``lax.scan`` with ``einsum`` for the backward passes, ``jax.random`` for the draws and
``jnp.argmax`` for the tie-breaking. Equality is exact (bit for bit) in float32.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.tabular import (
    empirical_model,
    greedy_policy_random_ties,
    init_counts,
    ucbvi,
    ucbvi_hoeffding_bonus,
    ucbvi_log_term,
    update_counts,
)
from algorithms.tabular.statistics import VisitCounts
from envs import tabular_mdp as tm
from envs import threefry

S, A, H = 5, 3, 7
SEEDS = 64


def _random_model(key):
    k_p, k_r = jax.random.split(key)
    transitions = jax.random.dirichlet(k_p, jnp.ones(S), (H, S, A))
    rewards = jax.random.uniform(k_r, (H, S, A))
    initial = jnp.full((S,), 1.0 / S)
    return tm.TabularMDPParams(transitions, rewards, initial)


def _random_policy(key, deterministic):
    if deterministic:
        actions = jax.random.randint(key, (H, S), 0, A)
        return jax.nn.one_hot(actions, A)
    return jax.random.dirichlet(key, jnp.ones(A), (H, S))


def _scatter_update(counts, trajectory):
    """The counts update as it was: scatter-adds at (h, s_h, a_h[, s_{h+1}])."""
    states, actions, rewards = trajectory
    steps = jnp.arange(counts.visits.shape[0])
    return VisitCounts(
        counts.visits.at[steps, states, actions].add(1.0),
        counts.transition_counts.at[
            steps[:-1], states[:-1], actions[:-1], states[1:]
        ].add(1.0),
        counts.reward_sums.at[steps, states, actions].add(rewards),
    )


def test_threefry_split_and_uniforms_are_jax_random():
    keys = jax.random.split(jax.random.key(3), SEEDS)
    split = jax.jit(jax.vmap(lambda k: jax.random.key_data(threefry.split(k, 5))))
    ref = jax.vmap(lambda k: jax.random.key_data(jax.random.split(k, 5)))
    np.testing.assert_array_equal(split(keys), ref(keys))
    uniforms = jax.jit(jax.vmap(lambda k: threefry.uniforms(k, (H, S, A))))
    ref = jax.vmap(lambda k: jax.random.uniform(k, (H, S, A)))
    np.testing.assert_array_equal(uniforms(keys), ref(keys))
    assert threefry.uniforms(keys[0], (2, 3)).shape == (2, 3)


def test_update_counts_equals_scatter_adds():
    keys = jax.random.split(jax.random.key(0), 3)
    trajectories = tm.Trajectory(
        jax.random.randint(keys[0], (SEEDS, 30, H), 0, S),
        jax.random.randint(keys[1], (SEEDS, 30, H), 0, A),
        jax.random.uniform(keys[2], (SEEDS, 30, H)),
    )

    def accumulate(update, trajs):
        return jax.lax.scan(
            lambda c, t: (update(c, tm.Trajectory(*t)), None),
            init_counts(S, A, H),
            tuple(trajs),
        )[0]

    ours = jax.jit(jax.vmap(lambda t: accumulate(update_counts, t)))(trajectories)
    ref = jax.jit(jax.vmap(lambda t: accumulate(_scatter_update, t)))(trajectories)
    for x, y in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(x, y)
    assert float(ours.visits.sum()) == SEEDS * 30 * H


def test_random_ties_equal_argmax_of_noise():
    keys = jax.random.split(jax.random.key(4), SEEDS)
    # Values on a coarse grid: many exact ties, as at the optimistic caps.
    q = jnp.round(jax.random.uniform(jax.random.key(5), (SEEDS, H, S, A)) * 2.0)

    def reference(key, q):
        noise = jax.random.uniform(key, q.shape, q.dtype)
        best = q >= jnp.max(q, axis=-1, keepdims=True)
        actions = jnp.argmax(jnp.where(best, noise, -1.0), axis=-1)
        return jax.nn.one_hot(actions, A, dtype=q.dtype)

    ours = jax.jit(jax.vmap(greedy_policy_random_ties))(keys, q)
    np.testing.assert_array_equal(ours, jax.jit(jax.vmap(reference))(keys, q))
    # Every tied action is played sometimes (the ties are not broken by index).
    tied = np.asarray(q >= q.max(-1, keepdims=True))
    assert np.all(np.asarray(ours)[tied.sum(-1) > 1].sum(0) > 0)


# The stochastic-policy case with the slow tests (CI time, ~13 s of CPU).
@pytest.mark.parametrize(
    "deterministic", [True, pytest.param(False, marks=pytest.mark.slow)]
)
def test_unrolled_episode_and_value_equal_scan_versions(deterministic):
    keys = jax.random.split(jax.random.key(6), 3 * SEEDS).reshape(3, SEEDS)
    params = jax.vmap(_random_model)(keys[0])
    policy = jax.vmap(lambda k: _random_policy(k, deterministic))(keys[1])
    ref = jax.jit(jax.vmap(tm.simulate_episode))(keys[2], params, policy)
    # Rows read through masks, and gathered (the linear-MDP env's setting).
    for gather_rows in (False, True):
        simulate = functools.partial(
            tm._simulate_episode_unrolled, gather_rows=gather_rows
        )
        ours = jax.jit(jax.vmap(simulate))(keys[2], params, policy)
        for x, y in zip(ours, ref, strict=True):
            np.testing.assert_array_equal(x, y)
    value = jax.jit(jax.vmap(tm._initial_policy_value))(params, policy)
    ref_value = jax.jit(
        jax.vmap(lambda p, pi: jnp.dot(p.initial, tm.policy_value(p, pi)[0]))
    )(params, policy)
    # Same arithmetic, but XLA:CPU may order the float32 sums differently for the
    # two programs (it depends on the CPU: bit-identical on some, last-ulp
    # differences on others), so the values are compared to float32 rounding.
    np.testing.assert_allclose(value, ref_value, rtol=1e-6, atol=0)


def _scan_optimistic_q(counts, q_prev, bonus_scale, num_episodes):
    """UCBVI-CH's optimistic Q as it was written: a reverse scan with einsum."""
    p_hat, r_hat, visits, _ = empirical_model(counts, False)
    horizon, num_states, num_actions = visits.shape
    log_term = ucbvi_log_term(num_states, num_actions, horizon, num_episodes, 0.1)
    log_term = log_term.astype(jnp.float32)
    caps = jnp.arange(horizon, 0, -1).astype(jnp.float32)

    def step(value_next, x):
        p_h, r_h, n_h, q_prev_h, cap = x
        b = ucbvi_hoeffding_bonus(n_h, H, log_term)
        backup = r_h + jnp.einsum("sat,t->sa", p_h, value_next) + bonus_scale * b
        backup = jnp.where(n_h > 0, backup, cap)
        q_h = jnp.minimum(jnp.minimum(q_prev_h, cap), backup)
        return jnp.max(q_h, axis=-1), q_h

    terminal = jnp.zeros((num_states,), jnp.float32)
    return jax.lax.scan(
        step, terminal, (p_hat, r_hat, visits, q_prev, caps), reverse=True
    )[1]


@pytest.mark.parametrize("instance", ["river_swim", "dense"])
def test_ucbvi_optimistic_q_equals_scan_formula(instance):
    """A run of UCBVI-CH: after every episode its Q equals the scan formula's.

    On RiverSwim and on dense random rows (small bonus, so that values leave their
    caps within the run).
    """
    num_episodes, bonus_scale = 40, 5e-4
    keys = jax.random.split(jax.random.key(7), SEEDS)
    if instance == "river_swim":
        river = tm.river_swim(6, H).params
        params = jax.tree.map(lambda x: jnp.broadcast_to(x, (SEEDS, *x.shape)), river)
        learner = ucbvi(6, 2, H, num_episodes, bonus_scale=bonus_scale)
    else:
        params = jax.vmap(_random_model)(keys)
        learner = ucbvi(S, A, H, num_episodes, bonus_scale=bonus_scale)

    def one_seed(key, params_seed):
        def episode(state, t):
            q_prev = state.q_values
            policy, state = learner.act(jax.random.fold_in(key, t), state, ())
            ref = _scan_optimistic_q(state.counts, q_prev, bonus_scale, num_episodes)
            trajectory = tm.simulate_episode(
                jax.random.fold_in(key, t + num_episodes), params_seed, policy
            )
            state = learner.update(state, (), policy, trajectory)
            return state, (state.q_values, ref)

        return jax.lax.scan(episode, learner.init(key), jnp.arange(num_episodes))[1]

    ours, ref = jax.jit(jax.vmap(one_seed))(keys, params)
    np.testing.assert_array_equal(ours, ref)
    # The values left their caps: the comparison covers the backup, not only the cap.
    caps = np.arange(H, 0, -1)[:, None, None]
    assert np.mean(np.asarray(ours[:, -1]) < caps) > 0.3
