"""Figure (issue #7 figure 1): regret against the number of episodes K (log-log) of
every adversarial-MDP algorithm on each loss sequence, mean and 95% band over random
instances, with K^{1/2}, K^{2/3} and K^{8/9} reference slopes (anchored at the
highest final regret of the panel) and the slope fitted on the last decade of K in
the legend (and printed).

One column per loss sequence (``envs.adversarial_mdp.LOSS_SEQUENCES``: switching,
drifting, stochastic with a gap, FTL trap). Top row, the tabular learners (H = 3
layers, S = 3 states per layer, A = 3 actions, random Dirichlet transitions and loss
parameters): O-REPS (full information, known transitions), O-REPS with bandit
feedback, policy optimization (full information), policy optimization with dilated
bonuses (bandit) and UOB-REPS (bandit feedback, unknown transitions). Bottom row, the
linear-Q learners with a simulator on random linear-Q instances of the same loss
sequence (``adversarial_mdp(..., feature_dim=4)``: the same H, S, A, d = 4 simplex
features, linear transitions, the loss sequence drawn in weight space, bandit
feedback): the K^{2/3} baseline of Luo, Wei and Lee (2021; MGR covariance), log-barrier
FTRL and the magnitude-reduced estimator of Dai, Luo, Wei and Zimmert (2023). Within a
row the same key gives every algorithm the same instances (paired curves); the two
rows are different instance families and are not paired. Each run is tuned to its
horizon K (the registry's default tuning) and its curve is the anytime regret of that
run.

Command (full, writes figures/advmdp_regret.png and its results):

    python -m experiments.advmdp_regret            # 4 sequences x (5 tabular + 3
                                                   # linear-Q), K = 2,000, 16 seeds
    python -m experiments.advmdp_regret --quick    # tabular on switching and ftl_trap,
                                                   # magnitude-reduced on switching,
                                                   # K = 300, 8 seeds -> results/quick/

``--algorithms`` takes any registered names; those that need ``feature_dim`` go to
the bottom row. ``Config.linear_sequences`` restricts the bottom row's sequences.

Measured, bottom row (full configuration: K = 2,000, 16 instances; final regret and
the slope fitted on the last decade, K^{2/3} baseline / log-barrier FTRL /
magnitude-reduced): switching 240 / 146 / 158 (slopes 0.76 / 0.63 / 0.65), drifting
182 / 116 / 138 (0.81 / 0.71 / 0.74), stochastic 168 / 152 / 146 (0.89 / 0.91 /
0.90), FTL trap 286 / 219 / 229 (0.74 / 0.71 / 0.72). The two source-paper learners
are level with each other on every sequence (their 95% intervals overlap). The
baseline has the highest mean on switching, drifting and the FTL trap (its 95%
interval is disjoint from both on switching, from the log-barrier's on drifting, and
overlaps both on the FTL trap); on stochastic all three are level. At this
K the slopes (0.63-0.91) are pre-asymptotic: the figure does not show the sqrt(K)
against K^{2/3} separation of the bounds. Top row (the tabular learners, unchanged;
same numbers as the previous one-row figure up to about 1%): final regret O-REPS
60-79 (slopes 0.12-0.28), O-REPS bandit 140-270 (0.31-0.58), policy optimization
119-278 (0.19-0.59), UOB-REPS 255-436 (0.49-0.78), dilated-bonus PO 493-733
(0.73-0.93, still in its exploration phase at this K). The full run took about 660 s
of CPU time (32 programs; the tabular row 300 s, the linear-Q row 360 s), run here as
parallel per-sequence processes (about 23 minutes of wall time under a load average
of 15-30 on 2 shared cores). --quick: the added program took about 20 s of CPU time (all
three linear-Q learners: 66 s, so --quick runs one).
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.adversarial_mdp import ALGORITHMS, LINEAR_Q_FEATURE_DIM, REQUIREMENTS
from envs.adversarial_mdp import LOSS_SEQUENCES
from experiments import plotting
from experiments.advmdp_common import (
    RATES_ISSUE_FIGURE_1,
    fitted_slope,
    plot_rate_references,
    run_on_sequence,
)
from experiments.common import drive, script_main

NAME = "advmdp_regret"


# The tabular learners (top row) and the linear-Q learners with a simulator (bottom
# row, on linear-Q instances of the same loss sequence: ``REQUIREMENTS`` gives them
# ``feature_dim``). Any registered name can be passed with --algorithms; the ones
# that need ``feature_dim`` go to the bottom row.
TABULAR = tuple(n for n in ALGORITHMS if "feature_dim" not in REQUIREMENTS[n])
LINEAR_Q = ("linear_q_po", "log_barrier_ftrl", "magnitude_reduced_ftrl")


# One colour per algorithm across both rows; tab10's grey is left out (the
# references are grey).
PALETTE = tuple(c for i, c in enumerate(plotting.COLORS) if i != 7)


def is_linear(name: str) -> bool:
    """Whether ``name`` runs on linear-Q instances (the figure's bottom row)."""
    return "feature_dim" in REQUIREMENTS[name]


@dataclasses.dataclass(frozen=True)
class Config:
    sequences: tuple[str, ...] = tuple(LOSS_SEQUENCES)  # loss sequences (one column)
    num_states: int = 3  # S states per layer
    num_actions: int = 3  # A actions
    horizon: int = 3  # H layers
    num_rounds: int = 2_000  # K episodes (each algorithm tuned to it)
    num_seeds: int = 16  # random instances (transitions and losses) per algorithm
    algorithms: tuple[str, ...] = (*TABULAR, *LINEAR_Q)  # any registered names
    # loss sequences of the linear-Q row (None: the same as ``sequences``)
    linear_sequences: tuple[str, ...] | None = None
    seed: int = 0  # PRNG seed


# The linear-Q row: one learner on one sequence (one more program, about 20 s of CPU
# time to compile; each linear-Q learner is its own program).
QUICK = Config(
    sequences=("switching", "ftl_trap"),
    num_rounds=300,
    num_seeds=8,
    algorithms=(*TABULAR, "magnitude_reduced_ftrl"),
    linear_sequences=("switching",),
)


def groups(config: Config) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """The figure's rows: ``(title, algorithms, loss sequences)``, empty rows left
    out."""
    linear_sequences = (
        config.sequences if config.linear_sequences is None else config.linear_sequences
    )
    for losses in (*config.sequences, *linear_sequences):
        if losses not in LOSS_SEQUENCES:
            raise ValueError(
                f"unknown loss sequence {losses!r}; choose from {list(LOSS_SEQUENCES)}"
            )
    tabular = tuple(n for n in config.algorithms if not is_linear(n))
    linear = tuple(n for n in config.algorithms if is_linear(n))
    rows = [
        ("tabular", tabular, tuple(config.sequences)),
        (
            f"linear-Q, d = {LINEAR_Q_FEATURE_DIM}, simulator",
            linear,
            tuple(linear_sequences),
        ),
    ]
    return [row for row in rows if row[1] and row[2]]


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    for _, names, sequences in groups(config):
        for losses in sequences:
            out = run_on_sequence(
                names,
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
    rows = groups(config)
    columns = list(dict.fromkeys(s for _, _, seqs in rows for s in seqs))
    fig, axes = plt.subplots(
        len(rows),
        len(columns),
        figsize=(5.4 * len(columns), 4.6 * len(rows)),
        squeeze=False,
    )
    for (group, names, sequences), row in zip(rows, axes, strict=True):
        for ax, losses in zip(row, columns, strict=True):
            if losses not in sequences:
                ax.set_visible(False)
                continue
            anchor = 0.0
            for name in names:
                regret = arrays[f"{losses}/{name}/regret"]
                slope = fitted_slope(rounds, regret)
                plotting.band(
                    ax,
                    rounds,
                    regret,
                    label=f"{name} (slope {slope:.2f})",
                    color=PALETTE[config.algorithms.index(name) % len(PALETTE)],
                )
                anchor = max(anchor, float(np.mean(regret[:, -1])))
            plot_rate_references(ax, rounds, anchor, RATES_ISSUE_FIGURE_1)
            ax.set_xlabel("episode K")
            ax.set_ylabel("regret vs best fixed policy")
            ax.set_title(
                f"{losses} losses, {group}\n(H={config.horizon}, "
                f"S={config.num_states}, A={config.num_actions}), "
                f"{config.num_seeds} instances",
                fontsize=10,
            )
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.suptitle(
        "regret vs K of a run tuned to K\n(mean, 95% band; slope fitted on the "
        "last decade)",
        fontsize=11,
    )
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
