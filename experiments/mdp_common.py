"""Running several tabular MDP learners on the same seeds (common random numbers)."""

from __future__ import annotations

import time

import jax

from algorithms.tabular import TABULAR_ALGORITHMS, make_tabular_learner
from envs.core import Env
from experiments.runner import run


def run_tabular(
    names,
    env: Env,
    *,
    num_states: int,
    num_actions: int,
    horizon: int,
    num_episodes: int,
    num_seeds: int,
    seed: int,
    record="log",
    prefix: str = "",
    progress: bool = True,
) -> dict:
    """Runs each named registered learner (default tuning) for ``num_episodes``.

    Every learner uses the same key, hence the same instances (DeepSea's action
    mapping) and environment uniforms. Returns arrays ``{prefix + name/regret:
    [num_seeds, M], prefix + rounds: [M]}`` and per-algorithm timings.
    """
    for name in names:
        if name not in TABULAR_ALGORITHMS:
            raise ValueError(
                f"unknown algorithm {name!r}; choose from "
                f"{', '.join(TABULAR_ALGORITHMS)}"
            )
    arrays, timings = {}, {}
    for name in names:
        learner = make_tabular_learner(
            name, num_states, num_actions, horizon, num_episodes
        )
        start = time.perf_counter()
        result = run(
            learner,
            env,
            num_episodes,
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
