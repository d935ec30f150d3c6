"""Figure: preference feedback in linear MDPs: regret against the number of queries of
randomized LSVI with the active query rule, for several query thresholds epsilon.

Command (full, writes figures/linmdp_preference.png and its results):

    python -m experiments.linmdp_preference            # K = 1,000 episodes, 32 seeds
    python -m experiments.linmdp_preference --quick    # K = 150, 8 seeds, 3 thresholds

Each seed draws a random linear MDP (S = 6, A = 4, d = 4, H = 5, features
``Dirichlet(0.3)``, stationary reward ``phi . theta*``); each episode the learner plays
two randomised greedy policies and the Bradley-Terry comparison of the two trajectories
is revealed only when ``||phi(tau^1) - phi(tau^0)||_{Sigma^{-1}} > epsilon``. All
thresholds run as ONE compiled program (``experiments.runner.sweep`` over
``threshold``). (a) exact cumulative regret (both policies' gaps) against episodes;
(b) cumulative number of queries against episodes (epsilon = 0 queries almost every
episode); (c) the trade-off: final regret against final number of queries, one point
per epsilon.

Expected: regret grows sublinearly; the number of queries levels off (the covariance
of the queried differences grows, so fewer realised differences are uncertain), far
below K for epsilon >= 0.2, at the price of more regret for large epsilon (the
trade-off of Wu and Sun 2023). Seen in the committed figure (K = 1,000, 32 seeds):
final regret 233, 246, 371, 486, 919 with 995, 251, 77, 16, 6 queries for
epsilon = 0, 0.1, 0.2, 0.5, 1; per-episode regret over the last 450 episodes 0.13,
0.17, 0.27, 0.39, 0.86 (about 1.6 at the start): epsilon = 0.1 keeps the regret of
querying every episode with a quarter of the queries; epsilon = 1 (6 queries) barely
learns the reward.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.linear_mdp.preference import preference_lsvi
from envs.preference_mdp import random_preference_mdp
from experiments import plotting
from experiments.common import drive, script_main
from experiments.linmdp_common import timed_sweep
from experiments.runner import mean_ci

NAME = "linmdp_preference"


@dataclasses.dataclass(frozen=True)
class Config:
    num_states: int = 6  # S
    num_actions: int = 4  # A
    dim: int = 4  # d
    horizon: int = 5  # H
    concentration: float = 0.3  # Dirichlet concentration of the features
    thresholds: tuple[float, ...] = (0.0, 0.1, 0.2, 0.5, 1.0)  # query thresholds
    nu: float = 0.5  # reward-model perturbation scale
    sigma: float = 0.3  # transition perturbation scale
    num_rounds: int = 1_000  # episodes K
    num_seeds: int = 32  # seeds (each its own instance)
    seed: int = 0  # PRNG seed


QUICK = Config(thresholds=(0.0, 0.2, 1.0), num_rounds=150, num_seeds=8)


def run_experiment(config: Config) -> dict:
    env = random_preference_mdp(
        config.num_states,
        config.num_actions,
        config.dim,
        config.horizon,
        concentration=config.concentration,
    )
    result, timing = timed_sweep(
        preference_lsvi,
        env,
        config.num_rounds,
        grid={"threshold": np.asarray(config.thresholds, np.float32)},
        static={
            "num_states": config.num_states,
            "num_actions": config.num_actions,
            "dim": config.dim,
            "horizon": config.horizon,
            "nu": config.nu,
            "sigma": config.sigma,
            "max_queries": config.num_rounds,
        },
        num_seeds=config.num_seeds,
        seed=config.seed,
        record="log",
    )
    arrays = {
        "rounds": result.rounds,
        "regret": np.asarray(result.regret),  # [G, seeds, M]
        "queries": np.asarray(result.metrics["queries"]),
    }
    return {"arrays": arrays, "timings": {"sweep": timing}}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"].astype(float)
    fig, axes = plt.subplots(1, 3, figsize=(18, 5))
    final_regret, final_queries = [], []
    for i, eps in enumerate(config.thresholds):
        color = plotting.COLORS[i]
        label = f"epsilon = {eps:g}"
        plotting.band(axes[0], rounds, arrays["regret"][i], label=label, color=color)
        plotting.band(axes[1], rounds, arrays["queries"][i], label=label, color=color)
        final_regret.append(mean_ci(arrays["regret"][i][:, -1]))
        final_queries.append(mean_ci(arrays["queries"][i][:, -1]))
    k = rounds[rounds >= 10]
    anchor = arrays["regret"][0][:, -1].mean() / np.sqrt(rounds[-1])
    plotting.reference(axes[0], k, anchor * np.sqrt(k), label="∝ sqrt(K)")
    axes[0].set(xscale="log", yscale="log", xlabel="episodes K")
    axes[0].set(ylabel="cumulative regret (both policies)")
    axes[0].set_title(
        f"(a) random linear MDPs S={config.num_states}, A={config.num_actions}, "
        f"d={config.dim}, H={config.horizon}, {config.num_seeds} seeds"
    )
    plotting.reference(axes[1], k, k, label="one query per episode")
    axes[1].set(xscale="log", yscale="log", xlabel="episodes K")
    axes[1].set(ylabel="cumulative number of queries")
    axes[1].set_title("(b) queries: asked only when ||delta||_{Sigma^-1} > epsilon")
    for i, eps in enumerate(config.thresholds):
        (r_mean, r_low, _), (q_mean, q_low, _) = final_regret[i], final_queries[i]
        axes[2].errorbar(
            q_mean,
            r_mean,
            xerr=q_mean - q_low,
            yerr=r_mean - r_low,
            fmt="o",
            color=plotting.COLORS[i],
            label=f"epsilon = {eps:g}",
        )
    axes[2].set(xscale="log", xlabel=f"number of queries after K = {config.num_rounds}")
    axes[2].set(ylabel=f"regret after K = {config.num_rounds}")
    axes[2].set_title("(c) regret against the number of queries (95% CI)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
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
