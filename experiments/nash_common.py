"""What the Nash figure scripts share: batches of games x betas, running a list of
registered learners on them (one compiled program per learner and feedback mode)."""

from __future__ import annotations

import time

import jax
import numpy as np

from algorithms.nash import make_learner
from envs.games import (
    game_env,
    game_params,
    random_preference_matrix,
    stack_params,
)
from experiments.common import run_timing
from experiments.runner import run


def random_game_instances(num_games: int, num_responses: int, betas, seed: int):
    """EGPO random games x betas, flattened (beta slowest), with their regularised
    equilibria (float64 Newton). Returns (params batch, beta per instance)."""
    keys = jax.random.split(jax.random.key(seed), num_games)
    mats = [np.asarray(random_preference_matrix(k, num_responses)) for k in keys]
    params, beta_of = [], []
    for beta in betas:
        for P in mats:
            params.append(game_params(P, beta=beta))
            beta_of.append(beta)
    return stack_params(params), np.asarray(beta_of)


def run_learners(
    names,
    instances,
    num_rounds: int,
    *,
    num_responses: int,
    feedback: str = "exact",
    batch_size: int = 16,
    num_seeds: int = 1,
    seed: int = 0,
    record="log",
    fields=("duality_gap",),
    progress: bool = True,
) -> tuple[dict, dict]:
    """Runs each named learner on every instance (same seeds: common random numbers).

    Returns ``arrays`` {``name/field``: [I, seeds, M], ``rounds``: [M]} and timings.
    """
    env = game_env(
        None,
        None,
        feedback=feedback,
        batch_size=batch_size,
        bernoulli=True,
        name="pref",
    )
    arrays, timings = {}, {}
    for name in names:
        learner = make_learner(name, num_responses)
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
        for field in fields:
            arrays[f"{name}/{field}"] = result.metrics[field]
        arrays["rounds"] = result.rounds
        timings[f"{name}/{feedback}"] = run_timing(result, start)
    return arrays, timings
