"""Running several bandit algorithms on the same seeds (common random numbers)."""

from __future__ import annotations

from algorithms.bandits import ALGORITHMS, make_learner
from envs.core import Env
from experiments.common import run_learners


def run_algorithms(
    names,
    env: Env,
    num_rounds: int,
    *,
    num_seeds: int,
    seed: int,
    num_arms: int,
    instances=None,
    record="log",
    progress: bool = True,
) -> dict:
    """Runs each named algorithm (default tuning for ``num_arms`` and ``num_rounds``).

    All algorithms use the same key, hence the same instances and environment draws.
    Returns arrays ``{name/regret: [..., M], rounds: [M]}`` and per-algorithm timings.
    """
    for name in names:
        if name not in ALGORITHMS:
            raise ValueError(
                f"unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}"
            )
    learners = {
        name: make_learner(name, num_arms=num_arms, horizon=num_rounds)
        for name in names
    }
    return run_learners(
        learners,
        env,
        num_rounds,
        num_seeds=num_seeds,
        seed=seed,
        instances=instances,
        record=record,
        progress=progress,
    )
