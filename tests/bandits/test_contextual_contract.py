"""The learner contract (tests.helpers.check_learner_contract) for every registered
contextual and dueling learner on a compatible environment.

The fast suite covers each learner on one environment with few rounds; the neural
learners (whose eager, no-jit rollout is slow) and the other environments are
``slow``.
"""

import jax
import numpy as np
import pytest

from algorithms.bandits.contextual import CONTEXTUAL_ALGORITHMS, make_contextual_learner
from algorithms.bandits.dueling import DUELING_ALGORITHMS, make_dueling_learner
from envs.contextual_bandits import random_contextual_bandit
from envs.dueling_bandits import (
    bradley_terry_bandit,
    cyclic_bandit,
    random_linear_dueling_bandit,
)
from tests.helpers import check_learner_contract

NEURAL = {"squarecb_neural", "neu_squarecb", "neu_fastcb", "neural_ucb", "neural_ts"}
K, D = 3, 4


# CI time: the uniform and FALCON contracts (8-9 s of CPU each) run with the slow
# suite too; SquareCB and LinUCB keep the contextual contract in the fast one.
SLOW_FOR_CI_TIME = {"uniform", "falcon"}


def _ctx_params():
    return [
        pytest.param(n, marks=pytest.mark.slow) if n in NEURAL | SLOW_FOR_CI_TIME else n
        for n in CONTEXTUAL_ALGORITHMS
    ]


@pytest.mark.parametrize("name", _ctx_params())
def test_contextual_contract(name):
    env = random_contextual_bandit(K, D, reward_fn="logistic")
    learner = make_contextual_learner(name, K, D, 100)
    params = env.sample_params(jax.random.key(2))
    actions = check_learner_contract(
        learner, env, params=params, num_rounds=6, run_rounds=20, num_seeds=2
    )
    assert actions.dtype == np.int32 and np.all((actions >= 0) & (actions < K))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONTEXTUAL_ALGORITHMS))
@pytest.mark.parametrize("fn, stream", [("linear", "sorted"), ("cosine", "iid")])
def test_contextual_contract_every_env(name, fn, stream):
    env = random_contextual_bandit(K, D, reward_fn=fn, stream=stream, num_contexts=16)
    learner = make_contextual_learner(name, K, D, 100)
    check_learner_contract(learner, env, params=env.sample_params(jax.random.key(3)))


@pytest.mark.parametrize(
    "name",
    [
        # APOHF, and for CI time double TS and MaxInP (6-19 s of CPU): slow suite
        pytest.param(n, marks=pytest.mark.slow)
        if n in ("apohf", "double_ts", "maxinp")
        else n
        for n in DUELING_ALGORITHMS
    ],
)
def test_dueling_contract(name):
    env = bradley_terry_bandit([1.0, 0.5, 0.0, -0.5])
    learner = make_dueling_learner(name, 4, 4, 100)
    actions = check_learner_contract(
        learner, env, num_rounds=6, run_rounds=20, num_seeds=2
    )
    assert actions.shape == (6, 2) and actions.dtype == np.int32
    assert np.all((actions >= 0) & (actions < 4))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DUELING_ALGORITHMS))
def test_dueling_contract_every_env(name):
    check_learner_contract(make_dueling_learner(name, 5, 5, 100), cyclic_bandit(5))
    env = random_linear_dueling_bandit(5, 3)
    check_learner_contract(
        make_dueling_learner(name, 5, 3, 100),
        env,
        params=env.sample_params(jax.random.key(0)),
    )
