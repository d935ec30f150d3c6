"""Weighted tallying bandits: the env's losses and complete policy regret on hand-set
play sequences, the best action sequence by brute force, the successive-elimination
variant against a slow NumPy loop and on a hand-built history, the registry's contract,
and the regret comparison of the paper (slow)."""

import itertools
import math

import jax
import numpy as np
import pytest

from algorithms.bandits.tallying import (
    TALLYING_ALGORITHMS,
    make_tallying_learner,
    tally_radius,
    tally_successive_elimination,
)
from envs.tallying_bandits import (
    best_sequence_loss,
    fixed_arm_losses,
    play_sequence_losses,
    reo_instance,
    weighted_tallying_bandit,
)
from tests.helpers import check_learner_contract

# A hand-set instance: m = 3, w = (1, 0.5, 0.25), W = 1.75;
# f_0(x) = 0.8 - 0.7 x / W (k*: 0.1 at full tally), f_1(x) = 0.3 + 0.2 x / W.
WEIGHTS = (1.0, 0.5, 0.25)
LOSSES = ((0.8, 0.1), (0.3, 0.5))


def _env_losses_and_regret(env, actions):
    params = env.params
    state, _ = env.reset(jax.random.key(0), params)
    step = jax.jit(env.step)
    losses, regrets = [], []
    for t, a in enumerate(actions):
        state, _, _, info = step(jax.random.key(t), state, np.int32(a), params)
        losses.append(float(info.loss))
        regrets.append(float(info.regret))
    return np.asarray(losses), np.asarray(regrets)


def test_env_losses_and_regret_on_hand_set_sequence():
    env = weighted_tallying_bandit(WEIGHTS, LOSSES)
    actions = [0, 0, 1, 0, 1, 1]
    losses, regrets = _env_losses_and_regret(env, actions)
    # Tallies by hand: 1, 1 + 0.5, 1 (arm 1 fresh), 1 + 0.25 (a_2 = 0 two rounds
    # back), 1 + 0.25 (a_3 = 1 two back), 1 + 0.5 (a_5 = 1).
    w = 1.75
    expected = [
        0.8 - 0.7 * 1.0 / w,
        0.8 - 0.7 * 1.5 / w,
        0.3 + 0.2 * 1.0 / w,
        0.8 - 0.7 * 1.25 / w,
        0.3 + 0.2 * 1.25 / w,
        0.3 + 0.2 * 1.5 / w,
    ]
    np.testing.assert_allclose(losses, expected, atol=1e-6)
    np.testing.assert_allclose(
        losses, play_sequence_losses(WEIGHTS, LOSSES, actions), atol=1e-6
    )
    # Best fixed arm forever: arm 0 costs 0.4, 0.2, then 0.1 per round (tally W from
    # round 3); arm 1 costs 0.414... then more. min_a F_a(6) = 0.4 + 0.2 + 4 * 0.1.
    cpr = np.cumsum(regrets)
    np.testing.assert_allclose(cpr[-1], sum(expected) - 1.0, atol=1e-5)
    # At every T the cumulative regret is sum of losses minus min_a F_a(T).
    fixed = np.cumsum(fixed_arm_losses(WEIGHTS, LOSSES, 6), axis=1).min(axis=0)
    np.testing.assert_allclose(cpr, np.cumsum(expected) - fixed, atol=1e-5)


def test_comparator_switches_leader_exactly():
    # Arm 1 leads min_a F_a(t) for the first rounds (fresh novelty is cheap), arm 0
    # (k*) later: the telescoped regret equals sum of losses - min_a F_a(t) at every t.
    env = reo_instance(3, 4, decay=0.8, reo_loss=(0.9, 0.9, 0.15))
    params = env.params
    w, f = np.asarray(params.weights, np.float64), np.asarray(params.losses, np.float64)
    rng = np.random.default_rng(0)
    actions = list(rng.integers(0, 3, size=40))
    losses, regrets = _env_losses_and_regret(env, actions)
    fixed = np.cumsum(fixed_arm_losses(w, f, 40), axis=1)
    assert np.argmin(fixed[:, 0]) != np.argmin(fixed[:, -1])  # the leader changes
    np.testing.assert_allclose(
        np.cumsum(regrets), np.cumsum(losses) - fixed.min(axis=0), atol=1e-4
    )


