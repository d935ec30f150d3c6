"""Dueling bandits: cumulative strong and weak regret of RUCB, Double Thompson sampling,
MaxInP (linear dueling), APOHF (neural utility) and uniform duels, on a Condorcet
instance (Bradley-Terry, K = 8) and a cyclic instance without a Condorcet winner
(Copeland regret, K = 8). Matrix instances hand the learners one-hot arm features, so
MaxInP and APOHF fit a Bradley-Terry model of the arms.

Command (full, writes figures/dueling_regret.png and its results):

    python -m experiments.dueling_regret            # 24 seeds, T = 2,000
    python -m experiments.dueling_regret --quick    # 4 seeds, T = 300
                                                    # -> results/quick/

Expected (and seen in the committed figure, T = 2,000, 24 seeds): on the Condorcet
instance uniform duels are linear; RUCB bends but is still far from flat at T = 2,000
(its O(K^2) exploration of 28 pairs); D-TS and MaxInP (whose Bradley-Terry model is
exact on one-hot features) have the lowest, flattening strong and weak regret. Weak
regret is much smaller than strong regret (a duel containing the winner has zero weak
regret). APOHF runs with nu = 5, tuned on held-out seeds by
``experiments.dueling_apohf_nu`` (with the former nu = 1 it locked, in some seeds, onto
a self-duel of a suboptimal arm: no information, zero bonus). On the cyclic instance
(no Condorcet winner, Copeland regret) RUCB and D-TS are still near-linear at this
horizon (the Copeland analysis has large K^2 constants); MaxInP flattens because the
Bradley-Terry fit ranks the three Copeland winners (each beats the five other arms)
on top, and any duel among them has zero Copeland regret; APOHF's strong regret is
still growing at T = 2,000, its weak regret is the lowest.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

from algorithms.bandits.dueling import DUELING_ALGORITHMS, make_dueling_learner
from envs.dueling_bandits import bradley_terry_bandit, cyclic_bandit
from experiments import plotting
from experiments.common import drive, run_timing, script_main
from experiments.runner import run

NAME = "dueling_regret"


@dataclasses.dataclass(frozen=True)
class Config:
    num_arms: int = 8  # arms K of both instances
    utility_top: float = 1.5  # Bradley-Terry log-utilities linspace(top, 0, K)
    cyclic_margin: float = 0.4  # rock-paper-scissors margin of the cyclic instance
    num_rounds: int = 2_000  # horizon T
    num_seeds: int = 24  # seeds (common random numbers across algorithms)
    algorithms: tuple[str, ...] = tuple(DUELING_ALGORITHMS)  # which algorithms to run
    seed: int = 0  # PRNG seed


QUICK = Config(num_rounds=300, num_seeds=4)


def instances(config: Config) -> dict:
    return {
        "condorcet": bradley_terry_bandit(
            np.linspace(config.utility_top, 0.0, config.num_arms)
        ),
        "cyclic": cyclic_bandit(config.num_arms, margin=config.cyclic_margin),
    }


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    for inst, env in instances(config).items():
        for name in config.algorithms:
            learner = make_dueling_learner(
                name, config.num_arms, config.num_arms, config.num_rounds
            )
            start = time.perf_counter()
            res = run(
                learner,
                env,
                config.num_rounds,
                key=jax.random.key(config.seed),
                num_seeds=config.num_seeds,
                progress=False,
            )
            arrays[f"{inst}/{name}/regret"] = res.regret
            arrays[f"{inst}/{name}/weak_regret"] = res.metrics["weak_regret"]
            arrays["rounds"] = res.rounds
            timings[f"{inst}/{name}"] = run_timing(res, start)
            print(
                f"{inst:>9} {name:>10}: strong {res.final_regret.mean():8.1f} weak "
                f"{res.metrics['weak_regret'][:, -1].mean():8.1f} "
                f"({timings[f'{inst}/{name}']['total_s']}s)"
            )
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    titles = {"regret": "strong regret", "weak_regret": "weak regret"}
    for col, inst in enumerate(("condorcet", "cyclic")):
        for row, metric in enumerate(("regret", "weak_regret")):
            ax = axes[row, col]
            curves = {
                name: arrays[f"{inst}/{name}/{metric}"]
                for name in config.algorithms
                if f"{inst}/{name}/{metric}" in arrays
            }
            plotting.regret_curves(ax, rounds, curves)
            t = rounds[rounds >= 10].astype(float)
            floor = min(np.mean(v[:, -1]) for v in curves.values())
            scale = max(floor, 1.0) / np.log(t[-1])
            plotting.reference(ax, t, scale * np.log(t), label="c log t")
            kind = "Condorcet" if inst == "condorcet" else "Copeland"
            ax.set_title(
                f"{inst} (K = {config.num_arms}): {titles[metric]} vs the {kind} "
                f"winner, {config.num_seeds} seeds",
                fontsize=9,
            )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 0.88, 1))
    plotting.save_figure(fig, path, legend_axes=[], layout=False)


def main(argv=None):
    return drive(
        argv,
        doc=__doc__,
        name=NAME,
        config=Config(),
        quick=QUICK,
        run_fn=run_experiment,
        plot_fn=plot,
        known_algorithms=list(DUELING_ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
