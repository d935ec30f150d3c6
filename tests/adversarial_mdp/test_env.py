"""Tests for envs.adversarial_mdp: occupancy measures, the comparator, the telescoped
regret, loss sequences and input validation."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.adversarial_mdp.occupancy import (
    constraint_residual,
    occupancy_measure,
    policy_from_occupancy,
)
from envs.adversarial_mdp import (
    LOSS_SEQUENCES,
    adversarial_mdp,
    best_policy,
    best_policy_value,
    check_loss_table,
    expected_loss,
    layered_transitions,
    switching_table_params,
)
from envs.tabular_mdp import sample_tabular_mdp_params


def _numpy_occupancy(transitions, initial, policy):
    horizon, num_states, num_actions = policy.shape
    q = np.zeros(policy.shape)
    mu = np.array(initial, dtype=np.float64)
    for h in range(horizon):
        next_mu = np.zeros(num_states)
        for s in range(num_states):
            for a in range(num_actions):
                q[h, s, a] = mu[s] * policy[h, s, a]
                for t in range(num_states):
                    next_mu[t] += q[h, s, a] * transitions[h, s, a, t]
        mu = next_mu
    return q


def _random_instance(seed, num_states=3, num_actions=2, horizon=3):
    mdp = sample_tabular_mdp_params(
        jax.random.key(seed), num_states, num_actions, horizon
    )
    key_policy, key_losses = jax.random.split(jax.random.key(seed + 100))
    policy = jax.random.dirichlet(
        key_policy, jnp.ones(num_actions), (horizon, num_states)
    )
    losses = jax.random.uniform(key_losses, (horizon, num_states, num_actions))
    return mdp.transitions, mdp.initial, policy, losses


def _deterministic_policies(horizon, num_states, num_actions):
    """Every deterministic policy, stacked: [A^(H S), H, S, A]."""
    tables = []
    for choice in itertools.product(range(num_actions), repeat=horizon * num_states):
        table = np.zeros((horizon, num_states, num_actions))
        table.reshape(-1, num_actions)[np.arange(horizon * num_states), choice] = 1.0
        tables.append(table)
    return np.stack(tables)


# Jitted (eager op-by-op dispatch is slow); vmapped over a stack of policies.
_expected_loss = jax.jit(expected_loss)
_all_losses = jax.jit(jax.vmap(expected_loss, in_axes=(None, None, None, 0)))


def test_occupancy_equals_forward_recursion_and_value():
    with jax.enable_x64(True):
        transitions, initial, policy, losses = _random_instance(0)
        q = jax.jit(occupancy_measure)(transitions, initial, policy)
        expected = _numpy_occupancy(*map(np.asarray, (transitions, initial, policy)))
        np.testing.assert_allclose(q, expected, rtol=1e-12, atol=1e-14)
        # <q^pi, l> is the expected loss computed by the (independent) backward pass.
        np.testing.assert_allclose(
            jnp.sum(q * losses),
            _expected_loss(transitions, initial, losses, policy),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            constraint_residual(q, transitions, initial), 0, atol=1e-13
        )
        # the policy is recovered where the state is reached (layer 0 starts in 0)
        reached = np.asarray(jnp.sum(q, -1) > 0)
        np.testing.assert_allclose(
            np.asarray(policy_from_occupancy(q))[reached],
            np.asarray(policy)[reached],
            rtol=1e-10,
        )
        assert not reached[0, 1]


def test_comparator_equals_brute_force():
    with jax.enable_x64(True):
        transitions, initial, _, losses = _random_instance(1, 2, 2, 3)
        values = _all_losses(
            transitions, initial, losses, _deterministic_policies(3, 2, 2)
        )
        assert values.shape == (2**6,)
        np.testing.assert_allclose(
            jax.jit(best_policy_value)(transitions, initial, losses),
            np.min(values),
            rtol=1e-12,
        )
        pi = jax.jit(best_policy)(transitions, initial, losses)
        np.testing.assert_allclose(
            _expected_loss(transitions, initial, losses, pi),
            np.min(values),
            rtol=1e-12,
        )


@pytest.mark.parametrize(
    "losses",
    [
        s
        if s in ("switching", "stochastic")
        else pytest.param(s, marks=pytest.mark.slow)
        for s in LOSS_SEQUENCES
    ],
)
def test_telescoped_regret_is_the_hindsight_regret(losses):
    """The sum of info.regret over K episodes equals sum_k V^{pi_k}(l_k) minus the
    brute-force minimum over deterministic policies of sum_k V^pi(l_k)."""
    horizon, num_states, num_actions, num_episodes = 2, 2, 2, 25
    env = adversarial_mdp(num_states, num_actions, horizon, losses=losses)
    params = env.sample_params(jax.random.key(3))
    state, obs = env.reset(jax.random.key(0), params)
    step = jax.jit(env.step)
    total_regret, total_pseudo = 0.0, 0.0
    tables, mean_tables, policies = [], [], []
    loss_fn = jax.jit(LOSS_SEQUENCES[losses][0])
    policy_key = jax.random.key(9)
    for k in range(num_episodes):
        policy = jax.random.dirichlet(
            jax.random.fold_in(policy_key, k),
            jnp.ones(num_actions),
            (horizon, num_states),
        )
        key = jax.random.fold_in(jax.random.key(1), k)
        state, obs, feedback, info = step(key, state, policy, params)
        table = np.asarray(feedback.loss_table, np.float64)
        _, mean_table = loss_fn(
            jax.random.split(key)[0], params.losses, jnp.asarray(k, jnp.int32)
        )
        mean_table = np.asarray(mean_table, np.float64).reshape(table.shape)
        assert np.all((table >= 0) & (table <= 1))
        tables.append(table)
        mean_tables.append(mean_table)
        policies.append(np.asarray(policy, np.float64))
        total_regret += float(info.regret)
        total_pseudo += float(info.pseudo_regret)
        # the visited losses are the table's entries along the trajectory
        np.testing.assert_allclose(
            feedback.losses,
            table[np.arange(horizon), feedback.states, feedback.actions],
            rtol=1e-6,
        )
    args = (
        np.asarray(params.transitions, np.float64),
        np.asarray(params.initial, np.float64),
    )
    deterministic = _deterministic_policies(horizon, num_states, num_actions)
    with jax.enable_x64(True):
        per_episode = jax.jit(jax.vmap(expected_loss, in_axes=(None, None, 0, 0)))
        played = float(np.sum(per_episode(*args, np.stack(tables), np.stack(policies))))
        played_mean = float(
            np.sum(per_episode(*args, np.stack(mean_tables), np.stack(policies)))
        )
        best = float(np.min(_all_losses(*args, np.sum(tables, 0), deterministic)))
        best_mean = float(
            np.min(_all_losses(*args, np.sum(mean_tables, 0), deterministic))
        )
    # float32 env: relative error of the order 1e-6 of sums of about K H = 50
    np.testing.assert_allclose(total_regret, played - best, atol=2e-4)
    np.testing.assert_allclose(total_pseudo, played_mean - best_mean, atol=2e-4)


def test_ftl_trap_punishes_follow_the_leader():
    """A deterministic leader policy pays about H per episode, the best fixed one about
    H / 2: regret grows like K H / 2."""
    horizon, num_states, num_actions, num_episodes = 2, 2, 3, 40
    env = adversarial_mdp(num_states, num_actions, horizon, losses="ftl_trap")
    params = env.sample_params(jax.random.key(0))
    state, _ = env.reset(jax.random.key(0), params)
    cumulative = jnp.zeros((horizon, num_states, num_actions))
    regret = 0.0
    leader_fn, step = jax.jit(best_policy), jax.jit(env.step)
    for k in range(num_episodes):
        leader = leader_fn(params.transitions, params.initial, cumulative)
        state, _, feedback, info = step(jax.random.key(k), state, leader, params)
        cumulative = cumulative + feedback.loss_table
        regret += float(info.regret)
    # Exact: FTL pays H every episode after the first, the best policy pays H / 2 per
    # episode on average (+ H / 4 at the start): regret = (K - 1) H / 2 - H / 4 or so.
    assert regret > 0.45 * horizon * num_episodes


def test_bandit_feedback_hides_the_table():
    env = adversarial_mdp(2, 2, 2, feedback="bandit", known_transitions=False)
    params = env.sample_params(jax.random.key(0))
    state, obs = env.reset(jax.random.key(0), params)
    assert obs == ()
    _, _, feedback, _ = env.step(
        jax.random.key(1), state, jnp.ones((2, 2, 2)) / 2, params
    )
    assert feedback.loss_table is None
    assert feedback.losses.shape == (2,)


def test_validation_errors():
    good = np.full((2, 2, 2, 2), 0.5)
    with pytest.raises(ValueError, match="must sum to 1"):
        adversarial_mdp(2, 2, 2, transitions=np.full((2, 2, 2, 2), 0.4))
    with pytest.raises(ValueError, match="non-negative"):
        bad = good.copy()
        bad[0, 0, 0] = (1.5, -0.5)
        adversarial_mdp(2, 2, 2, transitions=bad)
    with pytest.raises(ValueError, match="layered"):
        adversarial_mdp(2, 2, 2, transitions=np.full((2, 2, 2), 0.5))
    # a flat loop-free MDP: 0 -> {1, 2}; a transition back to layer 0 is not layered
    flat = np.zeros((3, 2, 3))
    flat[0, :, 1:] = 0.5
    out = layered_transitions(flat, [0, 1, 1])
    assert out.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(out[0, 0], [[0.5, 0.5], [0.5, 0.5]])
    flat[1, 0, 0] = 1.0
    with pytest.raises(ValueError, match="not layered"):
        layered_transitions(flat, [0, 1, 1])
    flat = np.zeros((3, 2, 3))
    flat[0, :, 1] = 0.7
    with pytest.raises(ValueError, match="not stochastic"):
        layered_transitions(flat, [0, 1, 1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        check_loss_table(np.full((2, 2, 2), 1.5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        switching_table_params(np.full((2, 2, 2, 2), -0.1))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adversarial_mdp(
            2,
            2,
            2,
            transitions=good,
            loss_params=switching_table_params(np.zeros((2, 2, 2, 2)))._replace(
                phase_losses=jnp.full((2, 8), 2.0)
            ),
        )
    with pytest.raises(ValueError, match="unknown loss sequence"):
        adversarial_mdp(2, 2, 2, losses="nope")
    with pytest.raises(ValueError, match="feedback"):
        adversarial_mdp(2, 2, 2, feedback="semi")
