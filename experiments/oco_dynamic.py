"""Figure 5 (OCO): dynamic regret against the path length P_T for Ader and OGD.

Command (full, writes figures/oco_dynamic.png and its results):

    python -m experiments.oco_dynamic            # 100 seeds, T = 5,000
    python -m experiments.oco_dynamic --quick    # 20 seeds, T = 1,000

Expected: quadratic losses ``||x - c_t||^2 / 2`` whose centre moves on a circle of
radius 0.8 inside the unit ball in R^2 with total path length ``P_T`` (a batch of
instances, one compiled program per learner). Dynamic regret (against the per-round
minimisers ``c_t``) at T: OGD with ``D / (G sqrt t)`` steps is tuned for static regret
and lags a moving target (its dynamic regret grows roughly linearly in ``P_T``); Ader
(meta Hedge over a pool of OGD step sizes) follows the dashed
``sqrt(T (1 + P_T))`` shape (Zhang, Lu, Zhou 2018, Theorem 4); a fixed large OGD step
tracks well when the target moves fast and wastes regret when it does not.

Measured (full run, T = 5,000): Ader's dynamic regret goes from 3 (P_T = 0) to 160
(P_T = 1,000), on the dashed ``0.071 sqrt(T (1 + P_T))`` shape from P_T ~ 10 on;
OGD with ``D/(G sqrt t)`` goes from 0.3 to 1,600 (it saturates once it no longer
follows the target at all); the fixed step 0.5 is lowest up to P_T = 300 (a
well-tuned step for this drift speed) and 2x above Ader at P_T = 1,000.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.oco import ader, ogd
from envs import oco
from experiments import plotting
from experiments.common import drive, run_learners, script_main
from experiments.runner import mean_ci

NAME = "oco_dynamic"


@dataclasses.dataclass(frozen=True)
class Config:
    path_lengths: tuple[float, ...] = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
    num_rounds: int = 5_000  # horizon T
    num_seeds: int = 100  # seeds (the stream is deterministic; seeds check CRN)
    seed: int = 0  # PRNG seed


QUICK = Config(path_lengths=(0.0, 3.0, 30.0, 300.0), num_rounds=1_000, num_seeds=4)


def run_experiment(config: Config) -> dict:
    env = oco.drifting_quadratic(2, num_rounds=config.num_rounds)
    instances = oco.drift_params(np.asarray(config.path_lengths), config.num_rounds)
    domain = oco.Domain("ball", 2)
    learners = {
        # G = max ||x - c|| <= 1.8 on these instances.
        "ader": ader(domain, config.num_rounds, lipschitz=1.8),
        "ogd D|G sqrt t": ogd(domain, lipschitz=1.8),
        "ogd eta=0.5": ogd(domain, schedule="constant", step_size=0.5),
    }
    out = run_learners(
        learners,
        env,
        config.num_rounds,
        num_seeds=config.num_seeds,
        seed=config.seed,
        instances=instances,
        metrics=("dynamic_regret", "regret"),
    )
    out["arrays"]["path_lengths"] = np.asarray(config.path_lengths)
    return out


def plot(arrays: dict, config: Config, path) -> None:
    p = arrays["path_lengths"]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    names = [k.split("/")[0] for k in arrays if k.endswith("/dynamic_regret")]
    x = 1 + p
    for i, name in enumerate(names):
        final = arrays[f"{name}/dynamic_regret"][..., -1]
        mean, low, high = mean_ci(final, axis=-1)
        ax.errorbar(
            x,
            mean,
            yerr=[mean - low, high - mean],
            marker="o",
            ms=4,
            label=name,
            color=plotting.COLORS[i],
        )
    t = config.num_rounds
    ref = np.sqrt(t * x)
    ader_final = arrays["ader/dynamic_regret"][..., -1].mean(-1)
    scale = ader_final[-1] / ref[-1]
    plotting.reference(ax, x, scale * ref, label=f"{scale:.2g} sqrt(T (1 + P_T))")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("1 + path length P_T")
    ax.set_ylabel(f"dynamic regret at T = {t}")
    ax.set_title("drifting quadratic: dynamic regret vs path length")
    ax.grid(alpha=0.3)
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
