"""Figure 3 (OCO): prediction with expert advice, adversarial and stochastic losses.

Command (full, writes figures/oco_experts.png and its results):

    python -m experiments.oco_experts            # 200 seeds, T = 10^4, N = 10
    python -m experiments.oco_experts --quick    # 30 seeds, T = 1,000

Expected: on the adversarial sequence (losses ``(0, 1/9, .., 1)`` and its reverse in
phases of growing length, so the leader keeps changing; linear y axis: the regret
turns negative at phase ends; symlog y axis) Hedge (anytime rate), Hedge
with the doubling trick, AdaHedge, optimistic Hedge and KT experts all stay below the
dashed ``sqrt(T ln N)`` line; on stochastic Bernoulli losses with a 0.1 gap AdaHedge
(which becomes follow-the-leader when the mixability gap stays small) and KT experts
have bounded regret while the worst-case-tuned Hedge keeps growing like ``sqrt(T)``.

Measured (full run): adversarial, KT experts' regret is about -4,600 at T = 10^4: it
tracks the leader of each long phase (coin betting's wealth on the new leader grows
exponentially within a phase), beating the best fixed expert, which pays 1 on half
the rounds; the Hedge variants end between -4 (optimistic) and +25. Stochastic:
anytime Hedge and AdaHedge coincide and plateau near 12 (a decreasing rate adapts
to a gap),
optimistic Hedge plateaus near 40, KT experts grows slowly (~55 at 10^4) and Hedge
with the doubling trick, restarting from scratch at every epoch, follows
``sqrt(T ln N)``.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.oco import ALGORITHMS
from envs import oco
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "oco_experts"
ALGOS = ("hedge", "hedge_doubling", "adahedge", "optimistic_hedge", "kt_experts")


@dataclasses.dataclass(frozen=True)
class Config:
    num_experts: int = 10  # N
    gap: float = 0.1  # stochastic: best expert's advantage
    num_rounds: int = 10_000  # horizon T
    num_seeds: int = 200  # independent runs (stochastic losses)
    algorithms: tuple[str, ...] = ALGOS  # which algorithms to run
    seed: int = 0  # PRNG seed


QUICK = Config(num_rounds=1_000, num_seeds=30)


def run_experiment(config: Config) -> dict:
    domain = oco.Domain("simplex", config.num_experts)
    arrays, timings = {}, {}
    for regime in ("adversarial", "stochastic"):
        env = oco.experts(
            config.num_experts, adversarial=regime == "adversarial", gap=config.gap
        )
        learners = {
            n: ALGORITHMS[n](domain, config.num_rounds) for n in config.algorithms
        }
        out = run_learners(
            learners,
            env,
            config.num_rounds,
            num_seeds=1 if regime == "adversarial" else config.num_seeds,
            seed=config.seed,
        )
        for k, v in out["arrays"].items():
            arrays[k if k == "rounds" else f"{regime}/{k}"] = v
        timings[regime] = out["timings"]
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    t = rounds[rounds >= 10]
    for ax, regime in zip(axes, ("adversarial", "stochastic"), strict=True):
        curves = {
            k.split("/")[1]: v if regime == "adversarial" else np.maximum(v, 1e-3)
            for k, v in arrays.items()
            if k.startswith(regime + "/") and k.endswith("/regret")
        }
        adversarial = regime == "adversarial"
        plotting.regret_curves(ax, rounds, curves, logy=not adversarial)
        plotting.reference(
            ax, t, np.sqrt(t * np.log(config.num_experts)), label="sqrt(T ln N)"
        )
        seeds = (
            "deterministic" if regime == "adversarial" else f"{config.num_seeds} seeds"
        )
        ax.set_title(f"{regime} experts, N = {config.num_experts} ({seeds})")
        if adversarial:
            ax.set_yscale("symlog", linthresh=10)
        else:
            ax.set_ylim(bottom=0.1)
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
        known_algorithms=list(ALGOS),
    )


if __name__ == "__main__":
    script_main(main)