def test_best_sequence_dynamic_programme_matches_brute_force():
    weights = (1.0, 0.6, 0.3)
    losses = np.array([[0.9, 0.5, 0.1], [0.2, 0.45, 0.7], [0.35, 0.4, 0.45]])
    for horizon in range(1, 6):
        brute = min(
            play_sequence_losses(weights, losses, seq).sum()
            for seq in itertools.product(range(3), repeat=horizon)
        )
        np.testing.assert_allclose(
            best_sequence_loss(weights, losses, horizon)[-1], brute, atol=1e-12
        )


def test_best_fixed_arm_is_the_best_sequence_on_the_reo_instance():
    # The regret the env reports is the complete policy regret of the paper (against
    # the best action sequence) once T >= 2m on this instance family.
    env = reo_instance(3, 4)
    w, f = np.asarray(env.params.weights), np.asarray(env.params.losses)
    horizon = 30
    best_seq = best_sequence_loss(w, f, horizon)
    fixed = np.cumsum(fixed_arm_losses(w, f, horizon), axis=1).min(axis=0)
    assert np.all(best_seq <= fixed + 1e-9)
    # For short horizons a fresh novelty arm beats k*'s slow ramp; from T = 2m on the
    # two optima coincide (a DP fact on this instance, T = 7 in fact).
    np.testing.assert_allclose(best_seq[8:], fixed[8:], atol=1e-6)


def test_env_rejects_bad_instances():
    with pytest.raises(ValueError, match="repeated-exposure optimal"):
        weighted_tallying_bandit(WEIGHTS, ((0.8, 0.3), (0.2, 0.5)), reo_arm=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        weighted_tallying_bandit(WEIGHTS, ((0.8, -0.1), (0.3, 1.5)))
    with pytest.raises(ValueError, match="w_0 > 0"):
        weighted_tallying_bandit((0.0, 1.0), LOSSES)
    with pytest.raises(ValueError, match=r"\[K, G\]"):
        weighted_tallying_bandit(WEIGHTS, (0.3, 0.5))


# --- The successive-elimination variant ----------------------------------------------


def _numpy_tally_se(rewards_fn, num_arms, memory_bound, horizon, delta, base, rounds):
    """The algorithm as a plain loop over phases and blocks (reference)."""
    counts, sums = np.zeros(num_arms), np.zeros(num_arms)
    active = np.ones(num_arms, bool)
    actions, phase, t = [], 1, 0
    while t < rounds:
        n_l = math.ceil(base * 2 ** (phase - 1))
        for arm in np.flatnonzero(active):
            for position in range(1, memory_bound + n_l + 1):
                if t >= rounds:
                    return actions, counts, sums, active
                reward = rewards_fn(t, arm)
                actions.append(int(arm))
                if position > memory_bound:
                    counts[arm] += 1
                    sums[arm] += 1.0 - reward
                t += 1
        n = counts[active][0]
        radius = math.sqrt(
            math.log(2 * num_arms * max(math.ceil(math.log2(horizon)), 1) / delta)
            / (2 * n)
        )
        means = sums / np.maximum(counts, 1)
        best_upper = np.min(np.where(active, means + radius, np.inf))
        active = active & ~(means - radius > best_upper)
        phase += 1
    return actions, counts, sums, active


def _play(learner, rewards_fn, rounds, state=None, start=0):
    state = learner.init(jax.random.key(0)) if state is None else state
    act, update = jax.jit(learner.act), jax.jit(learner.update)
    actions = []
    for t in range(start, start + rounds):
        a, state = act(jax.random.key(t), state, ())
        r = rewards_fn(t, int(a))
        state = update(state, (), a, np.float32(r))
        actions.append(int(a))
    return actions, state


def test_elimination_on_a_hand_built_history():
    # M = 2, n_1 = 50: phase 1 plays arm 0, 1, 2 in blocks of 52. Burn-in plays pay
    # reward 0 (loss 1) and must be discarded; after them arm 0 pays 1 (loss 0), arm 1
    # pays 0 (loss 1), arm 2 pays 1 on 4 of 5 plays (loss 0.2). Radius at N = 50:
    # sqrt(ln(2 * 3 * 1 / 1) / 100) = 0.134: arm 1 (LCB 0.866 > 0.134 = UCB of arm 0)
    # is eliminated, arm 2 (LCB 0.066) is not.
    m_bound, base = 2, 50.0
    learner = tally_successive_elimination(
        3, memory_bound=m_bound, horizon=2, delta=1.0, base=base
    )
    block = m_bound + 50

    def rewards_fn(t, arm):
        position = t % block
        if position < m_bound:
            return 0.0
        if arm == 0:
            return 1.0
        if arm == 1:
            return 0.0
        return 0.0 if (position - m_bound) % 5 == 0 else 1.0

    actions, state = _play(learner, rewards_fn, 3 * block)
    assert actions == [0] * block + [1] * block + [2] * block
    np.testing.assert_array_equal(np.asarray(state.counts), [50, 50, 50])
    np.testing.assert_allclose(np.asarray(state.sums), [0.0, 50.0, 10.0])
    np.testing.assert_array_equal(np.asarray(state.active), [True, False, True])
    assert int(state.phase) == 2 and int(state.arm) == 0
    assert math.isclose(
        float(tally_radius(np.float32(50), 3, 2, 1.0)),
        math.sqrt(math.log(6.0) / 100.0),
        rel_tol=1e-6,
    )
    # Phase 2: blocks of 2 + 100 plays for arms 0 and 2 only.
    more, _ = _play(learner, rewards_fn, 2 * 102, state, start=3 * block)
    assert more == [0] * 102 + [2] * 102


def test_matches_numpy_reference_on_random_rewards():
    rng = np.random.default_rng(3)
    table = (rng.random((700, 4)) < np.array([0.8, 0.5, 0.3, 0.75])).astype(float)

    def rewards_fn(t, arm):
        return table[t, arm]

    args = dict(memory_bound=3, horizon=700, delta=0.2, base=4.0)
    learner = tally_successive_elimination(4, **args)
    actions, state = _play(learner, rewards_fn, 700)
    ref_actions, counts, sums, active = _numpy_tally_se(
        rewards_fn, 4, args["memory_bound"], 700, 0.2, 4.0, 700
    )
    assert actions == ref_actions
    assert not active.all()  # the loop does eliminate within 700 rounds
    np.testing.assert_array_equal(np.asarray(state.active), active)
    np.testing.assert_allclose(np.asarray(state.counts), counts)
    np.testing.assert_allclose(np.asarray(state.sums), sums, atol=1e-4)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="memory_bound"):
        tally_successive_elimination(3, memory_bound=-1, horizon=10)
    with pytest.raises(ValueError, match="delta"):
        tally_successive_elimination(3, memory_bound=2, horizon=10, delta=0.0)
    with pytest.raises(ValueError, match="unknown algorithm"):
        make_tallying_learner("nope", num_arms=3, horizon=10, memory_bound=2)


