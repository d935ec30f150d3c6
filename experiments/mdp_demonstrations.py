"""Figure: demonstration-regularised RL, suboptimality and sample complexity against
the number of expert demonstrations N^E (tabular, DeepSea).

Command (full, writes figures/mdp_demonstrations.png and its results):

    python -m experiments.mdp_demonstrations            # 32 seeds, K = 400
    python -m experiments.mdp_demonstrations --quick    # 8 seeds, K = 100, 4 N^E

One fixed DeepSea instance (N = 10, bsuite's randomised action mapping drawn once). The
env reveals the first N^E of N_max trajectories of the optimal policy (the same
trajectories for every entry of the grid on a seed); the grid over N^E is one compiled
program (``instances``). The learner (``demo_regularized_ucbvi``) clones the expert
with add-one smoothing and plays the optimistic KL-regularised policy towards the clone,
with the theorem's scaling ``lambda = lam * N^E`` (``lam_per_demonstration``). Left:
the exact suboptimality ``V*(s_1) - V^{pi_k}(s_1)`` of the policy played in episode k,
for each N^E (the behaviour-cloning policy alone dotted). Right: the suboptimality
after the whole budget K against N^E (log-log), with the fixed-budget form of the
theorem's rate: ``K ~ Poly(S, A, H) / (epsilon^2 N^E)`` episodes for epsilon
(Tiapkin et al. 2024) is ``epsilon ~ (K N^E)^(-1/2)`` after K episodes.

Result (32 seeds, K = 400): every curve starts at BC's suboptimality (0.99 with no
demonstrations, 0.26 with 32, 0.14 with 64) and improves on it; up to ~200 episodes
more demonstrations give a lower suboptimality at every budget, falling with N^E about
like 1/sqrt(N^E) at k = 30 and 100. With lambda = 0.01 N^E the pull towards the clone
slows the improvement beyond it: at K = 400 the no-demonstration learner (which solves
DeepSea at ~200-300 episodes) ends lower (0.04) than the regularised ones (0.12-0.29).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from algorithms.tabular.demonstrations import (
    behavior_cloning_learner,
    demo_regularized_ucbvi,
)
from envs.demonstrations import DemonstrationParams, with_demonstrations
from envs.tabular_mdp import deep_sea
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "mdp_demonstrations"


@dataclasses.dataclass(frozen=True)
class Config:
    num_rounds: int = 400  # online episodes K
    num_seeds: int = 32  # seeds per N^E (common random numbers across N^E)
    size: int = 10  # DeepSea N (S = H = N, A = 2)
    demonstrations: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32, 64)  # N^E grid
    lam: float = 0.01  # lambda (times max(N^E, 1) with lam_per_demonstration)
    lam_per_demonstration: bool = True  # the theorem's scaling lambda ~ eps N^E
    budgets: tuple[int, ...] = (30, 100, 400)  # k of the right panel (<= K)
    bonus_scale: float = 5e-4  # UCBVI-CH bonus scale (the tabular registry's)
    max_return: float = 1.0  # known return bound: Q clipped at min(H - h, 1)
    instance_seed: int = 1  # key of the DeepSea action mapping
    seed: int = 0  # PRNG seed of the runs


QUICK = Config(
    num_rounds=100, num_seeds=8, demonstrations=(0, 2, 8, 32), budgets=(10, 30, 100)
)


def run_experiment(config: Config) -> dict:
    size = config.size
    base = deep_sea(size)
    mdp = base.sample_params(jax.random.key(config.instance_seed))
    counts = np.asarray(config.demonstrations, np.int32)
    env = with_demonstrations(base.with_params(mdp), int(max(counts.max(), 1)))
    instances = DemonstrationParams(
        jax.tree.map(lambda x: jnp.broadcast_to(x, (len(counts), *x.shape)), mdp),
        jnp.asarray(counts),
    )
    learners = {
        "demo_ucbvi": demo_regularized_ucbvi(
            size,
            2,
            size,
            config.num_rounds,
            lam=config.lam,
            bonus_scale=config.bonus_scale,
            lam_per_demonstration=config.lam_per_demonstration,
            max_return=config.max_return,
        ),
        "behavior_cloning": behavior_cloning_learner(size, 2, size),
    }
    record = np.unique(np.geomspace(1, config.num_rounds, 50).astype(int))
    out = run_learners(
        learners,
        env,
        config.num_rounds,
        num_seeds=config.num_seeds,
        seed=config.seed,
        instances=instances,
        record=record,
        metrics=("gap",),
    )
    out["arrays"]["demonstrations"] = counts
    return out


def plot(arrays: dict, config: Config, path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    rounds = arrays["rounds"]
    counts = arrays["demonstrations"]
    gap = arrays["demo_ucbvi/gap"]  # [I, seeds, M]
    bc = arrays["behavior_cloning/gap"]
    ax = axes[0]
    for i, n in enumerate(counts):
        color = plotting.COLORS[i % len(plotting.COLORS)]
        plotting.band(ax, rounds, gap[i], label=f"N^E = {n}", color=color)
        ax.axhline(bc[i, :, -1].mean(), color=color, ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("episode k")
    ax.set_ylabel("suboptimality of the played policy, V*(s1) - V^pi_k(s1)")
    ax.set_title(
        f"DeepSea N = {config.size}: demo-regularised UCBVI (dotted: BC alone), "
        f"{config.num_seeds} seeds",
        fontsize=9,
    )
    ax.grid(True, alpha=0.3)
    ax = axes[1]
    positive = counts > 0
    x = counts[positive].astype(float)
    for j, budget in enumerate(config.budgets):
        col = min(np.searchsorted(rounds, budget), len(rounds) - 1)
        color = plotting.COLORS[j % len(plotting.COLORS)]
        plotting.band(
            ax,
            x,
            gap[positive, :, col].T,
            label=f"demo-regularised UCBVI, k = {rounds[col]}",
            marker="o",
            color=color,
        )
        if (~positive).any():
            ax.axhline(
                gap[~positive, :, col].mean(),
                color=color,
                ls="-.",
                lw=1,
                label=f"N^E = 0, k = {rounds[col]}",
            )
    plotting.band(
        ax,
        x,
        bc[positive, :, -1].T,
        label="behaviour cloning alone",
        marker="s",
        color="0.4",
    )
    first = min(np.searchsorted(rounds, config.budgets[0]), len(rounds) - 1)
    anchor = gap[positive, :, first].mean(1)[0] * np.sqrt(x[0])
    plotting.reference(
        ax, x, anchor / np.sqrt(x), label="∝ 1 / sqrt(N^E) (theorem, fixed budget)"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of demonstrations N^E")
    ax.set_ylabel("suboptimality of the policy played in episode k")
    ax.set_title("suboptimality at a fixed budget against N^E", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
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
