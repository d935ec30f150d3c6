"""Figure: regret against the number of episodes K (log-log) of every adversarial-MDP
algorithm on each loss sequence, mean and 95% band over random instances, with
K^{1/2} and K^{2/3} reference slopes and the fitted slopes in the legend.

Algorithms (tabular, H = 3 layers, S = 3 states per layer, A = 3 actions): O-REPS
(full information, known transitions), O-REPS with bandit feedback, policy optimization
(full information), policy optimization with dilated bonuses (bandit) and UOB-REPS
(bandit feedback, unknown transitions). Each run is tuned to its horizon K (the
theory's learning rates) and its curve is the anytime regret of that run.

Command (full, writes figures/advmdp_regret.png and its results):

    python -m experiments.advmdp_regret            # 4 sequences, K = 2,000, 16 seeds
    python -m experiments.advmdp_regret --quick    # 2 sequences, K = 300, 8 seeds
                                                   # -> results/quick/

Expected: every curve bends below linear; the full-information O-REPS is the lowest;
the bandit algorithms pay a factor about sqrt(S A) more; UOB-REPS, which also learns
the transitions, is the highest of the O-REPS family early on. Fitted slopes (printed
and in the legend) lie between 1/2 and 1 at these horizons: the sqrt(K) regime is
reached only after the algorithm stops paying its initial exploration.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.adversarial_mdp import ALGORITHMS, REQUIREMENTS
from envs.adversarial_mdp import LOSS_SEQUENCES
from experiments import plotting
from experiments.advmdp_common import (
    fitted_slope,
    plot_rate_references,
    run_on_sequence,
)
from experiments.common import drive, script_main

NAME = "advmdp_regret"


# The tabular learners (the linear-Q ones run on linear-Q instances; their K-curves
# are in experiments.advmdp_actions; pass them with --algorithms).
TABULAR = tuple(n for n in ALGORITHMS if "feature_dim" not in REQUIREMENTS[n])


@dataclasses.dataclass(frozen=True)
class Config:
    sequences: tuple[str, ...] = tuple(LOSS_SEQUENCES)  # loss sequences (one panel)
    num_states: int = 3  # S states per layer
    num_actions: int = 3  # A actions
    horizon: int = 3  # H layers
    num_rounds: int = 2_000  # K episodes (each algorithm tuned to it)
    num_seeds: int = 16  # random instances (transitions and losses) per algorithm
    algorithms: tuple[str, ...] = TABULAR  # which algorithms to run (any registered)
    seed: int = 0  # PRNG seed


QUICK = Config(sequences=("switching", "ftl_trap"), num_rounds=300, num_seeds=8)


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    for losses in config.sequences:
        out = run_on_sequence(
            config.algorithms,
            losses,
            num_states=config.num_states,
            num_actions=config.num_actions,
            horizon=config.horizon,
            num_episodes=config.num_rounds,
            num_seeds=config.num_seeds,
            seed=config.seed,
        )
        arrays.update(out["arrays"])
        timings.update(out["timings"])
    rounds = arrays["rounds"]
    for key, regret in arrays.items():
        if key.endswith("/regret"):
            slope = fitted_slope(rounds, regret)
            final = float(np.mean(regret[:, -1]))
            print(f"{key:45s} final {final:9.2f}  fitted slope {slope:.2f}")
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    num = len(config.sequences)
    cols = min(num, 2)
    rows = -(-num // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(6.5 * cols, 4.8 * rows), squeeze=False
    )
    for ax, losses in zip(axes.ravel(), config.sequences, strict=False):
        anchor = None
        for i, name in enumerate(config.algorithms):
            regret = arrays[f"{losses}/{name}/regret"]
            slope = fitted_slope(rounds, regret)
            plotting.band(
                ax,
                rounds,
                regret,
                label=f"{name} (slope {slope:.2f})",
                color=plotting.COLORS[i % len(plotting.COLORS)],
            )
            anchor = max(anchor or 0.0, float(np.mean(regret[:, -1])))
        plot_rate_references(ax, rounds, anchor)
        ax.set_xlabel("episode K")
        ax.set_ylabel("regret vs best fixed policy")
        ax.set_title(
            f"{losses} losses (H={config.horizon}, S={config.num_states}, "
            f"A={config.num_actions}), {config.num_seeds} instances"
        )
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    for ax in axes.ravel()[num:]:
        ax.set_visible(False)
    plotting.save_figure(fig, path, legend_axes=[])


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
