"""Contextual bandits: cumulative regret of SquareCB (ridge and neural oracles), the
perturbed neural bandits of Deb et al. (2024), NeuralUCB / NeuralTS (diagonal Gram),
FALCON and LinUCB, on a linear and a nonlinear (cosine) reward function; K = 4 arms,
d = 5, i.i.d. unit contexts, Gaussian noise 0.1, one random instance per seed.

Command (full, writes figures/ctxbandit_regret.png and its results):

    python -m experiments.ctxbandit_regret            # 24 seeds, T = 2,000
    python -m experiments.ctxbandit_regret --quick    # 4 seeds, T = 200, 4 of the
                                                      # 8 algorithms -> results/quick/

Sizing: the issue's default is many seeds; the neural learners train a width-32 MLP
online every round and each of the 16 (reward, algorithm) programs compiles
separately, so the full run is held to 24 seeds x T = 2,000 to stay within about 5
minutes on 2 CPU cores; ``--seeds`` raises it (the bands narrow as 1/sqrt(seeds)).

Expected: on the linear reward LinUCB is best (its model is exact), SquareCB-ridge and
FALCON follow with the sqrt(T)-type exploration cost of inverse gap weighting, and the
neural methods are close to SquareCB-ridge. On the cosine reward every linear method
(LinUCB, SquareCB-ridge, FALCON) has linear regret (the per-arm linear model cannot
represent cos(3 <theta_a, x>)), while the neural methods learn the reward and their
regret bends over: the neural methods win.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

from algorithms.bandits.contextual import CONTEXTUAL_ALGORITHMS, make_contextual_learner
from envs.contextual_bandits import random_contextual_bandit
from experiments import plotting
from experiments.common import drive, run_timing, script_main
from experiments.runner import run

NAME = "ctxbandit_regret"
DEFAULT_ALGORITHMS = (
    "linucb",
    "squarecb_ridge",
    "falcon",
    "squarecb_neural",
    "neu_squarecb",
    "neu_fastcb",
    "neural_ucb",
    "neural_ts",
)


@dataclasses.dataclass(frozen=True)
class Config:
    num_arms: int = 4  # arms K
    dim: int = 5  # context dimension d
    reward_fns: tuple[str, ...] = ("linear", "cosine")  # one panel per reward function
    noise_std: float = 0.1  # Gaussian reward noise
    num_rounds: int = 2_000  # horizon T
    num_seeds: int = 24  # seeds (one random instance each, common to all algorithms)
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS  # which algorithms to run
    seed: int = 0  # PRNG seed


# Compilation dominates the quick run: 4 of the 8 algorithms.
QUICK = Config(
    num_rounds=200,
    num_seeds=4,
    algorithms=("linucb", "squarecb_ridge", "squarecb_neural", "neu_fastcb"),
)


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    for fn in config.reward_fns:
        env = random_contextual_bandit(
            config.num_arms, config.dim, reward_fn=fn, noise_std=config.noise_std
        )
        for name in config.algorithms:
            learner = make_contextual_learner(
                name, config.num_arms, config.dim, config.num_rounds
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
            arrays[f"{fn}/{name}/regret"] = res.regret
            arrays["rounds"] = res.rounds
            timings[f"{fn}/{name}"] = run_timing(res, start)
            total = timings[f"{fn}/{name}"]["total_s"]
            print(
                f"{fn:>7} {name:>16}: final regret "
                f"{res.final_regret.mean():8.1f} ({total}s)"
            )
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    fig, axes = plt.subplots(1, len(config.reward_fns), figsize=(13, 5), squeeze=False)
    for ax, fn in zip(axes[0], config.reward_fns, strict=True):
        curves = {
            name: arrays[f"{fn}/{name}/regret"]
            for name in config.algorithms
            if f"{fn}/{name}/regret" in arrays
        }
        plotting.regret_curves(ax, rounds, curves, logy=True)
        t = rounds[rounds >= 10].astype(float)
        top = max(np.mean(v[:, -1]) for v in curves.values())
        plotting.reference(
            ax, t, top * np.sqrt(t / t[-1]), label="sqrt(t) (slope reference)"
        )
        ax.set_ylim(bottom=1)
        ax.set_title(
            f"{fn} rewards, K = {config.num_arms}, d = {config.dim}, "
            f"{config.num_seeds} seeds"
        )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 0.85, 1))
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
        known_algorithms=list(CONTEXTUAL_ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
