"""Running several bandit algorithms on the same seeds (common random numbers)."""

from __future__ import annotations

import time

import jax

from algorithms.bandits import ALGORITHMS, make_learner
from envs.core import Env
from experiments.runner import run


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
    arrays, timings = {}, {}
    for name in names:
        learner = make_learner(name, num_arms=num_arms, horizon=num_rounds)
        start = time.perf_counter()
        result = run(
            learner,
            env,
            num_rounds,
            key=jax.random.key(seed),
            num_seeds=num_seeds,
            instances=instances,
            record=record,
            progress=progress,
        )
        arrays[f"{name}/regret"] = result.regret
        arrays["rounds"] = result.rounds
        timings[name] = {
            "compile_s": round(result.compile_time, 3),
            "run_s": round(result.wall_time, 3),
            "total_s": round(time.perf_counter() - start, 3),
        }
    return {"arrays": arrays, "timings": timings}
