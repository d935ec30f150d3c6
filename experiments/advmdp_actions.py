"""Figure: the dependence on the number of actions A in linear-Q adversarial MDPs with a
simulator: final regret against A for FTRL with the log-barrier and for exponential
weights on the magnitude-reduced estimator (mean and 95% band over random instances),
and, at one A, regret against K (log-log) of both and of the K^{2/3} baseline of Luo,
Wei and Lee with K^{1/2} and K^{2/3} references and the fitted slopes.

Instances: random linear-Q MDPs (``envs.adversarial_mdp.linear_q_mdp``: H = 3 layers of
S = 3 states, d = 4 simplex features, linear transitions, switching losses in weight
space), the same instance keys for every algorithm and every A (the features of the
extra actions are new draws). Each run is tuned to K and A by
``algorithms.adversarial_mdp.linear_q.linear_q_parameters``.

Command (full, writes figures/advmdp_actions.png and its results):

    python -m experiments.advmdp_actions            # A = 2..16, K = 1,000, 16 seeds
    python -m experiments.advmdp_actions --quick    # A = 2, 4, K = 150, 4 seeds,
                                                    # no baseline -> results/quick/

Both are compile-dominated (one program per algorithm and A): the full run took about
26 minutes, the quick one 3 minutes, on 2 contended cores (load average 9-20).

Expected (the theorems): the log-barrier's regret grows with A (its regulariser costs
A log K / eta, so the tuned regret is ~ sqrt(A K)); the magnitude-reduced estimator's
only like sqrt(log A). On the right, the two sqrt(K) algorithms bend below the
baseline, whose step is tied to its ridge (eta ~ gamma ~ K^{-2/3}).

Measured (full mode, see the README): both grow with A on these instances (the best
policy in hindsight improves with more actions, the instances change with A), the
magnitude-reduced estimator less (70 -> 176 from A = 2 to 16, the log-barrier 62 ->
205; the bands overlap at every A): NOT flat. At K = 1,000 all three are still
pre-asymptotic (fitted slopes 0.77-0.82 on the last decade, the sqrt(K) algorithms
below the baseline by 20-25%).
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.adversarial_mdp import linear_q as lq
from envs.adversarial_mdp import linear_q_mdp
from experiments import plotting
from experiments.advmdp_common import fitted_slope, plot_rate_references
from experiments.common import drive, run_learners, script_main

NAME = "advmdp_actions"
ALGORITHMS = ("log_barrier_ftrl", "magnitude_reduced_ftrl", "linear_q_po")


@dataclasses.dataclass(frozen=True)
class Config:
    action_counts: tuple[int, ...] = (2, 4, 8, 16)  # the A values (left panel)
    num_states: int = 3  # S states per layer
    horizon: int = 3  # H layers
    feature_dim: int = 4  # d features
    losses: str = "switching"  # loss sequence (in weight space)
    num_rounds: int = 1_000  # K episodes (every run tuned to it)
    num_seeds: int = 16  # random instances per point
    curve_actions: int = 4  # the A of the right panel (regret against K)
    algorithms: tuple[str, ...] = ALGORITHMS  # the baseline runs at curve_actions only
    seed: int = 0  # PRNG seed


# 4 programs (compile-dominated); the MGR baseline is left out of the quick run.
QUICK = Config(
    action_counts=(2, 4),
    num_rounds=150,
    num_seeds=4,
    curve_actions=4,
    algorithms=("log_barrier_ftrl", "magnitude_reduced_ftrl"),
)


def _learner(name, config: Config, num_actions: int):
    factory = getattr(lq, name)
    tuning = lq.linear_q_parameters(
        name, num_actions, config.horizon, config.feature_dim, config.num_rounds
    )
    return factory(
        config.num_states, num_actions, config.horizon, config.feature_dim, **tuning
    )


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    for num_actions in config.action_counts:
        env = linear_q_mdp(
            config.num_states,
            num_actions,
            config.horizon,
            config.feature_dim,
            losses=config.losses,
        )
        names = [
            n
            for n in config.algorithms
            if n != "linear_q_po" or num_actions == config.curve_actions
        ]
        out = run_learners(
            {n: _learner(n, config, num_actions) for n in names},
            env,
            config.num_rounds,
            num_seeds=config.num_seeds,
            seed=config.seed,
            prefix=f"A{num_actions}/",
        )
        arrays.update(out["arrays"])
        timings.update(out["timings"])
        rounds = arrays[f"A{num_actions}/rounds"]
        for n in names:
            regret = arrays[f"A{num_actions}/{n}/regret"]
            print(
                f"A = {num_actions:3d} {n:24s} final {np.mean(regret[:, -1]):8.2f}"
                f"  fitted slope {fitted_slope(rounds, regret):.2f}"
            )
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    actions = np.asarray(config.action_counts, dtype=float)
    for i, name in enumerate(n for n in config.algorithms if n != "linear_q_po"):
        finals = np.stack(
            [arrays[f"A{a}/{name}/regret"][:, -1] for a in config.action_counts],
            axis=1,
        )
        plotting.band(
            left,
            actions,
            finals,
            label=name,
            color=plotting.COLORS[i],
            marker="o",
        )
    left.set_xscale("log", base=2)
    left.set_xticks(actions, [str(a) for a in config.action_counts])
    left.set_xlabel("number of actions A")
    left.set_ylabel(f"regret after K = {config.num_rounds} episodes")
    left.set_ylim(bottom=0)
    left.set_title(
        f"final regret vs A (H={config.horizon}, S={config.num_states}, "
        f"d={config.feature_dim}), {config.num_seeds} instances"
    )
    left.grid(True, alpha=0.3)
    left.legend(frameon=False, fontsize=8)

    a = config.curve_actions
    rounds = arrays[f"A{a}/rounds"]
    anchor = 0.0
    for i, name in enumerate(config.algorithms):
        key = f"A{a}/{name}/regret"
        if key not in arrays:
            continue
        regret = arrays[key]
        slope = fitted_slope(rounds, regret)
        plotting.band(
            right,
            rounds,
            regret,
            label=f"{name} (slope {slope:.2f})",
            color=plotting.COLORS[i],
        )
        anchor = max(anchor, float(np.mean(regret[:, -1])))
    plot_rate_references(right, rounds, anchor)
    right.set_xlabel("episode K")
    right.set_ylabel("regret vs best fixed policy")
    right.set_title(f"regret vs K at A = {a} ({config.losses} losses)")
    right.grid(True, which="major", alpha=0.3)
    right.legend(frameon=False, fontsize=8, loc="upper left")
    plotting.save_figure(fig, path, legend_axes=[])


def main(argv=None):
    return drive(
        argv,
        doc=__doc__,
        name=NAME,
        config=Config(),
        quick=QUICK,
        run_fn=run_experiment,
        plot_fn=plot,
        known_algorithms=list(ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
