"""Figure: demonstration-regularised LSVI-UCB on random linear MDPs, SAMPLE COMPLEXITY
against the number of expert demonstrations N^E: the online episodes until the played
policy is epsilon-optimal, for a few target accuracies epsilon.

Command (full, writes figures/linmdp_demo_sample_complexity.png and its results):

    python -m experiments.linmdp_demo_sample_complexity          # K = 1,000, 8 x 4 runs
    python -m experiments.linmdp_demo_sample_complexity --quick  # K = 60, 2 x 2 runs

The claim tested (Tiapkin et al., "Demonstration-Regularized RL", ICLR 2024, abstract;
the theorem's text could not be read here, reconstruction, unverified): with N^E
demonstrations of the expert, demonstration-regularised RL finds an epsilon-optimal
policy after ``O~(Poly(d, H) / (epsilon^2 N^E))`` online episodes in a linear MDP, i.e.
the sample complexity falls like ``1 / N^E`` at a fixed epsilon.

Instances and learners are those of :mod:`experiments.linmdp_demonstrations`
(``random_linear_mdp`` S = 10, A = 5, d = 4, H = 4; ``num_instances`` fixed draws x
``num_seeds`` seeds; ``with_linear_demonstrations`` reveals the first N^E of 1,000
optimal-policy trajectories, the same ones on a seed for every N^E). The suboptimality
``V*(s_1) - V^{pi_k}(s_1)`` of the policy played in episode k is EXACT (the env's
``gap`` snapshot, recorded in every episode).

lambda (one lambda per target, as in the theorem): the theory's KL weight is ``lambda
= epsilon / (2 B)`` with ``B = O~(d H / N^E)`` the bound on ``KL(pi^E || pi^BC)``, so
``lambda`` is proportional to ``epsilon N^E``; the script runs ``demo_lsvi_ucb`` with
``lambda = c epsilon max(N^E, 1)`` (``lam = c epsilon`` per demonstration, ``c =
lam_per_epsilon``), one grid point per epsilon, and reads each epsilon off its own
learner. The whole grid epsilon (traced ``lam``) x instances x N^E x seeds is ONE
compiled program (``runner.sweep``).

Why not the other figure's fixed ``lam = 0.002``: its regularised optimum's bias is a
plateau of the suboptimality (0.066 for N^E = 100, 0.023 for N^E = 1,000), so every
target below ~0.07 would only ask whether BC is already epsilon-optimal. What was
tried before the figure (a probe, K = 300, the same 8 instances x 2 seeds; mean /
median suboptimality at k = 300 for N^E = 10 / 100 / 1,000): lam = 0.002: mean 0.065 /
0.064 / 0.023, median 0.034 / 0.065 / 0.023 (flat from k ~ 20 for N^E >= 100);
lam = 0.0005: mean 0.067 / 0.031 / 0.020, median 0.018 / 0.030 / 0.021 (still
falling); lam = 0.0001: mean 0.067 / 0.068 / 0.015, median 0.015 / 0.017 / 0.016, but
N^E = 100 starts at 0.35 instead of 0.09 (too weak a pull to use the clone early).
``c = 0.01`` (lam = 0.001, 0.0005, 0.00025 for epsilon = 0.1, 0.05, 0.025) was fixed
from that probe (interpolating, so that the median plateau at N^E = 100 lies below
each target) before the full figure, and not changed after it. The figure shows it
holds up to N^E = 100 (median suboptimality at K of 0.046, 0.028, 0.016 for the three
lambdas) but not for the tightest target at N^E = 300 (0.0235 against 0.025: the
bias grows slowly with N^E at fixed ``lam``, the ridge clone's KL falling slower
than ``1 / N^E``), see below.

"Reached" (:func:`episodes_to_accuracy`): the first episode k after which the played
policy STAYS epsilon-optimal up to K (``gap_j <= epsilon`` for every ``j >= k``); a
run whose last policy is not epsilon-optimal never reached it and is CENSORED (``inf``,
drawn at K with an open marker; counted in the middle panel). Medians are robust to
censoring as long as fewer than half the runs are censored; their 95% bands are the
distribution-free order-statistic interval for the median (:func:`median_ci`).

Left: median episodes to epsilon against N^E (log-log) of demo-LSVI-UCB (one colour per
epsilon), with LSVI-UCB's median (no demonstrations; horizontal, dash-dot), BC alone
(plays its clone: epsilon-optimal at episode 1 or never; squares, dotted) and the
theorem's ``1 / N^E`` slope (dashed, through the first median above 1; slopes fitted
over the uncensored medians above 1, :func:`fitted_slope`). Middle: the
fraction of the runs that reach epsilon within K. Right: the median suboptimality of
the played policy against k, for N^E = 100, one curve per epsilon's lambda, with the
targets dotted (where the regularised optimum's plateau lies).

Result (committed figure, K = 1,000, 8 instances x 4 seeds = 32 runs per point;
medians of the episodes to epsilon with 95% CI; "stays" rule):

* epsilon = 0.1: LSVI-UCB 103.5 [61, 185] (24/32 runs reach it: it never does on 2 of
  the 8 instances); demo-LSVI-UCB 77.5 [41, 128] at N^E = 10, 22.5 [9, 37] at 30, and 1
  from N^E = 100 on (the median run is epsilon-optimal from the first episode; every
  run reaches it); fitted slope
  -1.13 (from the two points above 1 only).
* epsilon = 0.05: LSVI-UCB 192.5 [147, 280]; demo 134 [87, 252], 105.5 [78, >K], 29.5
  [15, 46], 1, 1 for N^E = 10, 30, 100, 300, 1,000; slope -0.66 (10 to 100).
* epsilon = 0.025: LSVI-UCB 389.5 [280, 965]; demo 239.5 [218, 432], 229 [179,
  377], 199.5 [134, 324], 330 [26, >K] (20/32 reach it: the regularised plateau is
  at the target, see above), 1; slope +0.07 (10 to 300).
* BC alone is epsilon-optimal in no run below N^E = 100 (its median suboptimality is
  0.30, 0.19, 0.10, 0.050, 0.023 for N^E = 10 ... 1,000); demo-LSVI-UCB reaches
  each target in every run on the two instances where LSVI-UCB never does once
  N^E >= 100 (epsilon = 0.1), 300 (0.05) or 1,000 (0.025).

So demonstrations always help (every demo median is below LSVI-UCB's), but the
measured dependence is not the theorem's ``1 / N^E``: it is close to it only at the
loosest target and over a short range, flatter at tighter targets, and the sample
complexity collapses to 1 once N^E is large enough for the clone (tilted by the first
optimistic backup) to meet epsilon by itself. The ``1 / N^E`` rate is an upper bound
with Poly(d, H) constants that at this size exceed K; the figure shows a threshold in
N^E rather than a power law. The "first" rule (first epsilon-optimal episode) gives
nearly the same medians (76, 22.5, 1, 1, 1 / 99, 88.5, 20, 1, 1 / 222, 207, 200, 32.5,
1) except for epsilon = 0.025 at N^E = 300, where the played policy crosses the
target early and drifts back above it on some instances.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import matplotlib.pyplot as plt
import numpy as np

from algorithms.linear_mdp.demonstrations import demo_lsvi_ucb
from envs.linear_demonstrations import with_linear_demonstrations
from envs.linear_mdp import random_linear_mdp
from experiments import plotting
from experiments.common import drive, episodes_to_accuracy, run_timing, script_main
from experiments.linmdp_demonstrations import _instances, reference_runs
from experiments.runner import sweep

NAME = "linmdp_demo_sample_complexity"


@dataclasses.dataclass(frozen=True)
class Config:
    num_states: int = 10  # S (finite state space)
    num_actions: int = 5  # A
    dim: int = 4  # d
    horizon: int = 4  # H
    num_rounds: int = 1_000  # online episodes K (the censoring point)
    num_instances: int = 8  # random linear MDPs (fixed draws)
    num_seeds: int = 4  # seeds per instance and N^E (common random numbers)
    demonstrations: tuple[int, ...] = (10, 30, 100, 300, 1000)  # N^E grid (> 0)
    epsilons: tuple[float, ...] = (0.1, 0.05, 0.025)  # target accuracies
    lam_per_epsilon: float = 0.01  # c: lambda = c * epsilon * max(N^E, 1)
    beta: float = 1.0  # LSVI-UCB bonus scale (both learners)
    bc_reg: float = 1.0  # ridge weight of behaviour cloning
    focus: int = 100  # N^E of the right panel's curves
    instance_seed: int = 5  # key of the instances (as linmdp_demonstrations)
    seed: int = 0  # PRNG seed of the runs


QUICK = Config(
    num_rounds=60,
    num_instances=2,
    num_seeds=2,
    demonstrations=(10, 100),
    epsilons=(0.1, 0.05),
    focus=10,
)


def median_ci(samples, axis: int = 0, level: float = 0.95):
    """Median and its distribution-free confidence interval (order statistics).

    The interval ``[x_(j), x_(n+1-j)]`` with ``j`` the largest rank such that
    ``P(Binomial(n, 1/2) < j) <= (1 - level) / 2`` covers the median with probability
    ``>= level`` for any continuous distribution; right-censored values (``inf``)
    are fine as long as the ranks used are below them. For ``n < 6`` no rank pair
    reaches 95% and the interval is the whole range (coverage ``1 - 2^(1 - n)``).
    Returns ``(median, low, high)``.
    """
    x = np.sort(np.asarray(samples, np.float64), axis=axis)
    n = x.shape[axis]
    cdf = np.cumsum([math.comb(n, i) for i in range(n + 1)]) / 2.0**n
    j = max(int(np.searchsorted(cdf, (1 - level) / 2, side="right")), 1)
    # cdf[j - 1] = P(B <= j - 1) <= alpha / 2: ranks j and n + 1 - j (1-indexed).
    low = np.take(x, j - 1, axis=axis)
    high = np.take(x, n - j, axis=axis)
    return np.median(x, axis=axis), low, high


def run_experiment(config: Config) -> dict:
    shape = (config.num_states, config.num_actions, config.dim, config.horizon)
    if min(config.demonstrations) < 1:
        raise ValueError("demonstrations must be >= 1 (LSVI-UCB is the N^E = 0 line)")
    linear, grid, counts = _instances(config)
    env = with_linear_demonstrations(random_linear_mdp(*shape), int(counts.max()))
    record = np.arange(1, config.num_rounds + 1)
    key = jax.random.key(config.seed)
    epsilons = np.asarray(config.epsilons, np.float64)
    demo = sweep(
        demo_lsvi_ucb,
        env,
        config.num_rounds,
        key=key,
        grid={"lam": config.lam_per_epsilon * epsilons},
        num_seeds=config.num_seeds,
        instances=grid,
        static=dict(
            num_states=config.num_states,
            num_actions=config.num_actions,
            dim=config.dim,
            horizon=config.horizon,
            beta=config.beta,
            bc_reg=config.bc_reg,
        ),
        record=record,
    )
    arrays = {
        "demo_lsvi_ucb/gap": np.asarray(demo.metrics["gap"]),  # [E, n * C, seeds, K]
        "rounds": demo.rounds,
        "demonstrations": counts,
        "epsilons": epsilons,
    }
    timings = {"demo_lsvi_ucb": run_timing(demo)}
    refs, ref_timings = reference_runs(config, env, linear, grid, record, ("gap",))
    arrays.update(refs)
    arrays["rounds"] = demo.rounds
    timings.update(ref_timings)
    return {"arrays": arrays, "timings": timings}


def summarize(arrays: dict, config: Config) -> dict:
    """Episodes to each epsilon per run (``inf``: censored), grouped by N^E.

    Returns ``{"demo": [E, C, runs], "bc": [E, C, runs], "lsvi": [E, runs],
    "gap_median": [E, C, K]}`` (runs = instances x seeds).
    """
    counts = np.asarray(arrays["demonstrations"])
    epsilons = np.asarray(arrays["epsilons"])
    rounds = np.asarray(arrays["rounds"])
    num_e, num_c, n = len(epsilons), len(counts), config.num_instances
    gap = np.asarray(arrays["demo_lsvi_ucb/gap"])  # [E, n * C, seeds, K]
    gap = gap.reshape(num_e, n, num_c, *gap.shape[2:]).swapaxes(1, 2)
    gap = gap.reshape(num_e, num_c, -1, gap.shape[-1])  # [E, C, runs, K]
    demo = np.stack(
        [
            episodes_to_accuracy(gap[e], epsilons[e : e + 1], rounds)[0]
            for e in range(num_e)
        ]
    )
    bc_gap = np.asarray(arrays["behavior_cloning/gap"])  # [n * C, seeds]
    bc_gap = bc_gap.reshape(n, num_c, -1).swapaxes(0, 1).reshape(num_c, -1)
    bc = episodes_to_accuracy(bc_gap[..., None], epsilons)  # [E, C, runs]
    lsvi_gap = np.asarray(arrays["lsvi_ucb/gap"]).reshape(-1, len(rounds))
    lsvi = episodes_to_accuracy(lsvi_gap, epsilons, rounds)  # [E, runs]
    return {"demo": demo, "bc": bc, "lsvi": lsvi, "gap_median": np.median(gap, axis=2)}


def fitted_slope(x, episodes):
    """Least-squares slope of log(median episodes) on log(N^E), over the medians that
    are finite (not censored) and above 1 (a median of 1 is the floor: epsilon-optimal
    from the first episode, BC's own accuracy, which says nothing about the rate).
    ``nan`` with fewer than two such points."""
    med = np.median(episodes, axis=-1)
    keep = np.isfinite(med) & (med > 1)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[keep]), np.log(med[keep]), 1)[0])


def plot(arrays: dict, config: Config, path) -> None:
    out = summarize(arrays, config)
    counts = np.asarray(arrays["demonstrations"]).astype(float)
    epsilons = np.asarray(arrays["epsilons"])
    rounds = np.asarray(arrays["rounds"])
    horizon_k = float(rounds[-1])
    fig, axes = plt.subplots(1, 3, figsize=(19, 5.2))
    ax = axes[0]
    for e, eps in enumerate(epsilons):
        color = plotting.COLORS[e % len(plotting.COLORS)]
        med, low, high = median_ci(out["demo"][e], axis=-1)
        slope = fitted_slope(counts, out["demo"][e])
        shown = np.minimum(med, horizon_k)
        ax.plot(
            counts,
            shown,
            "-",
            color=color,
            lw=1.8,
            label=f"demo-LSVI-UCB, eps = {eps:g}: lambda = "
            f"{config.lam_per_epsilon * eps:g} N^E, fitted slope {slope:.2f}",
        )
        censored = ~np.isfinite(med)
        ax.plot(counts[~censored], shown[~censored], "o", color=color)
        ax.plot(counts[censored], shown[censored], "o", mfc="none", color=color, ms=9)
        ax.fill_between(
            counts,
            np.minimum(low, horizon_k),
            np.minimum(high, horizon_k),
            color=color,
            alpha=0.2,
            lw=0,
        )
        # BC alone: eps-optimal at episode 1 or never; a hollow square at 1 where
        # its median run is (the middle panel has the fraction).
        bc_ok = np.median(out["bc"][e], axis=-1) == 1
        ax.plot(
            counts[bc_ok],
            np.ones(bc_ok.sum()),
            "s",
            mfc="none",
            color=color,
            ms=8 + 3 * e,
        )
        lsvi_med = np.median(out["lsvi"][e])
        ax.axhline(min(lsvi_med, horizon_k), color=color, ls="-.", lw=1)
        usable = np.isfinite(med) & (med > 1)
        if usable.any():
            i = int(np.argmax(usable))
            plotting.reference(
                ax,
                counts,
                med[i] * counts[i] / counts,
                label="∝ 1 / N^E (theorem), through the first median > 1"
                if e == 0
                else "_",
                color=color,
            )
    ax.plot(
        [], [], "s", mfc="none", color="0.4", label="BC alone eps-optimal (median run)"
    )
    ax.plot([], [], "-.", color="0.4", label="LSVI-UCB, no demonstrations (median)")
    ax.plot([], [], "o", mfc="none", color="0.4", label="median censored (> K)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(0.7, 300 * horizon_k)  # room for the legend above K
    ax.set_xlabel("number of demonstrations N^E")
    ax.set_ylabel("episodes until the played policy stays eps-optimal (median, 95% CI)")
    runs = out["demo"].shape[-1]
    ax.set_title(
        f"random linear MDPs S={config.num_states}, A={config.num_actions}, "
        f"d={config.dim}, H={config.horizon}; {runs} runs per point, K = "
        f"{int(horizon_k)}",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(True, which="both", alpha=0.3)
    ax = axes[1]
    for e, eps in enumerate(epsilons):
        color = plotting.COLORS[e % len(plotting.COLORS)]
        ax.plot(
            counts,
            np.isfinite(out["demo"][e]).mean(-1),
            "o-",
            color=color,
            label=f"demo-LSVI-UCB, eps = {eps:g}",
        )
        ax.plot(counts, np.isfinite(out["bc"][e]).mean(-1), "s:", color=color)
        ax.axhline(np.isfinite(out["lsvi"][e]).mean(), color=color, ls="-.", lw=1)
    ax.plot([], [], "s:", color="0.4", label="BC alone")
    ax.plot([], [], "-.", color="0.4", label="LSVI-UCB")
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("number of demonstrations N^E")
    ax.set_ylabel(f"fraction of runs eps-optimal from some k <= K = {int(horizon_k)}")
    ax.set_title("runs that reach eps (the others are censored)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    ax = axes[2]
    focus = int(np.argmin(np.abs(counts - config.focus)))
    for e, eps in enumerate(epsilons):
        color = plotting.COLORS[e % len(plotting.COLORS)]
        ax.plot(
            rounds,
            out["gap_median"][e, focus],
            color=color,
            lw=1.5,
            label=f"lambda = {config.lam_per_epsilon * eps:g} N^E (for eps = {eps:g})",
        )
        ax.axhline(eps, color=color, ls=":", lw=1)
    lsvi_gap = np.asarray(arrays["lsvi_ucb/gap"]).reshape(-1, len(rounds))
    ax.plot(rounds, np.median(lsvi_gap, 0), color="k", lw=1.2, label="LSVI-UCB")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("episode k")
    ax.set_ylabel("median suboptimality of the policy played in episode k")
    ax.set_title(
        f"N^E = {int(counts[focus])}: suboptimality curves (dotted: the targets eps)",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    plotting.save_figure(fig, path, legend_axes=())


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