# --- Contract -------------------------------------------------------------------------


def test_contract_tally_se():
    env = reo_instance(3, 4)
    learner = make_tallying_learner("tally_se", num_arms=3, horizon=100, memory_bound=3)
    check_learner_contract(learner, env, num_rounds=5, run_rounds=12, num_seeds=2)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TALLYING_ALGORITHMS))
def test_contract_registry(name):
    env = reo_instance()
    learner = make_tallying_learner(name, num_arms=4, horizon=100, memory_bound=10)
    check_learner_contract(learner, env)


# --- Regret (the paper's comparison) -------------------------------------------------


@pytest.mark.slow
def test_sublinear_and_below_ucb1():
    from experiments.runner import run

    env = reo_instance()
    horizon, seeds = 8_000, 32
    record = np.array([horizon // 2, horizon])
    result = {}
    for name in ("tally_se", "ucb1"):
        learner = make_tallying_learner(
            name, num_arms=4, horizon=horizon, memory_bound=10
        )
        res = run(
            learner, env, horizon, key=jax.random.key(1), num_seeds=seeds, record=record
        )
        result[name] = np.asarray(res.regret, np.float64)
    se, ucb = result["tally_se"], result["ucb1"]
    # Sublinear: after elimination (by T/2 = 4,000 the phases of n_l <= 256 samples
    # have run) the source algorithm plays k* only, so its CPR grows by ~0 in the
    # second half. A linear regret on this instance costs >= 0.15 per round (the
    # cheapest novelty loss 0.3 minus f_k*(W) = 0.15), i.e. >= 600 per seed: the
    # threshold 0.02 per round is 7x below that and 32 seeds average out the rare
    # wrong elimination (probability <= delta = 1/T per seed).
    assert (se[:, 1] - se[:, 0]).mean() / (horizon / 2) < 0.02
    # UCB1 samples k* at low tallies (loss 0.9) and keeps preferring the novelty arms:
    # its CPR grows linearly and ends far above (measured 2,800 vs 370 at T = 8,640).
    assert ucb[:, 1].mean() > 3 * se[:, 1].mean()
    assert (ucb[:, 1] - ucb[:, 0]).mean() / (horizon / 2) > 0.1
