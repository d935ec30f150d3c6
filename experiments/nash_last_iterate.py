"""Figure 2: last iterate against average iterate on an intransitive game. Duality
gap (exploitability, unregularised) of the last iterate and of the running average
against rounds on weighted rock-paper-scissors and on a population of three
Bradley-Terry raters whose majority preference is a Condorcet cycle.

Command:

    python -m experiments.nash_last_iterate          # T = 20,000
    python -m experiments.nash_last_iterate --quick  # T = 3,000 -> results/quick/

Expected (and seen in the committed figure): MWU (Hedge self-play), SPO and fictitious
play cycle: their last-iterate gap stays at 0.1-1 while their average iterate converges
like 1/sqrt(T) or faster (no-regret); RM+ likewise. On weighted RPS, Euclidean
extragradient, OMWU, EGPO (beta = 0, identical to symmetric mirror prox, whose curve
hides it), mirror prox and OGDA converge linearly in the last iterate after a burn-in,
and Halpern like 1/t. On the rater-mixture game (equilibrium (0.62, 0.09, 0.30), a
small-probability action) only Euclidean extragradient is linear within T = 20,000;
OGDA and Halpern reach ~1e-4 to 1e-5 and OMWU / mirror prox / EGPO are still in the
burn-in whose length grows with 1 / (smallest equilibrium probability) (Wei et al.
2021's instance-dependent constants).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

from algorithms.nash import make_learner
from envs.games import mixture_bt_matrix, preference_game, rps_matrix
from experiments import plotting
from experiments.common import drive, script_main
from experiments.runner import run

NAME = "nash_last_iterate"
METHODS = (
    "mwu",
    "spo",
    "fictitious_play",
    "regret_matching_plus",
    "omwu",
    "egpo",
    "mirror_prox",
    "extragradient",
    "ogda",
    "halpern",
)


@dataclasses.dataclass(frozen=True)
class Config:
    rps_weights: tuple[float, float, float] = (0.5, 1.0, 0.8)  # weighted RPS (a, b, c)
    rater_weights: tuple[float, float, float] = (0.45, 0.35, 0.2)  # 3 BT raters
    rater_scale: float = 4.0  # utility gap between consecutive ranks of each rater
    num_rounds: int = 20_000  # horizon T
    algorithms: tuple[str, ...] = METHODS  # which learners
    seed: int = 0  # PRNG seed


QUICK = Config(num_rounds=3_000)


def _rater_mixture(config):
    """Raters ranking (a>b>c), (b>c>a), (c>a>b): majorities a>b, b>c, c>a."""
    base = np.array([2.0, 1.0, 0.0]) * config.rater_scale
    utilities = np.stack([base, np.roll(base, 1), np.roll(base, 2)])
    return mixture_bt_matrix(utilities, np.asarray(config.rater_weights))


def _games(config):
    return {
        "weighted RPS": (preference_game(rps_matrix(*config.rps_weights)), 3),
        "3 Bradley-Terry raters (Condorcet cycle)": (
            preference_game(_rater_mixture(config)),
            3,
        ),
    }


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    with jax.enable_x64(True):
        for game, (env, n) in _games(config).items():
            for name in config.algorithms:
                start = time.perf_counter()
                result = run(
                    make_learner(name, n),
                    env,
                    config.num_rounds,
                    key=jax.random.key(config.seed),
                    record="log",
                )
                arrays[f"{game}/{name}/last"] = result.metrics["duality_gap"][0]
                arrays[f"{game}/{name}/average"] = result.metrics["avg_gap"][0]
                arrays["rounds"] = result.rounds
                timings[f"{game}/{name}"] = round(time.perf_counter() - start, 3)
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    games = list(_games(config))
    fig, axes = plt.subplots(len(games), 2, figsize=(12, 4.6 * len(games)))
    for r, game in enumerate(games):
        for c, kind in enumerate(("last", "average")):
            ax = axes[r, c]
            for i, name in enumerate(config.algorithms):
                y = np.maximum(arrays[f"{game}/{name}/{kind}"], 1e-16)
                style = "-" if i < len(plotting.COLORS) else ":"
                ax.plot(rounds, y, style, label=name, color=plotting.COLORS[i], lw=1.5)
            t = rounds[rounds >= 10]
            plotting.reference(ax, t, 1.0 / np.sqrt(t), label="1/sqrt(t)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_ylim(1e-12, 2)
            ax.set_xlabel("round t")
            ax.set_ylabel(f"duality gap of the {kind} iterate")
            ax.set_title(f"{game}: {kind} iterate")
            ax.grid(True, alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 0.84, 1))
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
        known_algorithms=list(METHODS),
    )


if __name__ == "__main__":
    script_main(main)
