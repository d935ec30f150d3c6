"""Figure: demonstration-regularised LSVI-UCB on random linear MDPs: regret against
episodes for LSVI-UCB (no demonstrations), behaviour cloning alone and the
demonstration-regularised learner, for several numbers N^E of expert demonstrations.

Command (full, writes figures/linmdp_demonstrations.png and its results):

    python -m experiments.linmdp_demonstrations            # K = 1,000, 8 x 4 runs
    python -m experiments.linmdp_demonstrations --quick    # K = 100, 2 x 4 runs

Instances: ``random_linear_mdp`` (S = 10, A = 5, d = 4, H = 4, features on the
simplex), ``num_instances`` fixed draws, ``num_seeds`` seeds on each (the band is over
the instance x seed runs). The env (``with_linear_demonstrations``) reveals the first
N^E of N_max trajectories of the optimal policy (the same trajectories on a seed for
every N^E); the grid instances x N^E is ONE compiled program per learner
(``instances``). Learners: ``lsvi_ucb`` (ignores the demonstrations),
``linear_behavior_cloning`` (plays the fixed BC policy; its policy never changes and
``info.regret`` is the exact expected regret, so it is run for one episode and its
regret after k episodes is k times that: exact, not an approximation) and
``demo_lsvi_ucb`` (BC over the linear softmax class, then KL-regularised LSVI-UCB
towards it with ``lambda = lam * max(N^E, 1)``, the theory's ``lambda ∝ N^E``).
Regret is exact, ``V*(s_1) - V^{pi_k}(s_1)`` against the unregularised optimum.

Left: cumulative regret against episodes (log-log) with a sqrt(K) slope. Middle: the
regret after K episodes against N^E. Right: the exact suboptimality
``V*(s_1) - V^{pi_k}(s_1)`` of the policy played in episode k (the env's ``gap``
snapshot; the paper's best-policy-identification criterion), BC alone's dotted. The
sample complexity against N^E (episodes until the played policy stays epsilon-optimal,
one lambda per target) is :mod:`experiments.linmdp_demo_sample_complexity`.

Result (committed figure, K = 1,000, 8 instances x 4 seeds, lambda = 0.002 N^E):
BC alone has linear regret whose slope falls with N^E (0.46, 0.31, 0.10, 0.024 per
episode for N^E = 0, 10, 100, 1,000; the ridge keeps the clone of the deterministic
expert soft). LSVI-UCB ends at 79. The regularised learner starts at BC's level and
improves on it: regret at K = 1,000 of 80, 89, 65, 23 for N^E = 0, 10, 100, 1,000
(at k = 100: 20, 17, 6.2, 2.2 against LSVI-UCB's 20). So N^E = 1,000 beats both
baselines at every budget and N^E = 100 beats them on average (not on every instance:
see below), N^E = 10 helps only early (its lambda = 0.02 pull
towards a poor clone costs ~10 over LSVI-UCB by K = 1,000), and N^E = 0 (uniform
reference, lambda = 0.002) is LSVI-UCB. With lambda = 0.01 N^E (tried, not
committed) the pull is too strong: 87, 122, 94, 24 at K = 1,000, worse than
LSVI-UCB for N^E = 10 and 100. The means hide a split by instance: LSVI-UCB
ends at 13-42 on 6 of the 8 instances and at 196 and 277 on the other two (it
stays on a wrong policy); demo-LSVI-UCB with N^E = 100 ends at 49-79 on every
instance, so it loses to LSVI-UCB on the easy instances (the KL pull keeps it near
the clone, ~0.065 per episode late) and wins on the two hard ones (median over runs:
LSVI-UCB 30, N^E = 100 64, N^E = 1,000 22). Right panel: the played policy's
suboptimality starts at BC's (0.42 LSVI-UCB, 0.38 / 0.09 / 0.023 for N^E = 10 / 100
/ 1,000) and then plateaus at the bias of the regularised optimum: 0.066 for N^E =
100 from k ~ 20 on and 0.023 (BC's own level) for N^E = 1,000, while LSVI-UCB's falls
to 0.058 on average (median 0.006) at K = 1,000: with lambda = 0.002 N^E the pull
towards the clone never lets the regularised learner go beyond it by much.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from algorithms.linear_mdp import lsvi_ucb
from algorithms.linear_mdp.demonstrations import (
    demo_lsvi_ucb,
    linear_behavior_cloning_learner,
)
from envs.linear_demonstrations import (
    LinearDemonstrationParams,
    with_linear_demonstrations,
)
from envs.linear_mdp import random_linear_mdp, sample_linear_mdp_params
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "linmdp_demonstrations"


@dataclasses.dataclass(frozen=True)
class Config:
    num_states: int = 10  # S (finite state space)
    num_actions: int = 5  # A
    dim: int = 4  # d
    horizon: int = 4  # H
    num_rounds: int = 1_000  # online episodes K
    num_instances: int = 8  # random linear MDPs (fixed draws)
    num_seeds: int = 4  # seeds per instance and N^E (common random numbers)
    demonstrations: tuple[int, ...] = (0, 10, 100, 1000)  # N^E grid
    lam: float = 0.002  # KL weight per demonstration: lambda = lam * max(N^E, 1)
    beta: float = 1.0  # LSVI-UCB bonus scale (both learners)
    bc_reg: float = 1.0  # ridge weight of behaviour cloning
    instance_seed: int = 5  # key of the instances
    seed: int = 0  # PRNG seed of the runs


QUICK = Config(num_rounds=100, num_instances=2, demonstrations=(0, 10, 100))


def _instances(config: Config):
    """The instance draws [n] and the grid instances x N^E [n * len(N^E)]."""
    keys = jax.random.split(jax.random.key(config.instance_seed), config.num_instances)
    shape = (config.num_states, config.num_actions, config.dim, config.horizon)
    linear = jax.vmap(lambda k: sample_linear_mdp_params(k, *shape))(keys)
    counts = np.asarray(config.demonstrations, np.int32)
    grid = jax.tree.map(
        lambda x: jnp.repeat(x, len(counts), axis=0), linear
    )  # instance-major
    num = jnp.tile(jnp.asarray(counts), config.num_instances)
    return linear, LinearDemonstrationParams(grid, num), counts


def reference_runs(config, env, linear, grid, record, metrics):
    """The two references of the demonstration figures: LSVI-UCB and BC alone.

    LSVI-UCB ignores the demonstrations: one run per instance (``N^E = 0`` rows of
    ``linear``), ``metrics`` recorded at ``record``. BC alone plays one fixed policy
    whose ``info.regret`` is the exact expected regret: it is run for one episode on
    ``grid`` (instances x N^E) and its per-episode suboptimality is that episode's.

    Returns:
        ``(arrays, timings)``: ``lsvi_ucb/<metric> [n, seeds, M]``, ``rounds`` and
        ``behavior_cloning/gap [n * C, seeds]``.
    """
    shape = (config.num_states, config.num_actions, config.dim, config.horizon)
    no_demos = LinearDemonstrationParams(
        linear, jnp.zeros((config.num_instances,), jnp.int32)
    )
    lsvi = run_learners(
        {"lsvi_ucb": lsvi_ucb(*shape, beta=config.beta)},
        env,
        config.num_rounds,
        instances=no_demos,
        num_seeds=config.num_seeds,
        seed=config.seed,
        record=record,
        metrics=metrics,
    )
    bc = run_learners(
        {
            "behavior_cloning": linear_behavior_cloning_learner(
                *shape, bc_reg=config.bc_reg
            )
        },
        env,
        1,
        instances=grid,
        num_seeds=config.num_seeds,
        seed=config.seed,
        record=[1],
    )
    arrays = dict(lsvi["arrays"])
    arrays["behavior_cloning/gap"] = bc["arrays"]["behavior_cloning/regret"][..., 0]
    return arrays, {**lsvi["timings"], **bc["timings"]}


def run_experiment(config: Config) -> dict:
    shape = (config.num_states, config.num_actions, config.dim, config.horizon)
    linear, grid, counts = _instances(config)
    env = with_linear_demonstrations(random_linear_mdp(*shape), int(counts.max()))
    record = np.unique(np.geomspace(1, config.num_rounds, 40).astype(int))
    common = dict(
        num_seeds=config.num_seeds,
        seed=config.seed,
        record=record,
        metrics=("regret", "gap"),
    )
    out = run_learners(
        {
            "demo_lsvi_ucb": demo_lsvi_ucb(
                *shape, beta=config.beta, lam=config.lam, bc_reg=config.bc_reg
            ),
        },
        env,
        config.num_rounds,
        instances=grid,
        **common,
    )
    arrays, timings = out["arrays"], out["timings"]
    refs, ref_timings = reference_runs(
        config, env, linear, grid, record, ("regret", "gap")
    )
    bc_gap = refs.pop("behavior_cloning/gap")
    arrays.update(refs)
    # BC alone plays one fixed policy: its exact regret after k episodes is k times
    # the first episode's (info.regret is an expectation, not a sample).
    arrays["behavior_cloning/regret"] = bc_gap[..., None] * arrays["rounds"]
    arrays["behavior_cloning/gap"] = bc_gap
    timings.update(ref_timings)
    arrays["demonstrations"] = counts
    return {"arrays": arrays, "timings": timings}


def _by_count(values, config: Config, num_counts: int):
    """``[n * C, seeds, M]`` (instance-major) -> ``[C, n * seeds, M]``."""
    values = np.asarray(values)
    values = values.reshape(config.num_instances, num_counts, *values.shape[1:])
    values = np.swapaxes(values, 0, 1)
    return values.reshape(num_counts, -1, values.shape[-1])


def plot(arrays: dict, config: Config, path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(19, 5))
    rounds = arrays["rounds"]
    counts = arrays["demonstrations"]
    demo = _by_count(arrays["demo_lsvi_ucb/regret"], config, len(counts))
    bc = _by_count(arrays["behavior_cloning/regret"], config, len(counts))
    lsvi = np.asarray(arrays["lsvi_ucb/regret"]).reshape(-1, len(rounds))
    runs = lsvi.shape[0]
    ax = axes[0]
    plotting.band(ax, rounds, lsvi, label="LSVI-UCB (no demonstrations)", color="k")
    for i, n in enumerate(counts):
        color = plotting.COLORS[(i + 1) % len(plotting.COLORS)]
        plotting.band(
            ax, rounds, demo[i], label=f"demo-LSVI-UCB, N^E = {n}", color=color
        )
        plotting.band(
            ax, rounds, bc[i], label=f"BC alone, N^E = {n}", color=color, ls=":"
        )
    end = lsvi.mean(0)[-1]
    plotting.reference(
        ax, rounds, end * np.sqrt(rounds / rounds[-1]), label="sqrt(K) slope"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("episode k")
    ax.set_ylabel("cumulative regret (exact, vs the unregularised optimum)")
    ax.set_title(
        f"random linear MDPs S={config.num_states}, A={config.num_actions}, "
        f"d={config.dim}, H={config.horizon}; lambda = {config.lam:g} max(N^E, 1); "
        f"{runs} runs",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    ax = axes[1]
    x = np.maximum(counts, 0).astype(float)
    plotting.band(
        ax,
        x,
        demo[:, :, -1].T,
        label="demo-LSVI-UCB",
        marker="o",
        color=plotting.COLORS[1],
    )
    plotting.band(
        ax, x, bc[:, :, -1].T, label="BC alone", marker="s", color="0.4", ls=":"
    )
    ax.axhline(lsvi[:, -1].mean(), color="k", lw=1, label="LSVI-UCB (mean)")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(-0.2, 1.6 * max(x.max(), 1.0))
    ax.set_yscale("log")
    ax.set_xlabel("number of demonstrations N^E (symlog)")
    ax.set_ylabel(f"regret after K = {rounds[-1]} episodes")
    ax.set_title("final regret against N^E", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax = axes[2]
    gap = _by_count(arrays["demo_lsvi_ucb/gap"], config, len(counts))
    bc_gap = np.asarray(arrays["behavior_cloning/gap"]).reshape(
        config.num_instances, len(counts), -1
    )
    lsvi_gap = np.asarray(arrays["lsvi_ucb/gap"]).reshape(-1, len(rounds))
    plotting.band(ax, rounds, lsvi_gap, label="LSVI-UCB", color="k")
    for i, n in enumerate(counts):
        color = plotting.COLORS[(i + 1) % len(plotting.COLORS)]
        plotting.band(
            ax, rounds, gap[i], label=f"demo-LSVI-UCB, N^E = {n}", color=color
        )
        ax.axhline(bc_gap[:, i].mean(), color=color, ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("episode k")
    ax.set_ylabel("suboptimality of the policy played in episode k")
    ax.set_title(
        "best-policy-identification view (dotted: BC alone's suboptimality)",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
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
