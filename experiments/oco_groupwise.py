"""Figure 6 (OCO): groupwise regret. Per-group regret of the sleeping-experts
reduction (one online regressor per group) against a single online regressor, on a
stream of individuals in seven intersecting groups with group-dependent linear labels.

Command (full, writes figures/oco_groupwise.png and its results):

    python -m experiments.oco_groupwise            # 100 seeds, T = 5,000
    python -m experiments.oco_groupwise --quick    # 20 seeds, T = 1,000

Expected: the single Vovk-Azoury-Warmuth regressor is the best linear model on the
whole stream, but the labels' coefficients shift with the attributes, so on each
attribute group its regret against the group's own best linear predictor grows
linearly in the group's rounds. The groupwise algorithm (Acharya et al. 2024: sleeping
experts over per-group regressors) has sublinear regret on every group at once, and
even beats the single regressor on "everyone" (its mixture is not a linear model).

Measured (full run, T = 5,000, 100 seeds): the single VAW's regret at T is about
1,400 on each ``b_j = 1`` group and 1,230 on each ``b_j = 0`` group (linear in the
group's ~2,500 rounds) and 130 on everyone; the groupwise algorithm's is between -120
and +30 on the ``b_j = 1`` groups (it peaks near 100 around t = 1,000 while the
per-group regressors learn), -440 to -570 on the ``b_j = 0`` groups and -3,000 on
everyone.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt

from algorithms.oco.groupwise import groupwise, vaw
from envs.oco_groups import GROUP_NAMES, NUM_GROUPS, groups_regression
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "oco_groupwise"


@dataclasses.dataclass(frozen=True)
class Config:
    num_continuous: int = 2  # continuous features m (d = 4 + m)
    noise: float = 0.3  # label noise
    learning_rate: float = 0.05  # sleeping experts' eta
    num_rounds: int = 5_000  # horizon T
    num_seeds: int = 100  # independent runs
    seed: int = 0  # PRNG seed


QUICK = Config(num_rounds=1_000, num_seeds=20)


def run_experiment(config: Config) -> dict:
    env = groups_regression(config.num_continuous, noise=config.noise)
    dim = 4 + config.num_continuous
    learners = {
        "groupwise": groupwise(dim, NUM_GROUPS, learning_rate=config.learning_rate),
        "single VAW": vaw(dim),
    }
    metrics = ("regret", *GROUP_NAMES[1:])
    return run_learners(
        learners,
        env,
        config.num_rounds,
        num_seeds=config.num_seeds,
        seed=config.seed,
        metrics=metrics,
    )


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    fig, axes = plt.subplots(2, 4, figsize=(17, 7.5), sharex=True)
    fields = ("regret", *GROUP_NAMES[1:])
    for ax, field, label in zip(axes.flat, fields, GROUP_NAMES, strict=False):
        for i, name in enumerate(("groupwise", "single VAW")):
            plotting.band(
                ax,
                rounds,
                arrays[f"{name}/{field}"],
                label=name,
                color=plotting.COLORS[i],
            )
        ax.set_title(f"group: {label}")
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.set_ylabel("regret on the group")
    axes.flat[-1].axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("round t")
    plotting.save_figure(fig, path, legend_axes=[axes.flat[0]])


def main(argv=None):
    return drive(
        argv,
        doc=__doc__,
        name=NAME,
        config=Config(),
        quick=QUICK,
        run_fn=run_experiment,
        plot_fn=plot,
    )


if __name__ == "__main__":
    script_main(main)
