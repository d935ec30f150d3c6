"""What the linear-MDP figure scripts share: timed runs of one learner."""

from __future__ import annotations

import time

import jax

from experiments.common import run_timing
from experiments.runner import run, sweep


def timed_run(learner, env, num_episodes, *, num_seeds, seed, record="log", **kw):
    """``experiments.runner.run`` with its compile / run times as a timings entry."""
    start = time.perf_counter()
    result = run(
        learner,
        env,
        num_episodes,
        key=jax.random.key(seed),
        num_seeds=num_seeds,
        record=record,
        **kw,
    )
    timing = run_timing(result, start)
    return result, timing


def timed_sweep(factory, env, num_episodes, *, grid, static, num_seeds, seed, **kw):
    """``experiments.runner.sweep`` (one program over the grid) with its timings."""
    result = sweep(
        factory,
        env,
        num_episodes,
        key=jax.random.key(seed),
        grid=grid,
        static=static,
        num_seeds=num_seeds,
        **kw,
    )
    return result, run_timing(result)
