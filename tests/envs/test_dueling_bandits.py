"""Dueling bandit environments: validation of preference matrices, Condorcet and
Copeland regrets in closed form, outcome frequencies, linear dueling.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs import dueling_bandits as db


def test_bradley_terry_matrix_and_condorcet_regrets():
    u = np.array([1.0, 0.0, -0.5])
    pref = db.bradley_terry_matrix(u)
    np.testing.assert_allclose(pref + pref.T, 1.0)
    np.testing.assert_allclose(pref[0, 1], 1 / (1 + np.exp(-1.0)))
    env = db.bradley_terry_bandit(u)
    p = np.asarray(env.params.pref, np.float64)
    best, exists = db.condorcet_winner(env.params.pref)
    assert int(best) == 0 and bool(exists)
    for a1, a2 in [(0, 0), (1, 2), (0, 2), (2, 1)]:
        strong, weak, played = db.duel_regrets(env.params.pref, a1, a2)
        np.testing.assert_allclose(strong, (p[0, a1] + p[0, a2] - 1) / 2, rtol=1e-5)
        np.testing.assert_allclose(
            weak, min(p[0, a1], p[0, a2]) - 0.5, rtol=1e-5, atol=1e-7
        )
        assert float(played) == float(0 in (a1, a2))
    assert float(db.duel_regrets(env.params.pref, 0, 0)[0]) == 0.0


def test_cyclic_instance_copeland_regrets():
    pref = db.cyclic_matrix(5)
    db.validate_preference_matrix(pref)
    scores = np.array([(pref[i] > 0.5).sum() - 0 for i in range(5)]) / 4
    np.testing.assert_allclose(scores, [0.75, 0.75, 0.75, 0.25, 0.0])
    _, exists = db.condorcet_winner(jnp.asarray(pref))
    assert not bool(exists)
    for a1, a2 in [(0, 1), (3, 4), (2, 4)]:
        strong, weak, played = db.duel_regrets(jnp.asarray(pref), a1, a2)
        np.testing.assert_allclose(strong, 0.75 - (scores[a1] + scores[a2]) / 2)
        np.testing.assert_allclose(weak, 0.75 - max(scores[a1], scores[a2]))
        assert float(played) == float(max(scores[a1], scores[a2]) == 0.75)


def test_outcome_frequency_matches_preference():
    env = db.bradley_terry_bandit([0.8, 0.0, -0.3])
    step = jax.jit(jax.vmap(env.step, (0, None, None, None)))
    keys = jax.random.split(jax.random.key(0), 20_000)
    _, obs, y, info = step(keys, (), jnp.array([1, 0], jnp.int32), env.params)
    p = float(env.params.pref[1, 0])
    # Standard error sqrt(p (1 - p) / n) <= 0.0036; 5 s.e. = 0.018.
    assert abs(float(y.mean()) - p) < 0.018
    np.testing.assert_array_equal(obs[0], np.eye(3))  # one-hot features
    np.testing.assert_allclose(info.regret[0], (0.5 + env.params.pref[0, 1] - 1) / 2)


def test_linear_dueling():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    theta = np.array([2.0, -1.0])
    env = db.linear_dueling_bandit(x, theta)
    u = x @ theta
    np.testing.assert_allclose(
        env.params.pref, 1 / (1 + np.exp(-(u[:, None] - u[None, :]))), rtol=1e-6
    )
    np.testing.assert_allclose(env.reset(jax.random.key(0), env.params)[1], x)
    rand = db.random_linear_dueling_bandit(6, 3)
    params = rand.sample_params(jax.random.key(1))
    np.testing.assert_allclose(params.pref + params.pref.T, 1.0, atol=1e-6)
    assert params.features.shape == (6, 3)


@pytest.mark.parametrize(
    "pref, match",
    [
        (np.full((2, 3), 0.5), "square"),
        (np.full((1, 1), 0.5), "at least 2"),
        (np.array([[0.5, 0.7], [0.4, 0.5]]), r"P \+ P\^T = 1"),
        (np.array([[0.6, 0.7], [0.3, 0.4]]), r"P \+ P\^T = 1"),
        (np.array([[0.5, 1.2], [-0.2, 0.5]]), r"\[0, 1\]"),
        (np.array([[0.5, np.nan], [0.5, 0.5]]), "finite"),
    ],
)
def test_invalid_preference_matrices(pref, match):
    with pytest.raises(ValueError, match=match):
        db.dueling_bandit(pref)


def test_other_validation():
    with pytest.raises(ValueError, match="same d"):
        db.linear_dueling_bandit(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="num_arms"):
        db.cyclic_bandit(3)
    with pytest.raises(ValueError, match="utilities"):
        db.bradley_terry_bandit([1.0])
