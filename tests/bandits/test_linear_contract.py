"""The learner contract for every registered linear bandit learner."""

import pytest

from algorithms.bandits.linear import LINEAR_ALGORITHMS, make_linear_learner
from envs.linear_bandits import end_of_optimism_bandit, random_linear_bandit
from tests.helpers import check_learner_contract


@pytest.mark.parametrize(
    "name",
    [
        # CI time: phased elimination and epsilon-greedy (5-9 s of CPU) slow-only;
        # OFUL and LinTS keep the fast contract (phased elimination has fast tests)
        pytest.param(n, marks=pytest.mark.slow)
        if n in ("phased_elim", "lin_eps_greedy")
        else n
        for n in LINEAR_ALGORITHMS
    ],
)
def test_contract_fixed_action_set(name):
    learner = make_linear_learner(name, dim=3, num_arms=5, horizon=100)
    env = random_linear_bandit(3, 5)
    check_learner_contract(
        learner, env, params=env.sample_params(_key()), num_rounds=6, run_rounds=10
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LINEAR_ALGORITHMS))
def test_contract_end_of_optimism(name):
    learner = make_linear_learner(name, dim=2, num_arms=3, horizon=100)
    check_learner_contract(learner, end_of_optimism_bandit())


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in LINEAR_ALGORITHMS if n != "phased_elim"])
def test_contract_changing_action_sets(name):
    # Phased elimination needs a fixed action set.
    learner = make_linear_learner(name, dim=3, num_arms=5, horizon=100)
    env = random_linear_bandit(3, 5, changing=True)
    check_learner_contract(
        learner, env, params=env.sample_params(_key()), num_rounds=6, run_rounds=10
    )


def _key():
    import jax

    return jax.random.key(0)
