"""Figure 2: final regret against the gap on two-armed Bernoulli bandits (gap on a log
grid), for UCB1, KL-UCB, Thompson sampling, MOSS and EXP3.

Command:

    python -m experiments.bandit_gap            # 500 seeds per gap, T = 10^4
    python -m experiments.bandit_gap --quick    # 200 seeds, T = 2,000 -> results/quick/

Every gap is an instance of ONE batched run per algorithm (instances x seeds in one
compiled program). Expected: for large gaps the stochastic algorithms are in the
``log(T) / gap`` regime (regret falls as the gap grows); for tiny gaps every algorithm
is in the ``gap * T`` regime (it cannot tell the arms apart); in between, regret peaks
near ``gap ~ sqrt(K / T)`` at the order of the minimax ``sqrt(K T)``. EXP3 does not
adapt to the gap and stays near its ``sqrt(T)`` level.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from algorithms.bandits import ALGORITHMS
from envs.bandits import StochasticParams, bernoulli_bandit
from experiments import plotting
from experiments.bandit_common import run_algorithms
from experiments.common import drive, script_main

NAME = "bandit_gap"


@dataclasses.dataclass(frozen=True)
class Config:
    gaps: tuple[float, ...] = tuple(
        np.round(np.geomspace(0.004, 0.8, 16), 5)
    )  # log grid
    num_rounds: int = 10_000  # horizon T
    num_seeds: int = 500  # seeds per gap
    algorithms: tuple[str, ...] = ("ucb1", "kl_ucb", "thompson", "moss", "exp3")
    seed: int = 0  # PRNG seed


QUICK = Config(
    gaps=tuple(np.round(np.geomspace(0.004, 0.8, 10), 5)),
    num_rounds=2_000,
    num_seeds=200,
)


def instances(gaps) -> StochasticParams:
    """Two arms with means 0.5 +- gap / 2, one instance per gap: [I, 2]."""
    gaps = np.asarray(gaps, dtype=np.float64)
    means = np.stack([0.5 + gaps / 2, 0.5 - gaps / 2], axis=1)
    return StochasticParams(jnp.asarray(means, jnp.float32), jnp.zeros(means.shape))


def run_experiment(config: Config) -> dict:
    env = bernoulli_bandit([0.6, 0.4])  # shape template; the instances replace it
    result = run_algorithms(
        config.algorithms,
        env,
        config.num_rounds,
        num_seeds=config.num_seeds,
        seed=config.seed,
        num_arms=2,
        instances=instances(config.gaps),
        record=[config.num_rounds],
    )
    result["arrays"]["gaps"] = np.asarray(config.gaps)
    return result


def plot(arrays: dict, config: Config, path) -> None:
    gaps = arrays["gaps"]
    horizon = config.num_rounds
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    for i, name in enumerate(config.algorithms):
        final = arrays[f"{name}/regret"][..., -1]  # [I, S]
        plotting.band(
            ax,
            gaps,
            final,
            label=name,
            axis=1,
            color=plotting.COLORS[i],
            marker="o",
            ms=3,
        )
    fine = np.geomspace(gaps.min(), gaps.max(), 200)
    plotting.reference(ax, fine, fine * horizon / 2, label="gap T / 2 (no learning)")
    plotting.reference(
        ax, fine, 2 * np.log(horizon) / fine, color="tab:gray", label="2 log(T) / gap"
    )
    plotting.reference(
        ax, fine, np.full_like(fine, np.sqrt(2 * horizon)), color="k", label="sqrt(K T)"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    finals = [arrays[f"{n}/regret"][..., -1].mean(axis=1) for n in config.algorithms]
    ax.set_ylim(0.5 * min(f.min() for f in finals), 3 * max(f.max() for f in finals))
    ax.set_xlabel("gap")
    ax.set_ylabel(f"regret at T = {horizon:,}")
    ax.set_title(f"Two-armed Bernoulli, {config.num_seeds} seeds per gap")
    ax.grid(True, which="major", alpha=0.3)
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
        known_algorithms=list(ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
