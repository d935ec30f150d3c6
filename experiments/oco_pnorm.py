"""Figure (OCO): p-norm mirror descent against OGD as the dimension grows.

Command (full, writes figures/oco_pnorm.png and its results):

    python -m experiments.oco_pnorm            # d = 10 .. 1000, 100 seeds, T = 2,000
    python -m experiments.oco_pnorm --quick    # d = 10, 100; 20 seeds, T = 500

Setting: linear losses ``f_t(x) = <g_t, x>`` on the unit Euclidean ball of ``R^d``,
``g_t = 0.3 e_1 + xi_t`` with independent ``+-1`` coordinates ``xi_t``
(``envs.oco.sea_model`` with ``noise='rademacher'``, ``sigma = sqrt(d)``, no
adversarial part): dense gradients (``||g||_inf <= 1.3``, ``||g||_2 ~ sqrt(d)``) and a
sparse good comparator ``u = -e_1``. Learners, both
tuned by their bound for ``||u|| = 1`` and the horizon: OGD with the constant step
``1 / (G_2 sqrt T)``, ``G_2^2 = E||g||_2^2 = d + 0.09``, and p-norm OMD
(:func:`algorithms.oco.pnorm.pnorm_omd`, ``p = 2 ln d``, on the ``q``-norm unit ball)
with ``1 / (G_p sqrt((p - 1) T))``, ``G_p^2 = E||g||_p^2`` (Monte Carlo).

Left: regret at T against ``u = -e_1`` (``OCOComparatorInfo.comparator_regret``)
against ``d``, with dashed ``sqrt(d)`` and ``ln d`` shapes through the first point:
the bounds are ``||u||_2 G_2 sqrt T ~ sqrt(d T)`` for OGD and ``||u||_q G_p sqrt((p
- 1) T) ~ ln d sqrt T`` for p-norm OMD. Right: regret at T against the best point of
the whole Euclidean ball (``-G_T / ||G_T||``, a dense point that the ``q``-ball of the
p-norm learner does not contain): there OGD is the right geometry.

Expected: against the sparse comparator p-norm OMD's regret grows like ``ln d`` and
OGD's much faster; against the best point of the Euclidean ball both grow like
``sqrt(d)`` (that regret is dominated by ``||G_T||_2 ~ sqrt(d T)``).

Measured (full run, mean of 100 seeds, d = 10, 30, 100, 300, 1000): regret to
``u = -e_1``: p-norm OMD 80, 97, 113, 127, 140 (on the ``ln d`` shape); OGD 104,
170, 278, 385, 475 (below its ``sqrt(d)`` bound shape, about ``d^{1/3}`` over this
range: 3.4 times p-norm OMD's at d = 1000). Regret to the best point of the ball:
OGD 119 to 1,410, p-norm OMD 95 to 1,075, both on the ``sqrt(d)`` shape at large d;
p-norm OMD is lower here too, although its ``q``-ball does not contain that point:
the regret is the same ``||G_T||_2`` minus each learner's own (lower for p-norm)
cumulative loss.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.oco import ogd, pnorm_omd
from algorithms.oco.pnorm import default_p
from envs import oco
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "oco_pnorm"
MEAN = 0.3  # the bias of the first gradient coordinate


@dataclasses.dataclass(frozen=True)
class Config:
    dims: tuple[int, ...] = (10, 30, 100, 300, 1000)  # dimensions d
    num_rounds: int = 2_000  # horizon T (also tunes the step sizes)
    num_seeds: int = 100  # independent runs per (d, learner)
    seed: int = 0  # PRNG seed


QUICK = Config(dims=(10, 100), num_rounds=500, num_seeds=20)


def gradient_norm_sq(dim: int, p: float, draws: int = 4000, seed: int = 0) -> float:
    """Monte Carlo ``E ||g||_p^2`` for ``g = MEAN e_1 + xi``, ``xi`` uniform on
    ``{-1, 1}^d``."""
    g = np.random.default_rng(seed).choice([-1.0, 1.0], size=(draws, dim))
    g[:, 0] += MEAN
    a = np.abs(g)
    m = a.max(1, keepdims=True)
    return float(np.mean((m[:, 0] * np.sum((a / m) ** p, 1) ** (1 / p)) ** 2))


def learners_for(dim: int, horizon: int) -> dict:
    p = default_p(dim)
    ball = oco.Domain("ball", dim)
    eta_2 = 1.0 / np.sqrt((dim + MEAN**2) * horizon)
    eta_p = 1.0 / np.sqrt(gradient_norm_sq(dim, p) * (p - 1) * horizon)
    return {
        "ogd": ogd(ball, schedule="constant", step_size=eta_2),
        "pnorm_omd (p = 2 ln d)": pnorm_omd(ball, step_size=eta_p, p=p),
    }


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    finals = {}
    for dim in config.dims:
        mean = np.zeros(dim)
        mean[0] = MEAN
        comparator = np.zeros(dim)
        comparator[0] = -1.0
        env = oco.sea_model(
            dim,
            sigma=float(np.sqrt(dim)),
            adversarial=0.0,
            mean=mean,
            comparator=comparator,
            noise="rademacher",
        )
        out = run_learners(
            learners_for(dim, config.num_rounds),
            env,
            config.num_rounds,
            num_seeds=config.num_seeds,
            seed=config.seed,
            record=[config.num_rounds],
            metrics=("regret", "comparator_regret"),
        )
        for key, value in out["arrays"].items():
            if key != "rounds":
                finals.setdefault(key, []).append(value[:, -1])
        timings[f"d={dim}"] = out["timings"]
    for key, value in finals.items():
        arrays[key] = np.stack(value, axis=1)  # [seeds, dims]
    arrays["dims"] = np.asarray(config.dims)
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    dims = arrays["dims"].astype(float)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    panels = (
        ("comparator_regret", "regret at T against the sparse u = -e_1"),
        ("regret", "regret at T against the best point of the ball"),
    )
    for ax, (metric, title) in zip(axes, panels, strict=True):
        curves = {
            k.split("/")[0]: v for k, v in arrays.items() if k.endswith("/" + metric)
        }
        for i, (name, values) in enumerate(curves.items()):
            plotting.band(
                ax, dims, values, label=name, color=plotting.COLORS[i], marker="o"
            )
        first = {n: v.mean(0)[0] for n, v in curves.items()}
        ogd0 = first["ogd"]
        pn0 = first[next(n for n in curves if n.startswith("pnorm"))]
        plotting.reference(
            ax, dims, ogd0 * np.sqrt(dims / dims[0]), label="sqrt(d) shape"
        )
        plotting.reference(
            ax,
            dims,
            pn0 * np.log(dims) / np.log(dims[0]),
            label="ln d shape",
            color="0.6",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("regret at T")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle(
        f"p-norm OMD vs OGD, dense +-1 gradients, T = {config.num_rounds}, "
        f"{config.num_seeds} seeds (mean, 95% band)"
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
