"""Figure 4b: the separation on hard instances. Queries until an O(epsilon)-optimal
action is found, against the number of actions, for the sparse net search, OFUL and
phased elimination, on needle instances whose rewards are linear up to epsilon.

Command (full, writes figures/linbandit_sparse_hard.png and its results):

    python -m experiments.linbandit_sparse_hard          # d = 24, K + M up to 2,072
    python -m experiments.linbandit_sparse_hard --quick  # d = 16, s = 1, two K
                                                         # -> results/quick/

Left, the sparse needle (``envs.sparse_linear_bandits.sparse_needle_instances``): K
random sign vectors (decoys) and M = d / s "spikes" whose s-sparse direction carries
an extra weight; instance m hides spike m, theta*_m is s-sparse, every other action
returns 0, the uniform misspecification is exactly epsilon and the target is the only
4 eps-optimal action (gap 4.25 eps). ``sparse_targets`` evenly spaced targets m are
run (num_seeds seeds each; only OFUL's tie-breaking is random). Right, the dense
needle of Du et al. 2020 (``dense_needle_instances``): K sign vectors in R^96 with
pairwise |<x_i, x_j>| <= 0.3, theta*_i = (eps / tau_i) x_i dense; ``dense_targets``
evenly spaced targets.

Measured per run (noiseless rewards, the query model): for OFUL and phased
elimination, the round of their FIRST pull of a 4 eps-optimal action (the kindest
measure: they never commit); for the net search, the round of its last switch of
action, i.e. the queries it spends before committing (its first pull of the target
is no later). Runs that never pull the target within the horizon count as the horizon
(noted in the legend with the fraction found). Reference: (K + M + 1) / 2, the mean
position of a uniformly placed action in a sweep of all K + M actions (OFUL and phased
elimination see only zeros before their first pull of the target, so their order does
not depend on which target is hidden).

Measured (full mode, eps = 0.1, 12 targets per point): on the sparse needle the net
search queries exactly the M = d / s spikes (the greedy actions of its largest
hypotheses) and commits to the target (commit round 24.9 for s = 1, 12.9 for s = 2; 100%
correct) at every K, below its distinct-greedy bound (28-34) and its net size (264 and
51,060); OFUL's and phased elimination's first pulls of the target follow (K + M + 1) /
2 (e.g. 716 and 1,125 rounds at K + M = 2,072, s = 1), growing linearly in K, which can
be 2^d. On the dense needle OFUL and phased elimination again follow (K + 1) / 2, and
the net search, which has no guarantee for a dense theta*, commits after one query to an
action that is not 4 eps-optimal (35 of 36 runs): without sparsity no learner beats ~K /
2 (the zero-reward argument of ``dense_needle_instances``).
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.bandits.linear import oful_fixed_actions, phased_elimination
from algorithms.bandits.sparse import net_size, sorted_hypotheses, sparse_net_search
from envs.sparse_linear_bandits import (
    NEAR_OPTIMAL_FACTOR,
    dense_needle_instances,
    needle_bandit,
    needle_params,
    sparse_needle_instances,
)
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "linbandit_sparse_hard"
ALGORITHMS = ("sparse_net", "oful", "phased_elim")


@dataclasses.dataclass(frozen=True)
class Config:
    dim: int = 24  # d of the sparse needle
    num_decoys: tuple[int, ...] = (128, 512, 2048)  # K
    sparsities: tuple[int, ...] = (1, 2)  # s
    sparse_targets: int = 12  # targets run per K (evenly spaced of M = d / s)
    epsilon: float = 0.1  # misspecification level
    rho: float = 3.25  # spike weight a = rho sqrt(s / d); gap (rho + 1) eps
    dense_dim: int = 96  # d of the dense needle (0: no dense panel)
    dense_tau: float = 0.3  # pairwise |<x_i, x_j>| bound of the dense needle
    dense_actions: tuple[int, ...] = (64, 128, 256)  # its K
    dense_targets: int = 12  # targets run per dense K (evenly spaced actions)
    horizon_factor: float = 1.5  # baselines' horizon: factor x number of actions
    num_rounds: int = 20_000  # cap on the baselines' horizon
    num_seeds: int = 1  # seeds per target (OFUL's random tie-breaking)
    algorithms: tuple[str, ...] = ALGORITHMS
    seed: int = 0


QUICK = Config(
    dim=16,
    num_decoys=(64, 256),
    sparsities=(1,),
    dense_dim=64,
    dense_actions=(32,),
    sparse_targets=8,
    dense_targets=8,
    algorithms=("sparse_net", "oful"),
)


def _learner(name, features, sparsity, epsilon, horizon):
    num_arms, dim = features.shape
    delta = 1.0 / max(horizon, 2)
    if name == "sparse_net":
        return sparse_net_search(features, sparsity=sparsity, epsilon=epsilon)
    if name == "oful":
        # The fixed-action-set OFUL (same index as algorithms.bandits.linear.oful,
        # O(K d) per round); noise_std = 0.1 sets the radius (rewards are noiseless).
        return oful_fixed_actions(dim, num_arms, noise_std=0.1, delta=delta)
    return phased_elimination(dim, num_arms, noise_std=0.1, delta=delta)


def _subset(instances, count):
    """``count`` evenly spaced instances of the family (all when ``count`` is 0 or
    at least M)."""
    num = len(instances.targets)
    if count <= 0 or count >= num:
        return instances
    pick = np.unique(np.linspace(0, num - 1, count).astype(int))
    return instances._replace(
        targets=instances.targets[pick],
        thetas=instances.thetas[pick],
        means=instances.means[pick],
        biases=instances.biases[pick],
    )


def _run_family(instances, sparsity, config, prefix, arrays, timings):
    """Runs every configured learner on every instance of ``instances``."""
    features = instances.features
    num_arms = features.shape[0]
    env = needle_bandit(instances)
    params = needle_params(instances)
    _, greedy, _ = sorted_hypotheses(features, sparsity, config.epsilon)
    bound = len(np.unique(greedy))  # distinct actions the net search can query
    arrays[f"{prefix}net_size"] = np.asarray(
        net_size(features.shape[1], sparsity, config.epsilon)
    )
    arrays[f"{prefix}net_queries_bound"] = np.asarray(bound)
    for name in config.algorithms:
        if name == "sparse_net":
            horizon = bound + 2  # it commits after at most `bound` queries
        else:
            horizon = int(
                min(config.num_rounds, np.ceil(config.horizon_factor * num_arms))
            )
        learner = _learner(name, features, sparsity, config.epsilon, horizon)
        out = run_learners(
            {name: learner},
            env,
            horizon,
            num_seeds=config.num_seeds,
            seed=config.seed,
            instances=params,
            record=np.array([horizon - 1, horizon]),
            metrics=("regret", "first_hit", "last_switch"),
            prefix=prefix,
        )
        res = out["arrays"]
        first = res[f"{prefix}{name}/first_hit"][..., -1]  # [M, seeds]
        arrays[f"{prefix}{name}/found"] = (first > 0).astype(float)
        arrays[f"{prefix}{name}/first_hit"] = np.where(first > 0, first, horizon)
        arrays[f"{prefix}{name}/last_switch"] = res[f"{prefix}{name}/last_switch"][
            ..., -1
        ]
        regret = res[f"{prefix}{name}/regret"]
        arrays[f"{prefix}{name}/final_gap"] = regret[..., -1] - regret[..., -2]
        arrays[f"{prefix}{name}/horizon"] = np.asarray(horizon)
        timings.update(out["timings"])


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    for s in config.sparsities:
        for k in config.num_decoys:
            instances = sparse_needle_instances(
                config.dim, k, s, config.epsilon, rho=config.rho, seed=config.seed + k
            )
            arrays[f"sparse_s{s}_K{k}/num_actions"] = np.asarray(
                instances.features.shape[0]
            )
            prefix = f"sparse_s{s}_K{k}/"
            arrays[f"{prefix}num_targets"] = np.asarray(len(instances.targets))
            instances = _subset(instances, config.sparse_targets)
            _run_family(instances, s, config, prefix, arrays, timings)
    if config.dense_dim:
        for k in config.dense_actions:
            full = dense_needle_instances(
                config.dense_dim,
                k,
                config.epsilon,
                tau=config.dense_tau,
                seed=config.seed + k,
            )
            instances = _subset(full, config.dense_targets)
            prefix = f"dense_K{k}/"
            arrays[f"{prefix}num_actions"] = np.asarray(k)
            arrays[f"{prefix}tau"] = np.asarray(full.tau)
            _run_family(instances, 1, config, prefix, arrays, timings)
    return {"arrays": arrays, "timings": timings}


_STYLE = {
    "sparse_net": dict(marker="o"),
    "oful": dict(marker="s"),
    "phased_elim": dict(marker="^"),
}


def _queries_label(name, found, final_gap, eps):
    label = {"sparse_net": "net search (commit)", "oful": "OFUL (first hit)"}.get(
        name, "phased elim. (first hit)"
    )
    ok = np.mean(final_gap <= NEAR_OPTIMAL_FACTOR * eps + 1e-6)
    if name == "sparse_net":
        return f"{label}, answer 4eps-opt. {100 * ok:.0f}%"
    return f"{label}, found {100 * np.mean(found):.0f}%"


def plot(arrays: dict, config: Config, path) -> None:
    ncols = 2 if config.dense_dim else 1
    fig, axes = plt.subplots(1, ncols, figsize=(7.5 * ncols, 5.8), squeeze=False)
    ax = axes[0, 0]
    eps = config.epsilon
    for i, s in enumerate(config.sparsities):
        keys = [f"sparse_s{s}_K{k}/" for k in config.num_decoys]
        actions = np.array([float(arrays[p + "num_actions"]) for p in keys])
        for j, name in enumerate(config.algorithms):
            q = np.stack([arrays[p + name + "/first_hit"].ravel() for p in keys], 1)
            if name == "sparse_net":
                q = np.stack(
                    [arrays[p + name + "/last_switch"].ravel() for p in keys], 1
                )
            found = np.stack([arrays[p + name + "/found"].ravel() for p in keys], 1)
            gap = np.stack([arrays[p + name + "/final_gap"].ravel() for p in keys], 1)
            plotting.band(
                ax,
                actions,
                q,
                label=f"s = {s}: " + _queries_label(name, found, gap, eps),
                color=plotting.COLORS[j],
                ls="-" if i == 0 else ":",
                **_STYLE[name],
            )
        bound = [float(arrays[p + "net_queries_bound"]) for p in keys]
        ax.plot(
            actions,
            bound,
            color="0.55",
            lw=1,
            ls="-" if i == 0 else ":",
            label=f"s = {s}: distinct greedy actions of the net (its query bound)",
        )
    first = f"sparse_s{config.sparsities[0]}"
    actions = np.array(
        [float(arrays[f"{first}_K{k}/num_actions"]) for k in config.num_decoys]
    )
    plotting.reference(ax, actions, (actions + 1) / 2, label="(K + M + 1) / 2")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of actions K + M (K sign-vector decoys, M = d / s spikes)")
    ax.set_ylabel("queries to find the 4 eps-optimal action")
    ax.set_title(
        f"sparse needle: d = {config.dim}, eps = {eps}, theta* s-sparse, "
        f"gap {config.rho + 1:g} eps"
    )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    if config.dense_dim:
        ax = axes[0, 1]
        keys = [f"dense_K{k}/" for k in config.dense_actions]
        actions = np.array([float(arrays[p + "num_actions"]) for p in keys])
        for j, name in enumerate(config.algorithms):
            field = "/last_switch" if name == "sparse_net" else "/first_hit"
            q = np.stack([arrays[p + name + field].ravel() for p in keys], 1)
            found = np.stack([arrays[p + name + "/found"].ravel() for p in keys], 1)
            gap = np.stack([arrays[p + name + "/final_gap"].ravel() for p in keys], 1)
            plotting.band(
                ax,
                actions,
                q,
                label=("s = 1 " if name == "sparse_net" else "")
                + _queries_label(name, found, gap, eps),
                color=plotting.COLORS[j],
                **_STYLE[name],
            )
        plotting.reference(ax, actions, (actions + 1) / 2, label="(K + 1) / 2")
        taus = max(float(arrays[p + "tau"]) for p in keys)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("number of actions K")
        ax.set_ylabel("queries (net search: before committing, to a wrong action)")
        ax.set_title(
            f"dense needle (Du et al.): d = {config.dense_dim}, "
            f"max |<x_i, x_j>| = {taus:.2f}, theta* dense"
        )
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, frameon=False, loc="upper left")
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
