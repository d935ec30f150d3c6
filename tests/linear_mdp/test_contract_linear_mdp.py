"""The learner contract for every registered linear-MDP / linear-mixture learner."""

import jax
import numpy as np
import pytest

from algorithms.linear_mdp import ALGORITHMS, ENV_KIND
from envs.linear_demonstrations import with_linear_demonstrations
from envs.linear_mdp import linear_mixture_hard_instance, two_state_linear_mdp
from envs.linear_mixture_reward_free import mixture_reward_free
from envs.preference_mdp import linear_preference_mdp
from tests.helpers import check_learner_contract

HORIZON = 3


def _env(kind):
    if kind == "linear":
        return two_state_linear_mdp([0.2, 0.5, 0.8], HORIZON), (2, 3, 4)
    if kind == "demonstrations":
        env = two_state_linear_mdp([0.2, 0.5, 0.8], HORIZON)
        return with_linear_demonstrations(env, 4, 3), (2, 3, 4)
    if kind == "preference":
        env = two_state_linear_mdp([0.2, 0.5, 0.8], HORIZON)
        return linear_preference_mdp(env), (2, 3, 4)
    env = linear_mixture_hard_instance(3, HORIZON)
    if kind == "mixture_reward_free":
        return mixture_reward_free(env, 2), (2, 4, 3)
    return env, (2, 4, 3)


# LSVI-UCB is checked in the fast suite; every other learner under -m slow (the eager
# rollout of the contract costs tens of seconds per learner on 2 cores).
FAST = ("lsvi_ucb",)


@pytest.mark.parametrize(
    "name",
    [
        n if n in FAST else pytest.param(n, marks=pytest.mark.slow)
        for n in sorted(ALGORITHMS)
    ],
)
def test_contract(name):
    env, (num_states, num_actions, dim) = _env(ENV_KIND[name])
    learner = ALGORITHMS[name](num_states, num_actions, dim, HORIZON)
    if env.params is None:  # rewards drawn per seed: fix one draw for the contract
        env = env.with_params(env.sample_params(jax.random.key(3)))
    actions = check_learner_contract(
        learner, env, num_rounds=3, run_rounds=8, num_seeds=2
    )
    policies = {
        "mixture_reward_free": lambda a: a.planned,
        "preference": lambda a: a.policy1,
    }.get(ENV_KIND[name], lambda a: a)(actions)
    assert policies.shape[0] == 3
    assert policies.shape[-3:] == (HORIZON, num_states, num_actions)
    np.testing.assert_allclose(policies.sum(-1), 1.0, atol=1e-6)
