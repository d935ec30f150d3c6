"""Figure 3: sensitivity of final regret to UCB1's exploration scale and EXP3's learning
rate, over a grid of 16 values x 4 instance gaps x 1,000 seeds per point; each
algorithm's whole surface is ONE compiled program (the hyperparameter is traced, not
recompiled).

Command:

    python -m experiments.bandit_sensitivity          # 1,000 seeds per point, T = 10^4
    python -m experiments.bandit_sensitivity --quick  # 200 seeds, T = 2,000

The script prints each surface's compile and run times. Expected: UCB1's regret is
smallest for exploration scales well below the theoretical alpha = 2 on these instances
and rises roughly linearly in alpha beyond it (its log T term is proportional to alpha);
too little exploration (alpha -> 0) makes it greedy and regret rises again on hard
instances. EXP3's regret is U-shaped in the learning rate; on these stochastic
instances its minimum lies at or somewhat above the worst-case tuning
eta* = sqrt(2 ln K / (T K)) (dashed line), and much smaller rates are far worse.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from algorithms.bandits import exp3, exp3_learning_rate, ucb1
from envs.bandits import StochasticParams, bernoulli_bandit, sample_means
from experiments import plotting
from experiments.common import drive, run_timing, script_main
from experiments.runner import sweep

NAME = "bandit_sensitivity"


@dataclasses.dataclass(frozen=True)
class Config:
    num_arms: int = 10  # arms K
    gaps: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4)  # minimum gap of each instance
    alphas: tuple[float, ...] = tuple(np.round(np.geomspace(0.02, 8.0, 16), 4))  # UCB1
    eta_factors: tuple[float, ...] = tuple(np.round(np.geomspace(1 / 30, 30, 16), 4))
    num_rounds: int = 10_000  # horizon T
    num_seeds: int = 1_000  # seeds per (hyperparameter, instance) point
    seed: int = 0  # PRNG seed (also draws the instances)


QUICK = Config(num_rounds=2_000, num_seeds=200)


def instances(config: Config) -> StochasticParams:
    keys = jax.random.split(jax.random.key(config.seed + 1), len(config.gaps))
    means = jnp.stack(
        [
            sample_means(k, config.num_arms, g)
            for k, g in zip(keys, config.gaps, strict=True)
        ]
    )
    return StochasticParams(means, jnp.zeros_like(means))


def run_experiment(config: Config) -> dict:
    env = bernoulli_bandit(np.linspace(0.1, 0.9, config.num_arms))  # shape template
    batch = instances(config)
    eta_star = float(exp3_learning_rate(config.num_rounds, config.num_arms))
    etas = np.asarray(config.eta_factors) * eta_star
    arrays, timings = (
        {
            "alphas": np.asarray(config.alphas),
            "etas": etas,
            "eta_star": np.asarray(eta_star),
            "gaps": np.asarray(config.gaps),
        },
        {},
    )
    for name, factory, grid in (
        ("ucb1", ucb1, {"alpha": np.asarray(config.alphas)}),
        ("exp3", exp3, {"learning_rate": etas}),
    ):
        result = sweep(
            factory,
            env,
            config.num_rounds,
            key=jax.random.key(config.seed),
            grid=grid,
            num_seeds=config.num_seeds,
            instances=batch,
            static={"num_arms": config.num_arms},
            record=[config.num_rounds],
            progress=True,
        )
        arrays[f"{name}/final_regret"] = result.final_regret  # [G, I, S]
        points = len(next(iter(grid.values()))) * len(config.gaps) * config.num_seeds
        timings[name] = run_timing(result, runs=points)
        print(
            f"{name}: {points:,} runs of {config.num_rounds:,} rounds in one program: "
            f"compile {result.compile_time:.2f} s, run {result.wall_time:.2f} s"
        )
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    panels = (
        ("ucb1", arrays["alphas"], "UCB1 exploration scale alpha", 2.0, "alpha = 2"),
        (
            "exp3",
            arrays["etas"],
            "EXP3 learning rate eta",
            float(arrays["eta_star"]),
            "eta* = sqrt(2 ln K / (T K))",
        ),
    )
    for ax, (name, xs, xlabel, theory, theory_label) in zip(axes, panels, strict=True):
        final = arrays[f"{name}/final_regret"]  # [G, I, S]
        for i, gap in enumerate(arrays["gaps"]):
            plotting.band(
                ax,
                xs,
                final[:, i, :],
                label=f"gap {gap:g}",
                axis=1,
                color=plotting.COLORS[i],
                marker="o",
                ms=3,
            )
        ax.axvline(theory, ls="--", color="0.3", lw=1.2, label=theory_label)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"regret at T = {config.num_rounds:,}")
        ax.set_title(
            f"{name.upper()}: {len(xs)} values x {len(arrays['gaps'])} instances "
            f"x {config.num_seeds} seeds, one program"
        )
        ax.grid(True, alpha=0.3)
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
    )


if __name__ == "__main__":
    script_main(main)
