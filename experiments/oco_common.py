"""Running several OCO learners on the same seeds (common random numbers)."""

from __future__ import annotations

import time

import jax
import numpy as np

from experiments.runner import run


def run_learners(
    learners: dict,
    env,
    num_rounds: int,
    *,
    num_seeds: int,
    seed: int,
    instances=None,
    record="log",
    metrics=("regret",),
    progress: bool = False,
) -> dict:
    """Runs each learner (name -> Learner) with the same key: same instances and loss
    draws. Returns ``{"arrays": {name/metric: [..., M], rounds: [M]}, "timings"}``;
    each run is one compiled program over instances x seeds.
    """
    arrays, timings = {}, {}
    for name, learner in learners.items():
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
        for metric in metrics:
            arrays[f"{name}/{metric}"] = np.asarray(result.metrics[metric])
        arrays["rounds"] = result.rounds
        timings[name] = {
            "compile_s": round(result.compile_time, 3),
            "run_s": round(result.wall_time, 3),
            "total_s": round(time.perf_counter() - start, 3),
        }
    return {"arrays": arrays, "timings": timings}


def stack_instances(params_list):
    """A list of params pytrees -> one pytree with a leading instance axis."""
    return jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *params_list)
