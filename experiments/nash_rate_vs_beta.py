"""Figure 3: linear convergence of the regularised methods. Iterations needed to bring
the duality gap of the KL-regularised game below 1e-6, against beta, on 10 random
10 x 10 preference games (median and range over games), exact feedback.

Command:

    python -m experiments.nash_rate_vs_beta          # 7 betas, T = 12,000 queries
    python -m experiments.nash_rate_vs_beta --quick  # 4 betas, T = 3,000

Expected: EGPO, MMD and online mirror descent (Online IPO 1 / INPO) converge linearly,
so the iterations to a fixed accuracy grow like log(1/eps) / (eta beta): a slope of -1
on log-log axes (dashed: log(gap_0 / 1e-6) / (eta beta) at eta = 0.5, the
(1 - eta beta)^t contraction of EGPO's Theorem 1). Nash-MD with a constant step only
reaches O(eta / beta)-accurate points for small beta and misses 1e-6 there (not drawn
where no game reached it).
"""

from __future__ import annotations

import dataclasses

import jax
import matplotlib.pyplot as plt
import numpy as np

from experiments import plotting
from experiments.common import drive, script_main
from experiments.nash_common import random_game_instances, run_learners

NAME = "nash_rate_vs_beta"
METHODS = ("egpo", "mmd", "online_ipo_1", "nash_md")
# Oracle calls per iteration (EGPO: two).
QUERIES_PER_ITERATION = {"egpo": 2}


@dataclasses.dataclass(frozen=True)
class Config:
    num_games: int = 10  # random preference games
    num_responses: int = 10  # responses per game
    betas: tuple[float, ...] = tuple(np.round(np.geomspace(0.02, 1.0, 7), 4))  # KL
    target: float = 1e-6  # duality-gap accuracy
    num_rounds: int = 12_000  # preference queries T
    algorithms: tuple[str, ...] = METHODS  # which learners
    seed: int = 0  # PRNG seed (draws the games)


QUICK = Config(betas=(0.05, 0.1, 0.3, 1.0), num_rounds=3_000)


def run_experiment(config: Config) -> dict:
    with jax.enable_x64(True):
        instances, beta_of = random_game_instances(
            config.num_games, config.num_responses, config.betas, config.seed
        )
        arrays, timings = run_learners(
            config.algorithms,
            instances,
            config.num_rounds,
            num_responses=config.num_responses,
            record="linear" if config.num_rounds <= 1000 else _grid(config.num_rounds),
        )
    rounds = arrays["rounds"]
    for name in config.algorithms:
        gaps = arrays[f"{name}/duality_gap"][:, 0]  # [I, M]
        hit = gaps <= config.target
        first = np.where(hit.any(-1), rounds[np.argmax(hit, -1)], np.nan)
        per = QUERIES_PER_ITERATION.get(name, 1)
        arrays[f"{name}/iterations"] = first / per  # [I]
    arrays["beta_of_instance"] = beta_of
    arrays["initial_gap"] = arrays[f"{config.algorithms[0]}/duality_gap"][:, 0, 0]
    return {"arrays": arrays, "timings": timings}


def _grid(num_rounds):
    return np.unique(np.linspace(1, num_rounds, 1500).round().astype(np.int64))


def plot(arrays: dict, config: Config, path) -> None:
    betas = np.asarray(config.betas)
    beta_of = arrays["beta_of_instance"]
    fig, ax = plt.subplots(figsize=(7, 5))
    for i, name in enumerate(config.algorithms):
        its = arrays[f"{name}/iterations"]
        med, lo, hi = [], [], []
        for b in betas:
            v = its[beta_of == b]
            ok = np.isfinite(v).all()
            med.append(np.median(v) if ok else np.nan)
            lo.append(np.min(v) if ok else np.nan)
            hi.append(np.max(v) if ok else np.nan)
        color = plotting.COLORS[i]
        ax.plot(betas, med, "o-", color=color, label=f"{name} (median)")
        ax.fill_between(betas, lo, hi, color=color, alpha=0.2, lw=0)
    gap0 = np.median(arrays["initial_gap"])
    plotting.reference(
        ax,
        betas,
        np.log(gap0 / config.target) / (0.5 * betas),
        label="log(gap0/eps) / (eta beta)",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("beta (KL strength)")
    ax.set_ylabel(f"iterations to duality gap <= {config.target:g}")
    ax.set_title(
        f"{config.num_games} random {config.num_responses}x{config.num_responses} "
        "games, exact feedback (band: min-max)"
    )
    ax.grid(True, which="both", alpha=0.3)
    plotting.save_figure(fig, path)


def main(argv=None):
    return drive(
        argv,
        doc=__doc__,
        name=NAME,
        config=Config(),
        quick=QUICK,
        run_fn=run_experiment,
        plot_fn=plot,
        known_algorithms=list(METHODS),
    )


if __name__ == "__main__":
    script_main(main)
