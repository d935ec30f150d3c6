"""Running several tabular MDP learners on the same seeds (common random numbers)."""

from __future__ import annotations

from algorithms.tabular import TABULAR_ALGORITHMS, make_tabular_learner
from envs.core import Env
from experiments.common import run_learners


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
    learners = {
        name: make_tabular_learner(name, num_states, num_actions, horizon, num_episodes)
        for name in names
    }
    return run_learners(
        learners,
        env,
        num_episodes,
        num_seeds=num_seeds,
        seed=seed,
        record=record,
        prefix=prefix,
        progress=progress,
    )
