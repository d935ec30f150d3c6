"""Figure 1 (OCO): the SEA model, from stochastic to adversarial. Regret at T of OGD,
optimistic OMD and optimistic FTRL on a grid of the stochastic deviation sigma and the
adversarial amplitude A, 1,000 seeds per point; one compiled program per algorithm
(grid points are a batch of instances).

Command (full, writes figures/oco_sea.png and its results):

    python -m experiments.oco_sea            # 5 x 5 grid, 1,000 seeds, T = 1,000
    python -m experiments.oco_sea --quick    # 3 x 3 grid, 100 seeds, T = 200

Expected: linear losses on the unit ball in R^2, ``f_t(x) = <m_t + sigma xi_t, x>``
with ``m_t = (0.5, A s_t)``, the sign ``s_t`` switching every 10 rounds. The
optimistic methods' regret grows like
``sqrt(sigma^2_{1:T}) + sqrt(Sigma^2_{1:T})`` (Chen et al. 2023, Theorem 1; Sachs et
al. 2022) and is near zero at sigma = A = 0; the right panel plots every grid point's
regret against that quantity with a dashed line of slope one. OGD with the worst-case
step ``D / (G sqrt t)`` does not use the predictability of the switching adversary,
while the optimistic methods' regret can turn negative there (they track the switches,
beating the best fixed point). Colour: mean regret at T (red positive, blue negative).
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from algorithms.oco import ogd, optimistic_ftrl, optimistic_omd
from envs import oco
from experiments import plotting
from experiments.common import drive, run_learners, script_main
from experiments.oco_common import stack_instances
from experiments.runner import mean_ci

NAME = "oco_sea"
ALGOS = ("ogd", "optimistic_omd", "optimistic_ftrl")


@dataclasses.dataclass(frozen=True)
class Config:
    sigmas: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.4)  # stochastic deviation
    adversarials: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.4)  # amplitude A
    dim: int = 2  # dimension of the ball
    period: float = 10.0  # rounds between switches of the adversarial sign
    num_rounds: int = 1_000  # horizon T
    num_seeds: int = 1_000  # seeds per grid point
    algorithms: tuple[str, ...] = ALGOS  # which algorithms to run
    seed: int = 0  # PRNG seed


QUICK = Config(
    sigmas=(0.0, 0.1, 0.4), adversarials=(0.0, 0.1, 0.4), num_rounds=200, num_seeds=100
)


def _learners(names, domain):
    table = {
        "ogd": lambda: ogd(domain, schedule="sqrt", lipschitz=1.0),
        "optimistic_omd": lambda: optimistic_omd(domain, curvature="convex"),
        "optimistic_ftrl": lambda: optimistic_ftrl(domain),
    }
    return {n: table[n]() for n in names}


def run_experiment(config: Config) -> dict:
    env = oco.sea_model(config.dim, loss="linear", period=config.period)
    grid = [(s, a) for s in config.sigmas for a in config.adversarials]
    instances = stack_instances(
        [
            env.params._replace(sigma=np.float32(s), adversarial=np.float32(a))
            for s, a in grid
        ]
    )
    domain = oco.Domain("ball", config.dim)
    out = run_learners(
        _learners(config.algorithms, domain),
        env,
        config.num_rounds,
        num_seeds=config.num_seeds,
        seed=config.seed,
        instances=instances,
        progress=True,
    )
    sig2, adv2 = oco.sea_variations(instances, config.num_rounds, quadratic=False)
    out["arrays"]["sqrt_sigma2"] = np.sqrt(sig2)
    out["arrays"]["sqrt_Sigma2"] = np.sqrt(adv2)
    return out


def plot(arrays: dict, config: Config, path) -> None:
    ns, na = len(config.sigmas), len(config.adversarials)
    names = [n for n in config.algorithms if f"{n}/regret" in arrays]
    finals = {n: arrays[f"{n}/regret"][..., -1].mean(-1).reshape(ns, na) for n in names}
    vmax = max(f.max() for f in finals.values())
    vmin = min(min(f.min() for f in finals.values()), -1e-3)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=vmin, vmax=max(vmax, 1e-3))
    fig, axes = plt.subplots(
        1, len(names) + 1, figsize=(4.6 * (len(names) + 1), 4.4), layout="constrained"
    )
    for ax, name in zip(axes, names, strict=False):
        im = ax.imshow(finals[name], origin="lower", norm=norm, cmap="RdBu_r")
        ax.set_xticks(range(na), [f"{a:g}" for a in config.adversarials])
        ax.set_yticks(range(ns), [f"{s:g}" for s in config.sigmas])
        ax.set_xlabel("adversarial amplitude A")
        ax.set_ylabel("stochastic deviation sigma")
        ax.set_title(f"{name}: mean regret at T={config.num_rounds}")
        for i in range(ns):
            for j in range(na):
                ax.text(
                    j,
                    i,
                    f"{finals[name][i, j]:.1f}",
                    ha="center",
                    va="center",
                    color="k",
                    fontsize=7,
                )
    fig.colorbar(im, ax=axes[len(names) - 1], shrink=0.8)
    ax = axes[-1]
    x = arrays["sqrt_sigma2"] + arrays["sqrt_Sigma2"]
    order = np.argsort(x)
    for k, name in enumerate(names):
        final = arrays[f"{name}/regret"][..., -1]
        mean, low, high = (v[order] for v in mean_ci(final, axis=-1))
        ax.errorbar(
            x[order],
            mean,
            yerr=[mean - low, high - mean],
            fmt="o",
            ms=3,
            color=plotting.COLORS[k],
            label=name,
        )
    xs = np.linspace(0, x.max(), 50)
    plotting.reference(ax, xs, xs, label="sqrt(sigma^2_1:T) + sqrt(Sigma^2_1:T)")
    ax.set_xlabel("sqrt(sigma^2_1:T) + sqrt(Sigma^2_1:T)")
    ax.set_ylabel("regret at T (mean, 95% CI)")
    ax.set_title("every grid point")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    plotting.save_figure(fig, path, legend_axes=[], layout=False)


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
