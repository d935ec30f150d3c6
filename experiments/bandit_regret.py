"""Figure 1: cumulative regret of every multi-armed bandit algorithm on a 10-armed
Bernoulli instance, mean and 95% band over 1,000 seeds, with the Lai-Robbins asymptote.

Command (full, writes figures/bandit_regret.png and its results):

    python -m experiments.bandit_regret            # ~1,000 seeds, T = 10^4
    python -m experiments.bandit_regret --quick    # 200 seeds, T = 2,000
                                                   # -> results/quick/

Expected: constant epsilon-greedy grows linearly; explore-then-commit grows until it
commits; UCB1 and UCB-V grow like log T with a large constant; KL-UCB, Thompson sampling
and Bayes-UCB are the lowest stochastic curves and approach the slope of the Lai-Robbins
line ``C log t`` (the dashed line; asymptotically no uniformly efficient algorithm is
below it); EXP3 / EXP3-IX grow like sqrt(T); Tsallis-INF is logarithmic (best of both
worlds).
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.bandits import ALGORITHMS
from envs.bandits import bernoulli_bandit, lai_robbins_constant
from experiments import plotting
from experiments.bandit_common import run_algorithms
from experiments.common import drive, script_main

NAME = "bandit_regret"


@dataclasses.dataclass(frozen=True)
class Config:
    means: tuple[float, ...] = (
        0.9,
        0.8,
        0.8,
        0.7,
        0.7,
        0.6,
        0.5,
        0.4,
        0.3,
        0.2,
    )  # arms
    num_rounds: int = 10_000  # horizon T
    num_seeds: int = 1_000  # independent runs per algorithm (common random numbers)
    algorithms: tuple[str, ...] = tuple(ALGORITHMS)  # which algorithms to run
    seed: int = 0  # PRNG seed


QUICK = Config(num_rounds=2_000, num_seeds=200)


def run_experiment(config: Config) -> dict:
    env = bernoulli_bandit(config.means)
    return run_algorithms(
        config.algorithms,
        env,
        config.num_rounds,
        num_seeds=config.num_seeds,
        seed=config.seed,
        num_arms=len(config.means),
    )


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    curves = {k.split("/")[0]: v for k, v in arrays.items() if k.endswith("/regret")}
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5))
    constant = lai_robbins_constant(config.means)
    t = rounds[rounds >= 10]
    for ax, logy in zip(axes, (False, True), strict=True):
        plotting.regret_curves(ax, rounds, curves, logy=logy)
        plotting.reference(
            ax, t, constant * np.log(t), label=f"Lai-Robbins {constant:.1f} log t"
        )
    axes[0].set_title(f"{len(config.means)}-armed Bernoulli, {config.num_seeds} seeds")
    axes[1].set_title("same, log-log")
    axes[1].set_ylim(bottom=1)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 0.87, 1))
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
        known_algorithms=list(ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
