"""Dueling learners: confidence bounds in closed form, RUCB's and D-TS's selection
rules on hand-set win counts, MaxInP's and APOHF's Gram matrices against the normal
equations, and RUCB's sublinear regret on a Condorcet instance.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.bandits import dueling as du
from envs.dueling_bandits import bradley_terry_bandit
from experiments.runner import run

WINS = np.array([[0.0, 8.0, 0.0], [2.0, 0.0, 5.0], [0.0, 5.0, 0.0]])


def test_confidence_bounds_closed_form():
    t, alpha = 20.0, 0.6
    upper, lower = du.confidence_bounds(jnp.asarray(WINS), t, alpha)
    n = WINS + WINS.T
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = WINS / n
        width = np.sqrt(alpha * np.log(t) / n)
    exp_u = np.where(n > 0, mean + width, 1.0)
    exp_l = np.where(n > 0, mean - width, 0.0)
    np.fill_diagonal(exp_u, 0.5)
    np.fill_diagonal(exp_l, 0.5)
    np.testing.assert_allclose(upper, exp_u, rtol=1e-6)
    np.testing.assert_allclose(lower, exp_l, rtol=1e-6)


def _act_many(learner, state, obs, n=4000):
    keys = jax.random.split(jax.random.key(0), n)
    actions, states = jax.jit(jax.vmap(lambda k: learner.act(k, state, obs)))(keys)
    return np.asarray(actions), states


def test_rucb_champion_and_challenger():
    """Arm 0 beat arms 1 and 2 in 100 of 100 duels each: C = {0} (U_10, U_20 ~ 0.17
    < 1/2), the champion is always 0, B becomes {0}, and since every U_j0 < U_00 = 1/2
    the challenger is 0 itself (RUCB's self-duel once the winner is identified)."""
    wins = np.array([[0.0, 100.0, 100.0], [0.0, 0.0, 50.0], [0.0, 50.0, 0.0]])
    learner = du.rucb(3, alpha=0.51)
    state = du.RUCBState(
        jnp.asarray(wins, jnp.float32), jnp.zeros(3, bool), jnp.int32(300)
    )
    actions, states = _act_many(learner, state, jnp.eye(3))
    assert np.all(actions == 0)
    assert np.all(np.asarray(states.hypothesis) == [True, False, False])


def test_rucb_challenger_ties_exclude_the_champion():
    """Arms 1, 2, 3 each lost 100 straight duels (1 to 2, 2 to 3, 3 to 1), arm 0 never
    dueled: C = {0}; column 0 is U_j0 = 1 for j = 1, 2, 3 (no data), a three-way tie
    broken uniformly, never d = c."""
    wins = np.zeros((4, 4))
    wins[2, 1] = wins[3, 2] = wins[1, 3] = 100.0
    learner = du.rucb(4)
    state = du.RUCBState(
        jnp.asarray(wins, jnp.float32), jnp.zeros(4, bool), jnp.int32(300)
    )
    actions, _ = _act_many(learner, state, jnp.eye(4), n=6000)
    assert np.all(actions[:, 0] == 0)
    freq = np.bincount(actions[:, 1], minlength=4) / 6000
    # Standard error sqrt(2/9 / 6000) = 0.006; 5 s.e. = 0.03.
    np.testing.assert_allclose(freq, [0, 1 / 3, 1 / 3, 1 / 3], atol=0.03)


def test_rucb_hypothesis_gets_half_the_champion_mass():
    """No data: every arm is a candidate (U = 1); with B = {1} the champion is 1 with
    probability 1/2 and each other arm with 1/(2^1 * 2) = 1/4."""
    learner = du.rucb(3)
    state = du.RUCBState(
        jnp.zeros((3, 3)), jnp.array([False, True, False]), jnp.int32(0)
    )
    actions, _ = _act_many(learner, state, jnp.eye(3), n=8000)
    freq = np.bincount(actions[:, 0], minlength=3) / 8000
    np.testing.assert_allclose(freq, [0.25, 0.5, 0.25], atol=0.025)  # > 4 s.e.


def test_double_ts_selection_rules():
    """First arm from the optimistic Copeland set; second arm never one with
    L_{i a1} > 1/2."""
    wins = np.array(
        [
            [0.0, 60.0, 60.0, 60.0],
            [10.0, 0.0, 30.0, 50.0],
            [10.0, 30.0, 0.0, 5.0],
            [10.0, 2.0, 45.0, 0.0],
        ]
    )
    learner = du.double_ts(4)
    state = du.DoubleTSState(jnp.asarray(wins, jnp.float32), jnp.int32(400))
    actions, _ = _act_many(learner, state, jnp.eye(4))
    upper, lower = du.confidence_bounds(jnp.asarray(wins), 401.0, 0.51)
    copeland = np.sum(np.asarray(upper) > 0.5, axis=1)
    cand = set(np.flatnonzero(copeland == copeland.max()))
    assert set(actions[:, 0]) <= cand
    assert np.all(np.asarray(lower)[actions[:, 1], actions[:, 0]] <= 0.5)


def test_maxinp_gram_and_newton_step():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    learner = du.maxinp(4, 3, reg=0.5)
    with jax.enable_x64(True):
        state = learner.init(jax.random.key(0))
        pairs = [(0, 1), (2, 3), (1, 3), (0, 2), (3, 0)]
        outcomes = [1.0, 0.0, 1.0, 1.0, 0.0]
        v = 0.5 * np.eye(3)
        h = 0.5 * np.eye(3)
        theta = np.zeros(3)
        for (i, j), y in zip(pairs, outcomes, strict=True):
            state = learner.update(
                state, jnp.asarray(x), jnp.array([i, j], jnp.int32), y
            )
            z = x[i] - x[j]
            p = 1 / (1 + np.exp(-z @ theta))
            h = h + p * (1 - p) * np.outer(z, z)
            theta = theta + np.linalg.solve(h, z) * (y - p)
            v = v + np.outer(z, z)
        np.testing.assert_allclose(state.v_inv, np.linalg.inv(v), rtol=1e-9)
        np.testing.assert_allclose(state.theta, theta, rtol=1e-9)
        # The chosen pair maximises ||x_i - x_j||_{V^-1} among active arms.
        action, _ = learner.act(jax.random.key(1), state, jnp.asarray(x))
        vinv = np.linalg.inv(v)
        w = lambda i, j: (x[i] - x[j]) @ vinv @ (x[i] - x[j])  # noqa: E731
        act = [
            i
            for i in range(4)
            if all((x[i] - x[j]) @ theta + np.sqrt(w(i, j)) >= -1e-12 for j in range(4))
        ]
        best = max(w(i, j) for i in act for j in act)
        np.testing.assert_allclose(w(*np.asarray(action)), best, rtol=1e-9)


def test_apohf_first_arm_greedy_and_gram():
    learner = du.apohf(4, 3, reg=2.0, batch_size=4)
    x = jnp.asarray(np.random.default_rng(1).normal(size=(4, 3)), jnp.float32)
    state = learner.init(jax.random.key(0))
    h = np.asarray(du.MLP((32,), 1).apply(state.params, x)[:, 0])
    action, state1 = learner.act(jax.random.key(1), state, x)
    assert int(action[0]) == int(np.argmax(h))
    # V after one duel: 2 I + phi phi^T, phi = (g(x1) - g(x2)) / sqrt(32).
    jac = jax.jacrev(lambda p: du.MLP((32,), 1).apply(p, x)[:, 0])(state.params)
    g = np.concatenate([np.reshape(j, (4, -1)) for j in jax.tree.leaves(jac)], 1)
    phi = (g[0] - g[2]) / np.sqrt(32)
    state2 = learner.update(state1, x, jnp.array([0, 2], jnp.int32), 1.0)
    v = 2.0 * np.eye(phi.size) + np.outer(phi, phi)
    np.testing.assert_allclose(
        np.asarray(state2.v_inv) @ v, np.eye(phi.size), atol=1e-4
    )
    assert int(state2.count) == 1


@pytest.mark.slow
def test_rucb_regret_is_sublinear_on_a_condorcet_instance():
    """Bradley-Terry utilities (1.5, 1, 0.5, 0, -0.5), 16 seeds. Uniform duels pay a
    constant per round (linear); RUCB's O(K^2 + K log T) regret grows by far less
    than 4x from T/4 to T (measured ratio ~1.3), and ends far below uniform."""
    env = bradley_terry_bandit([1.5, 1.0, 0.5, 0.0, -0.5])
    horizon = 2000
    res = {
        name: run(
            du.make_dueling_learner(name, 5, 5, horizon),
            env,
            horizon,
            key=jax.random.key(0),
            num_seeds=16,
            record=np.array([500, 2000]),
        ).regret.mean(axis=0)
        for name in ("uniform", "rucb")
    }
    assert res["rucb"][1] < 2.0 * res["rucb"][0]  # linear growth would give 4x
    assert res["rucb"][1] < 0.25 * res["uniform"][1]


def test_errors():
    with pytest.raises(ValueError, match="unknown dueling algorithm"):
        du.make_dueling_learner("nope", 3, 3, 10)
    learner = du.maxinp(3, 2)
    with pytest.raises(ValueError, match=r"arm features \[3, 2\]"):
        learner.act(
            jax.random.key(0), learner.init(jax.random.key(0)), jnp.ones((3, 3))
        )
    with pytest.raises(ValueError, match="alpha"):
        du.rucb(3, alpha=0.0)


@pytest.mark.slow  # CI time: two APOHF compilations (~1 min)
def test_apohf_nu_tuning_script_quick():
    from experiments import dueling_apohf_nu

    out = dueling_apohf_nu.main(["--quick"])
    quick = dueling_apohf_nu.QUICK
    for inst in ("condorcet", "cyclic"):
        for metric in ("strong", "weak"):
            values = out[inst][metric]
            assert values.shape == (len(quick.nus), quick.num_seeds)
            assert np.isfinite(values).all() and (values >= -1e-6).all()
    assert out["choice"] in quick.nus
