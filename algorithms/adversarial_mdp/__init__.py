"""Adversarial-MDP learners and their registry.

``ALGORITHMS`` maps a command-line name to a builder
``(num_states, num_actions, horizon, num_episodes) -> Learner`` with the default
(theory) tuning.
"""

from __future__ import annotations

from collections.abc import Callable

from algorithms.adversarial_mdp.oreps import oreps, oreps_bandit, oreps_learning_rate
from algorithms.core import Learner


def _oreps(s, a, h, k):
    return oreps(s, a, h, learning_rate=oreps_learning_rate(s, a, h, k, bandit=False))


def _oreps_bandit(s, a, h, k):
    return oreps_bandit(
        s, a, h, learning_rate=oreps_learning_rate(s, a, h, k, bandit=True)
    )


ALGORITHMS: dict[str, Callable[[int, int, int, int], Learner]] = {
    "oreps": _oreps,
    "oreps_bandit": _oreps_bandit,
}

# Which environments each algorithm needs: feedback and known transitions.
REQUIREMENTS: dict[str, dict] = {
    "oreps": {"feedback": "full", "known_transitions": True},
    "oreps_bandit": {"feedback": "bandit", "known_transitions": True},
}


def make_learner(name, num_states, num_actions, horizon, num_episodes) -> Learner:
    """The named learner with its default tuning."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose from {list(ALGORITHMS)}")
    return ALGORITHMS[name](num_states, num_actions, horizon, num_episodes)
