"""Running several linear bandit algorithms on the same seeds (common random
numbers)."""

from __future__ import annotations

from algorithms.bandits.linear import LINEAR_ALGORITHMS, make_linear_learner
from envs.core import Env
from experiments.common import run_learners


def run_linear_algorithms(
    names,
    env: Env,
    num_rounds: int,
    *,
    num_seeds: int,
    seed: int,
    dim: int,
    num_arms: int,
    noise_std=1.0,
    record="log",
    prefix: str = "",
    progress: bool = True,
) -> dict:
    """Runs each named algorithm of ``LINEAR_ALGORITHMS`` (default tuning) on ``env``.

    All algorithms use the same key, hence the same instances, action sets and noise.
    Returns arrays ``{prefix + name/regret: [seeds, M], prefix + rounds: [M]}`` and
    per-algorithm timings.
    """
    for name in names:
        if name not in LINEAR_ALGORITHMS:
            raise ValueError(
                f"unknown algorithm {name!r}; choose from "
                f"{', '.join(LINEAR_ALGORITHMS)}"
            )
    learners = {
        name: make_linear_learner(
            name, dim=dim, num_arms=num_arms, horizon=num_rounds, noise_std=noise_std
        )
        for name in names
    }
    return run_learners(
        learners,
        env,
        num_rounds,
        num_seeds=num_seeds,
        seed=seed,
        record=record,
        prefix=prefix,
        progress=progress,
    )
