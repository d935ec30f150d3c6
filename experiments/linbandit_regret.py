"""Linear bandits: cumulative regret of OFUL, LinTS, linear epsilon-greedy and phased
elimination (d = 10, 50 actions on the unit sphere, theta* on the unit sphere, noise
sd 1, a fresh instance per seed), mean and 95% band over 1,000 seeds, with the
``d sqrt(t)`` reference; and the final regret against the dimension d (log-log).

Command (full, writes figures/linbandit_regret.png and its results):

    python -m experiments.linbandit_regret           # 1,000 seeds, T = 3,000
    python -m experiments.linbandit_regret --quick   # 100 seeds, T = 400
                                                     # -> results/quick/

T = 3,000 rather than 10^4 keeps the full run within ~5 minutes on 2 cores (phased
elimination's per-round design step is the cost).

Expected (and seen in the committed figure): OFUL bends from linear to ~sqrt(t) and
ends on the ``d sqrt(t)`` line; linear epsilon-greedy (eps_t = t^{-1/3}) is the lowest
at this horizon (the greedy ridge estimate is informative on diverse sphere actions);
LinTS with the theory's sqrt(d) oversampling over-explores; phased elimination is still
in its first, long phases and is the highest. Against d (right panel) OFUL's final
regret grows with slope ~1 like the ``d sqrt(T)`` bound; epsilon-greedy is flat in d.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.bandits.linear import LINEAR_ALGORITHMS
from envs.linear_bandits import random_linear_bandit
from experiments import plotting
from experiments.common import drive, script_main
from experiments.linbandit_common import run_linear_algorithms

NAME = "linbandit_regret"


@dataclasses.dataclass(frozen=True)
class Config:
    dim: int = 10  # feature dimension d of the main panel
    num_arms: int = 50  # actions (uniform on the unit sphere, per seed)
    noise_std: float = 1.0  # Gaussian reward noise sd (R)
    num_rounds: int = 3_000  # horizon T
    num_seeds: int = 1_000  # seeds of the main panel
    dims: tuple[int, ...] = (2, 5, 10, 20)  # dimensions of the right panel
    dim_seeds: int = 100  # seeds per dimension in the right panel (d = dim reuses left)
    algorithms: tuple[str, ...] = tuple(LINEAR_ALGORITHMS)  # which algorithms
    seed: int = 0  # PRNG seed


# Quick: one dimension (each extra d costs four compilations).
QUICK = Config(num_rounds=400, num_seeds=100, dims=(10,), dim_seeds=50)


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}

    def add(out):
        arrays.update(out["arrays"])
        timings.update(out["timings"])

    for d in sorted(set(config.dims) | {config.dim}):
        main = d == config.dim
        env = random_linear_bandit(d, config.num_arms, noise_std=config.noise_std)
        add(
            run_linear_algorithms(
                config.algorithms,
                env,
                config.num_rounds,
                num_seeds=config.num_seeds if main else config.dim_seeds,
                seed=config.seed,
                dim=d,
                num_arms=config.num_arms,
                noise_std=config.noise_std,
                prefix="" if main else f"d{d}/",
            )
        )
    return {"arrays": arrays, "timings": timings}


def _final(arrays, config, name, d):
    key = f"{name}/regret" if d == config.dim else f"d{d}/{name}/regret"
    return arrays[key][:, -1]


def plot(arrays: dict, config: Config, path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    rounds = arrays["rounds"]
    curves = {n: arrays[f"{n}/regret"] for n in config.algorithms}
    plotting.regret_curves(axes[0], rounds, curves, logy=True)
    plotting.reference(
        axes[0], rounds, config.dim * np.sqrt(rounds), label=r"$d\sqrt{t}$"
    )
    axes[0].set_ylim(bottom=1)
    axes[0].set_title(
        f"d = {config.dim}, {config.num_arms} actions, {config.num_seeds} seeds"
    )
    dims = np.array(sorted(set(config.dims) | {config.dim}))
    for i, name in enumerate(config.algorithms):
        finals = [_final(arrays, config, name, d) for d in dims]
        mean = np.array([f.mean() for f in finals])
        half = np.array([1.96 * f.std(ddof=1) / np.sqrt(len(f)) for f in finals])
        axes[1].errorbar(
            dims,
            mean,
            yerr=half,
            marker="o",
            capsize=3,
            label=name,
            color=plotting.COLORS[i],
        )
    T = config.num_rounds
    plotting.reference(axes[1], dims, dims * np.sqrt(T), label=r"$d\sqrt{T}$")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("dimension d")
    axes[1].set_ylabel(f"regret after T = {T} rounds")
    axes[1].set_title("final regret against d (mean, 95% CI)")
    axes[1].grid(True, which="major", alpha=0.3)
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
        known_algorithms=list(LINEAR_ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
