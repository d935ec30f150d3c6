"""Figure (OCO): sleeping experts, regret on the rounds each expert is awake.

Command (full, writes figures/oco_sleeping.png and its results):

    python -m experiments.oco_sleeping            # 200 seeds, T = 10^4, N = 8
    python -m experiments.oco_sleeping --quick    # 30 seeds, T = 1,000

Setting (``envs.oco_sleeping``): N = 8 experts, expert ``i`` awake with probability
``0.9 - 0.6 i / 7``; stochastic Bernoulli losses with mean 0.4 for expert 0 (the
most often awake) and 0.5 for the others; and the deterministic adversarial phased
sequence with the same awake process. Plotted: the sleeping regret to the best expert,
``max_i sum_{t: i awake} (<p_t, l_t> - l_{t,i})`` (left, middle), and to expert 0
(right, stochastic), against ``t``, for sleeping Hedge
(:func:`algorithms.oco.sleeping.sleeping_hedge`, ``eta = sqrt(8 ln N / T)``) and the
naive baseline that runs Hedge on each expert's cumulative loss restricted to the
awake set (:func:`algorithms.oco.sleeping.awake_hedge`, same rate). Dashed: the bound
``ln N / eta + eta t / 8`` (``= sqrt(T ln N / 2)`` at ``t = T``) that sleeping Hedge
satisfies for every expert on every run.

Expected: sleeping Hedge stays under the dashed bound in both regimes; the naive
baseline, which prefers the experts that are rarely awake (they accumulate less loss),
has linear regret to expert 0 in the stochastic regime.

Measured (full run, 200 seeds, T = 10^4, mean): stochastic, sleeping Hedge's regret
to the best expert (expert 0) plateaus at 54 (the bound at T is 102), the naive
baseline reaches 865 and grows linearly; adversarial (phased losses: the leader
switches each phase), sleeping Hedge stays between 0 and 54, under the bound at every
t, while the naive baseline swings between -2 and 1,105 as the phases switch.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.oco.sleeping import awake_hedge, sleeping_hedge
from envs import oco_sleeping
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "oco_sleeping"


@dataclasses.dataclass(frozen=True)
class Config:
    num_experts: int = 8  # N
    num_rounds: int = 10_000  # horizon T (also tunes eta = sqrt(8 ln N / T))
    num_seeds: int = 200  # independent runs (awake sets and losses)
    seed: int = 0  # PRNG seed


QUICK = Config(num_rounds=1_000, num_seeds=30)


def run_experiment(config: Config) -> dict:
    n, horizon = config.num_experts, config.num_rounds
    eta = float(np.sqrt(8 * np.log(n) / horizon))
    arrays, timings = {}, {}
    for regime in ("stochastic", "adversarial"):
        env = oco_sleeping.sleeping_experts(n, adversarial=regime == "adversarial")
        learners = {
            "sleeping_hedge": sleeping_hedge(n, step_size=eta),
            "awake_hedge (naive)": awake_hedge(n, step_size=eta),
        }
        out = run_learners(
            learners,
            env,
            horizon,
            num_seeds=config.num_seeds,
            seed=config.seed,
            metrics=("regret", "first_expert"),
            prefix=f"{regime}/",
        )
        arrays.update(out["arrays"])
        timings.update(out["timings"])
    arrays["rounds"] = arrays.pop("stochastic/rounds")
    arrays.pop("adversarial/rounds")
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    t = rounds[rounds >= 10]
    log_n = np.log(config.num_experts)
    eta = np.sqrt(8 * log_n / config.num_rounds)
    bound = log_n / eta + eta * t / 8  # = sqrt(T ln N / 2) at t = T
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    panels = (
        ("stochastic", "regret", "stochastic: regret to the best expert"),
        ("adversarial", "regret", "adversarial: regret to the best expert"),
        ("stochastic", "first_expert", "stochastic: regret to expert 0"),
    )
    for ax, (regime, metric, title) in zip(axes, panels, strict=True):
        curves = {
            k.split("/")[1]: v
            for k, v in arrays.items()
            if k.startswith(regime + "/") and k.endswith("/" + metric)
        }
        plotting.regret_curves(ax, rounds, curves, title=title)
        plotting.reference(ax, t, bound, label="ln N / eta + eta t / 8 (bound)")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylabel("sleeping regret")
    fig.suptitle(
        f"sleeping experts, N = {config.num_experts}, {config.num_seeds} seeds "
        "(mean, 95% band)"
    )
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
