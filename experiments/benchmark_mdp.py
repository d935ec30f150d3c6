"""Throughput of the JAX runner against a NumPy per-seed UCBVI on RiverSwim.

The same algorithm on both sides: UCBVI with the Hoeffding bonus (``algorithms.tabular
.ucbvi``, the registry's ``ucbvi_h`` tuning), step-dependent empirical model from
incremental counts, values capped at the remaining horizon and min-ed with the last
episode's, greedy policy with random tie-breaking; RiverSwim (S = 6, A = 2, H = 20).

* JAX: ``experiments.runner.run`` (a ``lax`` loop over episodes, ``vmap`` over seeds,
  one compiled program). One call compiles (reported apart); a second is timed.
* NumPy per seed: a Python loop over episodes for one seed at a time (the structure of
  rlberry's agents): each episode plans with a loop over ``h`` of NumPy ops on
  ``[S, A, S]`` arrays, simulates ``H`` steps and updates the counts. A few seeds are
  timed and the cost is extrapolated per seed-episode. This is the headline ratio.
* NumPy per seed with exact regret (a second, labelled row): the same loop plus what
  our side also does every episode, the exact regret ``V*_0(rho) - V^{pi_k}_0(rho)``
  by backward induction over ``h`` (the plain loop does not compute any regret).

Per-episode cost is flat in the episode index on both sides (counts, not histories):
the report times the first and the second half of the JAX episodes (two calls of K and
2K episodes) and of the NumPy episodes.

Command:

    python -m experiments.benchmark_mdp            # seeds 100, 1000; K = 2,000
    python -m experiments.benchmark_mdp --quick    # seeds 100; K = 300

Expected: JAX throughput grows with the number of seeds and is orders of magnitude
(target >= 100x) above the NumPy loop. Timings depend on the machine's load; ratios
are the result.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence

import jax
import numpy as np

from algorithms.tabular import TABULAR_ALGORITHMS, ucbvi_log_term
from envs.tabular_mdp import river_swim
from experiments.common import script_main
from experiments.runner import run

NUM_STATES, NUM_ACTIONS, HORIZON = 6, 2, 20
BONUS_SCALE = 5e-4  # the registry's ucbvi_h
DELTA = 0.1


@dataclasses.dataclass(frozen=True)
class Config:
    seeds: tuple[int, ...] = (100, 1_000)  # JAX seed counts
    num_episodes: int = 2_000  # K
    numpy_seeds: int = 2  # seeds timed for the NumPy loop
    numpy_episodes: int = 300  # episodes timed per NumPy seed


QUICK = Config(seeds=(100,), num_episodes=300, numpy_seeds=1, numpy_episodes=100)


def numpy_ucbvi_q(visits, trans, rsum, q_prev, log_term, scale):
    """UCBVI-CH optimistic Q ``[H, S, A]`` (NumPy, a loop over h)."""
    horizon, num_states, _ = visits.shape
    q = np.empty_like(q_prev)
    v_next = np.zeros(num_states)
    with np.errstate(divide="ignore"):
        bonus = scale * 7.0 * horizon * log_term / np.sqrt(visits)
    for h in range(horizon - 1, -1, -1):
        cap = horizon - h
        n_trans = trans[h].sum(-1, keepdims=True)
        p_hat = trans[h] / np.maximum(n_trans, 1.0)
        r_hat = rsum[h] / np.maximum(visits[h], 1.0)
        backup = r_hat + p_hat @ v_next + bonus[h]
        backup = np.where(visits[h] > 0, backup, cap)
        q[h] = np.minimum(np.minimum(q_prev[h], cap), backup)
        v_next = q[h].max(-1)
    return q


def numpy_policy_value(transitions, rewards, initial, actions):
    """``rho . V^pi_0`` of the deterministic policy ``actions [H, S]`` (NumPy, a loop
    over h; with ``actions=None``, the optimal ``rho . V*_0``)."""
    horizon, num_states, _ = rewards.shape
    value = np.zeros(num_states)
    for h in range(horizon - 1, -1, -1):
        q_h = rewards[h] + transitions[h] @ value
        value = (
            q_h.max(-1) if actions is None else q_h[np.arange(num_states), actions[h]]
        )
    return float(initial @ value)


def numpy_ucbvi_run(
    params, num_episodes: int, seed: int, log_term: float, exact_regret: bool = False
):
    """One seed of UCBVI-CH on ``params`` (NumPy arrays); returns per-episode times.

    With ``exact_regret`` each episode also computes its exact regret
    ``V*_0(rho) - V^{pi_k}_0(rho)`` by backward induction (as our side does); the
    regrets are then returned too: ``(times, regrets)``.
    """
    transitions, rewards, initial = (np.asarray(x, np.float64) for x in params)
    horizon, num_states, num_actions = rewards.shape
    optimal = numpy_policy_value(transitions, rewards, initial, None)
    regrets = np.empty(num_episodes)
    rng = np.random.default_rng(seed)
    visits = np.zeros((horizon, num_states, num_actions))
    trans = np.zeros((horizon, num_states, num_actions, num_states))
    rsum = np.zeros_like(visits)
    q = np.broadcast_to(
        np.arange(horizon, 0, -1, dtype=float)[:, None, None], visits.shape
    ).copy()
    cdf_initial = np.cumsum(initial)
    cdf_trans = np.cumsum(transitions, axis=-1)
    times = np.empty(num_episodes)
    for k in range(num_episodes):
        start = time.perf_counter()
        q = numpy_ucbvi_q(visits, trans, rsum, q, log_term, BONUS_SCALE)
        noise = rng.random(q.shape)
        actions = np.argmax(np.where(q >= q.max(-1, keepdims=True), noise, -1.0), -1)
        if exact_regret:
            regrets[k] = optimal - numpy_policy_value(
                transitions, rewards, initial, actions
            )
        s = int(np.searchsorted(cdf_initial, rng.random() * cdf_initial[-1]))
        for h in range(horizon):
            a = actions[h, s]
            row = cdf_trans[h, s, a]
            s_next = min(
                int(np.searchsorted(row, rng.random() * row[-1])), num_states - 1
            )
            visits[h, s, a] += 1
            rsum[h, s, a] += rewards[h, s, a]
            if h + 1 < horizon:
                trans[h, s, a, s_next] += 1
            s = s_next
        times[k] = time.perf_counter() - start
    return (times, regrets) if exact_regret else times


def run_benchmark(config: Config, log=print) -> dict:
    env = river_swim(NUM_STATES, HORIZON)
    k = config.num_episodes
    log_term = float(ucbvi_log_term(NUM_STATES, NUM_ACTIONS, HORIZON, k, DELTA))
    numpy_times = np.stack(
        [
            numpy_ucbvi_run(env.params, config.numpy_episodes, seed, log_term)
            for seed in range(config.numpy_seeds)
        ]
    )
    numpy_regret_per = float(
        np.mean(
            [
                numpy_ucbvi_run(
                    env.params, config.numpy_episodes, seed, log_term, True
                )[0]
                for seed in range(config.numpy_seeds)
            ]
        )
    )
    half = config.numpy_episodes // 2
    numpy_per = float(numpy_times.mean())
    rows = []
    for num_seeds in config.seeds:
        learner = TABULAR_ALGORITHMS["ucbvi_h"](NUM_STATES, NUM_ACTIONS, HORIZON, k)
        walls = {}
        for episodes in (k, 2 * k):
            run(
                learner,
                env,
                episodes,
                key=jax.random.key(1),
                num_seeds=num_seeds,
                progress=False,
            )  # compile + warm up
            result = run(
                learner,
                env,
                episodes,
                key=jax.random.key(0),
                num_seeds=num_seeds,
                progress=False,
            )
            walls[episodes] = result.wall_time
        jax_per = walls[k] / (k * num_seeds)
        rows.append(
            {
                "seeds": num_seeds,
                "jax_seed_episodes_per_s": 1.0 / jax_per,
                "numpy_seed_episodes_per_s": 1.0 / numpy_per,
                "ratio": numpy_per / jax_per,
                "numpy_regret_seed_episodes_per_s": 1.0 / numpy_regret_per,
                "ratio_regret": numpy_regret_per / jax_per,
                "jax_second_over_first_half": (walls[2 * k] - walls[k]) / walls[k],
            }
        )
        log(
            f"seeds={num_seeds:>6}  JAX {1 / jax_per:12.0f} seed-ep/s  NumPy "
            f"{1 / numpy_per:8.0f} seed-ep/s  ratio {numpy_per / jax_per:8.0f}x  "
            f"(NumPy + exact regret {1 / numpy_regret_per:8.0f} seed-ep/s, "
            f"{numpy_regret_per / jax_per:.0f}x)  "
            f"JAX K..2K / 0..K {rows[-1]['jax_second_over_first_half']:.2f}"
        )
    numpy_flat = float(numpy_times[:, half:].mean() / numpy_times[:, :half].mean())
    log(f"NumPy per-episode time, second half / first half: {numpy_flat:.2f}")
    return {"rows": rows, "numpy_second_over_first_half": numpy_flat}


def format_report(report: dict) -> str:
    lines = [
        "| seeds | JAX seed-episodes/s | NumPy loop seed-episodes/s | ratio | "
        "NumPy loop + exact regret seed-episodes/s | ratio to it | "
        "JAX time episodes K..2K / 0..K |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['seeds']} | {r['jax_seed_episodes_per_s']:.3g} | "
            f"{r['numpy_seed_episodes_per_s']:.3g} | {r['ratio']:.0f}x | "
            f"{r['numpy_regret_seed_episodes_per_s']:.3g} | {r['ratio_regret']:.0f}x | "
            f"{r['jax_second_over_first_half']:.2f} |"
        )
    lines.append(
        "\nNumPy per-episode time, second half / first half: "
        f"{report['numpy_second_over_first_half']:.2f}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args(argv)
    report = run_benchmark(QUICK if args.quick else Config())
    print(format_report(report))
    return report


if __name__ == "__main__":
    script_main(main)
