"""Figure 2 (OCO): regret rates for convex, strongly convex and exp-concave losses.

Command (full, writes figures/oco_rates.png and its results):

    python -m experiments.oco_rates            # 200 seeds, T = 10^4
    python -m experiments.oco_rates --quick    # 30 seeds, T = 1,000

Expected (log-log, mean and 95% band over seeds, dashed: the proved rate through the
last point of the best learner):
* convex: i.i.d. zero-mean Gaussian linear losses on the unit ball in R^2, where every
  learner's regret is ``E ||G_T|| ~ sqrt(T)`` (the lower-bound instance): OGD with
  ``D/(G sqrt t)``, AdaGrad and optimistic FTRL all follow ``sqrt(T)``;
* strongly convex: ``f_t(x) = ||x - c_t||^2 / 2`` with ``c_t ~ N((0.3, 0.3), 0.25 I)``:
  OGD with ``1/(lambda t)`` grows like ``log T`` (Hazan, Theorem 3.3), OGD with
  ``D/(G sqrt t)`` faster;
* exp-concave: squared loss of online linear regression in R^3 on a ball of radius 2:
  ONS (gamma = 1/2, epsilon = 1) grows like ``d log T`` (Hazan, Theorem 4.5). The
  expected loss is strongly convex here (features ~ N(0, I/3)), so OGD's regret is
  also logarithmic, with a larger constant.
Legend: ``ogd D|G sqrt t`` is the step ``D / (G sqrt t)``; ``ogd 1|lambda t`` the
step ``1 / (lambda t)``.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.oco import adagrad, ogd, ons, optimistic_ftrl
from envs import oco
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "oco_rates"


@dataclasses.dataclass(frozen=True)
class Config:
    num_rounds: int = 10_000  # horizon T
    num_seeds: int = 200  # independent runs per learner
    seed: int = 0  # PRNG seed


QUICK = Config(num_rounds=1_000, num_seeds=30)


def _panels():
    ball2 = oco.Domain("ball", 2)
    ball3 = oco.Domain("ball", 3, 2.0)
    return {
        "convex": (
            oco.sea_model(2, sigma=1.0, adversarial=0.0, mean=[0.0, 0.0]),
            {
                "ogd D|G sqrt t": ogd(ball2, lipschitz=1.0),
                "adagrad": adagrad(ball2, step_size=1.0),
                "optimistic_ftrl": optimistic_ftrl(ball2),
            },
        ),
        "strongly_convex": (
            oco.iid_quadratic(2, curvature=1.0, noise=0.5),
            {
                "ogd 1|lambda t": ogd(ball2, schedule="strongly_convex"),
                "ogd D|G sqrt t": ogd(ball2, lipschitz=2.0),
            },
        ),
        "exp_concave": (
            oco.online_regression(3, noise=0.3, radius=2.0),
            {
                # Hazan's worst-case gamma = 1/2 min(1/(4GD), alpha) is ~1/100 here
                # (G ~ 3, D = 4) and its transient lasts past T = 10^4; gamma = 1/2,
                # epsilon = 1 (the squared loss is 1-exp-concave where |residual| <= 1).
                "ons": ons(ball3, gamma=0.5, epsilon=1.0),
                "ogd D|G sqrt t": ogd(ball3, lipschitz=3.0),
            },
        ),
    }


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    for panel, (env, learners) in _panels().items():
        out = run_learners(
            learners,
            env,
            config.num_rounds,
            num_seeds=config.num_seeds,
            seed=config.seed,
        )
        for k, v in out["arrays"].items():
            arrays[k if k == "rounds" else f"{panel}/{k}"] = v
        timings[panel] = out["timings"]
    return {"arrays": arrays, "timings": timings}


REFERENCE = {
    "convex": ("sqrt(T)", np.sqrt),
    "strongly_convex": ("log T", lambda t: np.log(t)),
    "exp_concave": ("d log T", lambda t: 3 * np.log(t)),
}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for ax, panel in zip(axes, REFERENCE, strict=True):
        curves = {
            k.split("/")[1]: v
            for k, v in arrays.items()
            if k.startswith(panel + "/") and k.endswith("/regret")
        }
        plotting.regret_curves(ax, rounds, curves, logy=True, title=panel)
        label, fn = REFERENCE[panel]
        first = next(iter(curves.values())).mean(0)
        t = rounds[rounds >= 10]
        scale = first[-1] / fn(rounds[-1])
        plotting.reference(ax, t, scale * fn(t), label=f"{scale:.2g} {label}")
        ax.set_ylim(bottom=max(1e-2, np.min(first[rounds >= 10]) / 3))
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
