"""The learner contract for every registered Nash learner on compatible games."""

import numpy as np
import pytest

from algorithms.nash import ALGORITHMS, SYMMETRIC, make_learner
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
