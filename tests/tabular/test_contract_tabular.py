"""The learner contract for every registered tabular learner on tabular MDPs."""

import numpy as np
import pytest

from algorithms.tabular import TABULAR_ALGORITHMS, make_tabular_learner
from envs.tabular_mdp import deep_sea, river_swim
from tests.helpers import check_learner_contract

NUM_EPISODES = 20


# PSRL's jitted-vs-eager comparison alone takes ~50 s (a Dirichlet posterior draw per
# episode, eagerly): it runs with the slow tests. So do, for CI time, UCBVI-CH
# (Hoeffding), UCB-B and epsilon-greedy Q-learning (6-18 s of CPU each); UCBVI-BF,
# RLSVI, UCB-H and the uniform policy keep the contract in the fast suite.
SLOW = {"psrl", "ucbvi_h", "ucb_b", "eps_greedy_q"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else [])
        for n in TABULAR_ALGORITHMS
    ],
)
def test_contract_river_swim(name):
    env = river_swim(num_states=4, horizon=5)
    learner = make_tabular_learner(name, 4, 2, 5, NUM_EPISODES)
    policies = check_learner_contract(
        learner, env, num_rounds=4, run_rounds=NUM_EPISODES, num_seeds=2
    )
    assert policies.shape == (4, 5, 4, 2)
    np.testing.assert_allclose(policies.sum(-1), 1.0, atol=1e-6)
    assert np.all(policies >= 0)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TABULAR_ALGORITHMS))
def test_contract_deep_sea(name):
    # Instances drawn per seed (randomised action mapping): params from the sampler.
    import jax

    env = deep_sea(4)
    params = env.sample_params(jax.random.key(3))
    learner = make_tabular_learner(name, 4, 2, 4, NUM_EPISODES)
    check_learner_contract(
        learner, env.with_params(params), num_rounds=4, run_rounds=NUM_EPISODES
    )


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown tabular algorithm"):
        make_tabular_learner("nope", 2, 2, 2, 2)
