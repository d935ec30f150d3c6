"""The learner contract for every registered OCO / experts learner."""

import numpy as np
import pytest

from algorithms.oco import ALGORITHMS, DOMAINS, make_learner
from envs import oco
from tests.helpers import check_learner_contract

HORIZON = 40

ENVS = {
    "ball": lambda: oco.sea_model(2, loss="quadratic", sigma=0.3, adversarial=0.2),
    "big_ball": lambda: oco.sea_model(2, sigma=0.3, adversarial=0.2, radius=1e3),
    "simplex": lambda: oco.experts(4, adversarial=True),
    "box": lambda: oco.alternating_linear(2),
}


def _env_for(name):
    if name == "kt":
        return ENVS["big_ball"]()
    return ENVS[DOMAINS[name][0]]()


# The fast suite keeps one learner per module / mechanism (projection, lazy FTRL,
# bisection, eigen-projection, experts, coin betting, meta-learning); every learner is
# checked under -m slow (the contract costs ~3 s of compilation per learner).
FAST = ("ogd", "kt", "ader")
PARAMS = [
    pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in ALGORITHMS
]


@pytest.mark.parametrize("name", PARAMS)
def test_contract(name):
    env = _env_for(name)
    domain = oco.Domain(
        DOMAINS[name][0] if name != "kt" else "ball",
        env.reset(None, env.params)[0].best_point.shape[0],
        1e3 if name == "kt" else 1.0,
    )
    learner = make_learner(name, domain, HORIZON)
    actions = check_learner_contract(learner, env, num_rounds=5, run_rounds=HORIZON)
    assert actions.shape == (5, domain.dim)
    assert all(oco.contains(domain, a) for a in actions)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, kind", [(n, k) for n in ALGORITHMS for k in DOMAINS[n] if n != "kt"]
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
