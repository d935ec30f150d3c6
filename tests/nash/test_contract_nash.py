"""The learner contract for every registered Nash learner on compatible games."""

import numpy as np
import pytest

from algorithms.nash import (
    ALGORITHMS,
    CONTEXTUAL_ALGORITHMS,
    FINITE_SUM_ALGORITHMS,
    SYMMETRIC,
    make_contextual_learner,
    make_learner,
)
from envs.games import matrix_game, preference_game, rps_matrix
from tests.helpers import check_learner_contract

_ENVS = {}


def _env(kind):
    if kind not in _ENVS:
        if kind == "pref_exact":
            _ENVS[kind] = preference_game(rps_matrix(0.5, 1.0, 0.8), beta=0.1)
        elif kind == "pref_sampled":
            _ENVS[kind] = preference_game(
                rps_matrix(0.5, 1.0, 0.8), beta=0.1, feedback="sampled", batch_size=4
            )
        else:
            A = np.array(
                [[0.3, -0.5, 0.2, 0.9], [-0.4, 0.6, -0.1, 0.0], [0.5, 0.1, -0.7, 0.2]]
            )
            _ENVS[kind] = matrix_game(A, feedback="sampled", batch_size=4)
    return _ENVS[kind]


# Fast: one symmetric and one two-player learner; every learner under -m slow (the
# eager rollout of the contract takes seconds per learner on a contended CPU).
FAST = ("egpo", "omwu")


@pytest.mark.parametrize(
    "name",
    [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in ALGORITHMS],
)
def test_contract_preference_exact(name):
    learner = make_learner(name, 3)
    actions = check_learner_contract(
        learner, _env("pref_exact"), num_rounds=6, run_rounds=12
    )
    for p in (actions.x, actions.y, actions.qx, actions.qy):
        np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-5)
        assert np.all(p >= -1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_contract_preference_sampled(name):
    check_learner_contract(make_learner(name, 3), _env("pref_sampled"), num_rounds=6)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in ALGORITHMS if n not in SYMMETRIC])
def test_contract_rectangular(name):
    actions = check_learner_contract(
        make_learner(name, 3, 4), _env("matrix"), num_rounds=6
    )
    assert actions.x.shape[-1] == 3 and actions.y.shape[-1] == 4


def test_symmetric_needs_square():
    with pytest.raises(ValueError, match="square"):
        make_learner("egpo", 3, 4)
    with pytest.raises(ValueError, match="unknown"):
        make_learner("nope", 3)


# Contextual games: every contextual learner (tabular per prompt, flax MLP).
_CTX = {}


def _ctx_env(features):
    if features not in _CTX:
        import jax

        from envs.games import contextual_game_env, contextual_preference_params

        params = contextual_preference_params(
            jax.random.key(0),
            3,
            3,
            0.1,
            kind="bt_mixture",
            features=features,
            feature_dim=2,
        )
        _CTX[features] = contextual_game_env(params)
    return _CTX[features]


# All under -m slow: the eager rollout of an MLP learner takes ~30 s on a contended
# CPU; tests/nash/test_contextual.py covers both policy kinds in the fast suite.
FAST_CONTEXTUAL = ()


@pytest.mark.parametrize(
    "name",
    [
        n if n in FAST_CONTEXTUAL else pytest.param(n, marks=pytest.mark.slow)
        for n in CONTEXTUAL_ALGORITHMS
    ],
)
def test_contract_contextual(name):
    features = "gaussian" if name.endswith("_mlp") else "onehot"
    d = 2 if features == "gaussian" else 3
    learner = CONTEXTUAL_ALGORITHMS[name](3, d, 3)
    actions = check_learner_contract(
        learner, _ctx_env(features), num_rounds=4, run_rounds=8, num_seeds=2
    )
    assert actions.x.shape[-2:] == (3, 3) and actions.qx.shape[-1] == 3
    np.testing.assert_allclose(actions.x.sum(-1), 1.0, atol=1e-5)


def test_make_contextual_learner_errors():
    with pytest.raises(ValueError, match="policy"):
        make_contextual_learner("egpo", 3, 3, 3, policy="tree")
    with pytest.raises(ValueError, match="supports"):
        make_contextual_learner("mmd", 3, 3, 3, policy="mlp")
    with pytest.raises(ValueError, match="tabular"):
        make_contextual_learner("omwu", 3, 3, 3)


# Finite-sum games: the component-query learners (and the deterministic ones there).
# Under -m slow (the eager rollout takes ~35 s on a contended CPU);
# tests/nash/test_halpern_vr.py checks the jitted learners against a NumPy loop.
@pytest.mark.slow
@pytest.mark.parametrize("name", list(FINITE_SUM_ALGORITHMS))
def test_contract_finite_sum(name):
    import jax

    from envs.finite_sum_games import rps_finite_sum_game

    env = rps_finite_sum_game(jax.random.key(0), 2)
    actions = check_learner_contract(
        FINITE_SUM_ALGORITHMS[name](3, 3), env, num_rounds=6, run_rounds=12
    )
    np.testing.assert_allclose(actions.x.sum(-1), 1.0, atol=1e-5)
    assert np.all(actions.qx >= -1e-7)
