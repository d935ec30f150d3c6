"""Adversarial-MDP learners and their registry.

``ALGORITHMS`` maps a command-line name to a builder
``(num_states, num_actions, horizon, num_episodes) -> Learner`` with the default
(theory) tuning.
"""

from __future__ import annotations

from collections.abc import Callable

from algorithms.adversarial_mdp.linear_q import (
    linear_q_parameters,
    linear_q_po,
    log_barrier_ftrl,
    magnitude_reduced_ftrl,
)
from algorithms.adversarial_mdp.oreps import oreps, oreps_bandit, oreps_learning_rate
from algorithms.adversarial_mdp.policy_optimization import (
    dilated_bonus_po,
    dilated_learning_rate,
    po_learning_rate,
    policy_optimization,
)
from algorithms.adversarial_mdp.simulator_free import (
    simulator_free_mgr_po,
    simulator_free_parameters,
    simulator_free_po,
)
from algorithms.adversarial_mdp.uob_reps import uob_reps, uob_reps_parameters
from algorithms.core import Learner

__all__ = [
    "ALGORITHMS",
    "REQUIREMENTS",
    "LINEAR_Q_FEATURE_DIM",
    "dilated_bonus_po",
    "linear_q_po",
    "log_barrier_ftrl",
    "magnitude_reduced_ftrl",
    "make_learner",
    "oreps",
    "oreps_bandit",
    "policy_optimization",
    "simulator_free_mgr_po",
    "simulator_free_po",
    "uob_reps",
]


def _oreps(s, a, h, k):
    return oreps(s, a, h, learning_rate=oreps_learning_rate(s, a, h, k, bandit=False))


def _oreps_bandit(s, a, h, k):
    return oreps_bandit(
        s, a, h, learning_rate=oreps_learning_rate(s, a, h, k, bandit=True)
    )


def _po(s, a, h, k):
    return policy_optimization(s, a, h, learning_rate=po_learning_rate(a, h, k))


def _dilated(s, a, h, k):
    rate = dilated_learning_rate(s, a, h, k)
    return dilated_bonus_po(s, a, h, learning_rate=rate, implicit_exploration=rate)


def _uob_reps(s, a, h, k):
    eta, gamma = uob_reps_parameters(s, a, h, k)
    return uob_reps(
        s, a, h, num_episodes=k, learning_rate=eta, implicit_exploration=gamma
    )


# Feature dimension of the linear-Q learners in the registry (their env is
# ``adversarial_mdp(..., feature_dim=LINEAR_Q_FEATURE_DIM)``, a random linear-Q
# instance with a simulator).
LINEAR_Q_FEATURE_DIM = 4


def _linear_q(factory):
    def build(s, a, h, k):
        d = LINEAR_Q_FEATURE_DIM
        return factory(s, a, h, d, **linear_q_parameters(factory.__name__, a, h, d, k))

    return build


def _simulator_free(factory):
    def build(s, a, h, k):
        d = LINEAR_Q_FEATURE_DIM
        tuning = simulator_free_parameters(factory.__name__, a, h, d, k)
        return factory(s, a, h, d, **tuning)

    return build


ALGORITHMS: dict[str, Callable[[int, int, int, int], Learner]] = {
    "oreps": _oreps,
    "oreps_bandit": _oreps_bandit,
    "policy_optimization": _po,
    "dilated_bonus_po": _dilated,
    "uob_reps": _uob_reps,
    "linear_q_po": _linear_q(linear_q_po),
    "log_barrier_ftrl": _linear_q(log_barrier_ftrl),
    "magnitude_reduced_ftrl": _linear_q(magnitude_reduced_ftrl),
    "simulator_free_mgr_po": _simulator_free(simulator_free_mgr_po),
    "simulator_free_po": _simulator_free(simulator_free_po),
}

# Which environments each algorithm needs: feedback, known transitions, and for the
# linear-Q learners a linear-Q instance with a simulator (``feature_dim``). The
# simulator-free learners read only ``obs.features``: they run on those instances and
# on ``envs.adversarial_linear_mdp`` (no simulator).
REQUIREMENTS: dict[str, dict] = {
    "oreps": {"feedback": "full", "known_transitions": True},
    "oreps_bandit": {"feedback": "bandit", "known_transitions": True},
    "policy_optimization": {"feedback": "full", "known_transitions": True},
    "dilated_bonus_po": {"feedback": "bandit", "known_transitions": True},
    "uob_reps": {"feedback": "bandit", "known_transitions": False},
    "linear_q_po": {"feedback": "bandit", "feature_dim": LINEAR_Q_FEATURE_DIM},
    "log_barrier_ftrl": {"feedback": "bandit", "feature_dim": LINEAR_Q_FEATURE_DIM},
    "magnitude_reduced_ftrl": {
        "feedback": "bandit",
        "feature_dim": LINEAR_Q_FEATURE_DIM,
    },
    "simulator_free_mgr_po": {
        "feedback": "bandit",
        "feature_dim": LINEAR_Q_FEATURE_DIM,
    },
    "simulator_free_po": {"feedback": "bandit", "feature_dim": LINEAR_Q_FEATURE_DIM},
}


def make_learner(name, num_states, num_actions, horizon, num_episodes) -> Learner:
    """The named learner with its default tuning."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose from {list(ALGORITHMS)}")
    return ALGORITHMS[name](num_states, num_actions, horizon, num_episodes)
