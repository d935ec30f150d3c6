"""Figure: DeepSea scaling, episodes until the learner reliably reaches the treasure
against the size N, with the 2^N line of dithering exploration (bsuite's analysis).

Command (full, writes figures/mdp_deepsea.png and its results):

    python -m experiments.mdp_deepsea            # N = 4..10, 50 seeds, K = 600
    python -m experiments.mdp_deepsea --quick    # N = 4, 6, 16 seeds, K = 200

A seed "solves" DeepSea at the first recorded episode ``k_j`` after which its mean
regret per episode over ``(k_{j-1}, k_j]`` is below 1/2 (it reaches the treasure more
often than not; regret is exact, from the true model); unsolved seeds count as K
(censored, drawn at the top of the panel). Result (50 seeds, K = 600): optimistic
UCBVI-CH solves in ~6 to ~90 episodes for N = 4 to 10, far below the ``2^N`` line; PSRL
and RLSVI with their default priors (Dirichlet(1) transitions, prior precision 1) grow
roughly like ``2^N`` here and reach the budget at N = 10 (priors not scaled for
deep exploration; tuning them is left open); epsilon-greedy Q-learning (epsilon = 0.1)
does not solve reliably within the budget even at N = 4: finding the treasure once is
not enough, its greedy policy must also propagate the value back N steps.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.tabular import TABULAR_ALGORITHMS
from envs.tabular_mdp import deep_sea
from experiments import plotting
from experiments.common import drive, script_main
from experiments.mdp_common import run_tabular

NAME = "mdp_deepsea"


@dataclasses.dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = (4, 6, 8, 10)  # DeepSea N (S = H = N)
    num_rounds: int = 600  # episode budget K per size
    num_seeds: int = 50  # seeds (each its own random action mapping)
    threshold: float = 0.5  # solved once the windowed regret per episode is below it
    algorithms: tuple[str, ...] = (
        "ucbvi_h",
        "psrl",
        "rlsvi",
        "eps_greedy_q",
    )  # which registered learners to run
    seed: int = 0  # PRNG seed


QUICK = Config(sizes=(4, 6), num_rounds=200, num_seeds=16)


def solve_episodes(rounds, regret, threshold, budget):
    """Per seed: the first recorded episode after which the windowed regret per
    episode is below ``threshold``; ``budget`` if never.

    ``regret``: ``[seeds, M]`` cumulative regret at ``rounds [M]``.
    """
    previous = np.concatenate([[0], rounds[:-1]])
    window = np.diff(
        np.concatenate([np.zeros((regret.shape[0], 1)), regret], 1), axis=1
    )
    per_episode = window / (rounds - previous)[None]
    below = per_episode < threshold
    first = np.where(below.any(1), rounds[np.argmax(below, axis=1)], budget)
    return first.astype(float)


def run_experiment(config: Config) -> dict:
    arrays, timings = {"sizes": np.asarray(config.sizes)}, {}
    for size in config.sizes:
        out = run_tabular(
            config.algorithms,
            deep_sea(size),
            num_states=size,
            num_actions=2,
            horizon=size,
            num_episodes=config.num_rounds,
            num_seeds=config.num_seeds,
            seed=config.seed,
            prefix=f"N{size}/",
        )
        rounds = out["arrays"][f"N{size}/rounds"]
        for name in config.algorithms:
            regret = out["arrays"][f"N{size}/{name}/regret"]
            arrays[f"N{size}/{name}/solve"] = solve_episodes(
                rounds, regret, config.threshold, config.num_rounds
            )
        timings.update(out["timings"])
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    sizes = np.asarray(arrays["sizes"])
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, name in enumerate(config.algorithms):
        samples = np.stack([arrays[f"N{n}/{name}/solve"] for n in sizes], axis=1)
        plotting.band(ax, sizes, samples, label=name, color=plotting.COLORS[i])
    n = np.linspace(sizes[0], sizes[-1], 50)
    plotting.reference(ax, n, 2.0**n, label="2^N (dithering)")
    ax.axhline(config.num_rounds, color="0.6", lw=0.8, ls=":")
    ax.text(
        sizes[0],
        config.num_rounds * 1.08,
        f"budget K = {config.num_rounds}",
        fontsize=8,
        color="0.4",
    )
    ax.set_yscale("log")
    ax.set_ylim(1, config.num_rounds * 3)
    ax.set_xlabel("DeepSea size N")
    ax.set_ylabel("episodes until solved (mean, 95% band)")
    ax.set_title(f"DeepSea scaling, {config.num_seeds} seeds per N")
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
        known_algorithms=list(TABULAR_ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
