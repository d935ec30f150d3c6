"""The learner contract for every registered OCO / experts learner."""

import numpy as np
import pytest

from algorithms.oco import ALGORITHMS, DOMAINS, ENV_NEEDS, make_learner
from envs import oco, oco_sleeping
from tests.helpers import check_learner_contract

HORIZON = 40

ENVS = {
    "ball": lambda: oco.sea_model(2, loss="quadratic", sigma=0.3, adversarial=0.2),
    "big_ball": lambda: oco.sea_model(2, sigma=0.3, adversarial=0.2, radius=1e3),
    "simplex": lambda: oco.experts(4, adversarial=True),
    "box": lambda: oco.alternating_linear(2),
    # learners that read more than gradients (algorithms.oco.ENV_NEEDS)
    "quadratic": lambda: oco.sea_model(2, loss="quadratic", sigma=0.3),
    "regression": lambda: oco.online_regression(2, radius=1.0),
    "sleeping": lambda: oco_sleeping.sleeping_experts(4),
}


def _env_for(name):
    if name == "kt":
        return ENVS["big_ball"]()
    if name in ENV_NEEDS:
        return ENVS[ENV_NEEDS[name]]()
    return ENVS[DOMAINS[name][0]]()


# The fast suite keeps one learner per module / mechanism (projection, lazy FTRL,
# bisection, eigen-projection, experts, coin betting, meta-learning); every learner is
# checked under -m slow (the contract costs ~3 s of compilation per learner).
FAST = ("ogd", "kt", "ader", "sleeping_hedge")
PARAMS = [
    pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in ALGORITHMS
]


@pytest.mark.parametrize("name", PARAMS)
def test_contract(name):
    env = _env_for(name)
    dim = (
        env.params.awake.shape[0]
        if ENV_NEEDS.get(name) == "sleeping"
        else env.reset(None, env.params)[0].best_point.shape[0]
    )
    domain = oco.Domain(
        DOMAINS[name][0] if name != "kt" else "ball", dim, 1e3 if name == "kt" else 1.0
    )
    learner = make_learner(name, domain, HORIZON)
    actions = check_learner_contract(learner, env, num_rounds=5, run_rounds=HORIZON)
    assert actions.shape == (5, domain.dim)
    assert all(oco.contains(domain, a) for a in actions)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, kind",
    [
        (n, k)
        for n in ALGORITHMS
        for k in DOMAINS[n]
        if n != "kt" and n not in ENV_NEEDS
    ],
)
def test_contract_every_domain(name, kind):
    env = {
        "ball": ENVS["ball"],
        "simplex": ENVS["simplex"],
        "box": ENVS["box"],
    }[kind]()
    dim = env.reset(None, env.params)[0].best_point.shape[0]
    learner = make_learner(name, oco.make_domain(kind, dim), HORIZON)
    actions = check_learner_contract(learner, env, num_rounds=6, run_rounds=HORIZON)
    assert np.all(np.isfinite(actions))
