"""Figure 4 (OCO): parameter-free learning. Regret against the comparator norm |u| for
KT coin betting and OGD with several step sizes, 1-D online linear optimisation.

Command (full, writes figures/oco_parameter_free.png and its results):

    python -m experiments.oco_parameter_free            # 200 seeds, T = 10^4
    python -m experiments.oco_parameter_free --quick    # 40 seeds, T = 1,000

Expected: absolute losses ``|x - z_t|`` with ``z_t = u +- 1`` (probability 1/2 each),
no constraint, regret against the best point in hindsight (about ``u``); each ``u`` is
an instance of one batch. Starting at 0, OGD with a constant step ``eta`` has regret
about ``u^2 / (2 eta) + eta T / 2`` (Orabona 2019, Section 4.2): each step size is good
for one range of ``|u|`` only. KT coin betting (no step size) stays within the dashed
``|u| sqrt(T ln(1 + |u| T))`` for every ``u`` (Orabona and Pál 2016), so its curve
follows the lower envelope of the OGD curves up to the log factor.

Measured (full run, T = 10^4): KT's regret is on the dashed line from |u| = 2 to 1,000
(about 80 at |u| <= 1, the noise floor shared by every learner); each OGD step is
better than KT on about one decade of |u| (eta = 1 on 10-200, where ``u^2/2 + T/2``
is small) and worse by up to 20x elsewhere.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.oco import kt_coin_betting, ogd
from envs import oco
from experiments import plotting
from experiments.common import drive, run_learners, script_main
from experiments.runner import mean_ci

NAME = "oco_parameter_free"


@dataclasses.dataclass(frozen=True)
class Config:
    comparators: tuple[float, ...] = tuple(np.round(np.geomspace(0.1, 1000, 13), 4))
    step_sizes: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)  # OGD's constant steps
    num_rounds: int = 10_000  # horizon T
    num_seeds: int = 200  # independent runs
    seed: int = 0  # PRNG seed


QUICK = Config(num_rounds=1_000, num_seeds=40)


def run_experiment(config: Config) -> dict:
    env = oco.absolute_loss_1d(radius=1e9)
    instances = oco.absolute_loss_params(config.comparators)
    domain = oco.Domain("box", 1, 1e9)
    learners = {"kt": kt_coin_betting(1)}
    for eta in config.step_sizes:
        learners[f"ogd eta={eta:g}"] = ogd(domain, schedule="constant", step_size=eta)
    out = run_learners(
        learners,
        env,
        config.num_rounds,
        num_seeds=config.num_seeds,
        seed=config.seed,
        instances=instances,
        metrics=("regret",),
    )
    out["arrays"]["comparators"] = np.asarray(config.comparators)
    return out


def plot(arrays: dict, config: Config, path) -> None:
    u = arrays["comparators"]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    names = [k.split("/")[0] for k in arrays if k.endswith("/regret")]
    for i, name in enumerate(names):
        final = arrays[f"{name}/regret"][..., -1]  # [U, seeds]
        mean, low, high = mean_ci(final, axis=-1)
        style = dict(lw=2.5) if name == "kt" else dict(lw=1.2)
        ax.plot(
            u,
            np.maximum(mean, 1e-1),
            marker="o",
            ms=3,
            label=name,
            color=plotting.COLORS[i],
            **style,
        )
        ax.fill_between(
            u,
            np.maximum(low, 1e-1),
            np.maximum(high, 1e-1),
            color=plotting.COLORS[i],
            alpha=0.2,
            lw=0,
        )
    t = config.num_rounds
    plotting.reference(
        ax, u, u * np.sqrt(t * np.log(1 + u * t)), label="|u| sqrt(T ln(1 + |u| T))"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("comparator |u|")
    ax.set_ylabel(f"regret at T = {t} (floored at 0.1)")
    ax.set_title("parameter-free KT vs OGD with fixed steps")
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
