"""Running several linear bandit algorithms on the same seeds (common random
numbers)."""

from __future__ import annotations

import time

import jax

from algorithms.bandits.linear import LINEAR_ALGORITHMS, make_linear_learner
from envs.core import Env
from experiments.runner import run


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
    arrays, timings = {}, {}
    for name in names:
        learner = make_linear_learner(
            name, dim=dim, num_arms=num_arms, horizon=num_rounds, noise_std=noise_std
        )
        start = time.perf_counter()
        result = run(
            learner,
            env,
            num_rounds,
            key=jax.random.key(seed),
            num_seeds=num_seeds,
            record=record,
            progress=progress,
        )
        arrays[f"{prefix}{name}/regret"] = result.regret
        arrays[f"{prefix}rounds"] = result.rounds
        timings[f"{prefix}{name}"] = {
            "compile_s": round(result.compile_time, 3),
            "run_s": round(result.wall_time, 3),
            "total_s": round(time.perf_counter() - start, 3),
        }
    return {"arrays": arrays, "timings": timings}
