"""Figure: tabular reward-free exploration (RF-UCRL), suboptimality of the planned
policies against exploration episodes, and episodes needed for epsilon, for several H.

Command (full, writes figures/mdp_reward_free.png and its results):

    python -m experiments.mdp_reward_free            # H = 3, 6, 12; 64 seeds; K = 3,000
    python -m experiments.mdp_reward_free --quick    # H = 3, 6; 16 seeds; K = 300

Each seed draws a GARNET(S = 5, A = 2, b = 2) MDP and 8 reward functions
``r ~ U[0, 1]^{H x S x A}``; after each exploration episode RF-UCRL plans on its
empirical model for every reward, and the env records (a snapshot, not a sum) the mean
over rewards of ``V*_r(s_1) - V^{pi_r}_r(s_1)``, exactly. Left: that gap against
episodes (the ``K^{-1/2}`` reference is the rate of ``epsilon ~ sqrt(SAH^4/K)``).
Right: the first recorded episode at which the mean gap over seeds is at most
``epsilon`` (relative to H, since values scale with H), against epsilon, with the
``epsilon^{-2}`` reference. Expected: the gap decays at least like ``K^{-1/2}`` (the
worst-case rate; on these GARNET instances, which have positive action gaps, it decays
close to ``1/K``) and the needed episodes grow with H (the tabular baseline is not
horizon-free).
"""

from __future__ import annotations

import dataclasses

import jax
import matplotlib.pyplot as plt
import numpy as np

from algorithms.tabular import rf_ucrl
from envs.reward_free import reward_free
from envs.tabular_mdp import garnet
from experiments import plotting
from experiments.common import drive, episodes_to_accuracy, run_timing, script_main
from experiments.runner import run

NAME = "mdp_reward_free"


@dataclasses.dataclass(frozen=True)
class Config:
    horizons: tuple[int, ...] = (3, 6, 12)  # H values
    num_states: int = 5  # GARNET S
    num_actions: int = 2  # GARNET A
    branching: int = 2  # GARNET b (next states per (s, a))
    num_rewards: int = 8  # random reward functions per instance
    num_rounds: int = 3_000  # exploration episodes K
    num_seeds: int = 64  # seeds (each its own MDP and rewards)
    bonus_scale: float = 0.05  # RF-UCRL confidence-width scale (1 = the paper's)
    seed: int = 0  # PRNG seed


QUICK = Config(horizons=(3, 6), num_rounds=300, num_seeds=16)


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    for horizon in config.horizons:
        env = reward_free(
            garnet(config.num_states, config.num_actions, config.branching, horizon),
            config.num_rewards,
        )
        learner = rf_ucrl(
            config.num_states,
            config.num_actions,
            horizon,
            bonus_scale=config.bonus_scale,
        )
        result = run(
            learner,
            env,
            config.num_rounds,
            key=jax.random.key(config.seed),
            num_seeds=config.num_seeds,
        )
        arrays[f"H{horizon}/gap"] = result.metrics["gap"]
        arrays["rounds"] = result.rounds
        timings[f"H{horizon}"] = run_timing(result)
    return {"arrays": arrays, "timings": timings}


def episodes_to_reach(rounds, mean_gap, epsilons):
    """For each epsilon: the first recorded episode with ``mean_gap <= epsilon``
    (``nan`` where never reached, so the plots leave it out)."""
    need = episodes_to_accuracy(mean_gap, epsilons, rounds, rule="first")
    return np.where(np.isinf(need), np.nan, need)


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    epsilons = np.geomspace(1e-4, 1e-2, 11)
    for i, horizon in enumerate(config.horizons):
        gap = arrays[f"H{horizon}/gap"]
        color = plotting.COLORS[i]
        plotting.band(
            axes[0], rounds, gap / horizon, label=f"H = {horizon}", color=color
        )
        need = episodes_to_reach(rounds, gap.mean(0) / horizon, epsilons)
        axes[1].plot(epsilons, need, "o-", color=color, label=f"H = {horizon}")
    k = rounds[rounds >= 10].astype(float)
    first = arrays[f"H{config.horizons[0]}/gap"].mean(0) / config.horizons[0]
    anchor = first[-1] * np.sqrt(rounds[-1])
    plotting.reference(axes[0], k, anchor / np.sqrt(k), label="∝ K^(-1/2)")
    axes[0].set(
        xscale="log",
        yscale="log",
        xlabel="exploration episodes K",
        ylabel="mean suboptimality / H of the planned policies",
    )
    axes[0].set_title(
        f"RF-UCRL on GARNET(S={config.num_states}, A="
        f"{config.num_actions}), {config.num_seeds} seeds"
    )
    axes[0].grid(True, alpha=0.3)
    valid = [
        episodes_to_reach(rounds, arrays[f"H{h}/gap"].mean(0) / h, epsilons)
        for h in config.horizons
    ]
    finite = np.concatenate([v[np.isfinite(v)] for v in valid])
    if finite.size:
        e_ref = epsilons
        scale = np.nanmin(finite) * epsilons[-1] ** 2
        plotting.reference(axes[1], e_ref, scale / e_ref**2, label="∝ epsilon^-2")
    axes[1].set(
        xscale="log",
        yscale="log",
        xlabel="epsilon (relative to H)",
        ylabel="episodes until mean gap <= epsilon H",
    )
    axes[1].set_title("sample complexity (censored at K: missing points)")
    axes[1].grid(True, alpha=0.3)
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
