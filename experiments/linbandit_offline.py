"""Offline bandits: sub-optimality of LCB (pessimism) and greedy against the dataset
size N, for several concentrabilities C* (from expert data C* = 1 to uniform coverage
C* = K), on a contextual bandit (S = 10 contexts) and a multi-armed bandit (S = 1);
mean and 95% band over 1,000 seeds, one compiled program over seeds x N x C*.

Command (full, writes figures/linbandit_offline.png and its results):

    python -m experiments.linbandit_offline           # 1,000 seeds, N up to 3 10^4
    python -m experiments.linbandit_offline --quick   # 200 seeds -> results/quick/

Instances: ``envs.offline_bandits.hard_instance`` (one per N, lower-bound style): a
frequent context with gap ``1/sqrt(N)`` and S - 1 contexts of probability ``1/N``
each with gap 1/4; Bernoulli rewards; K = 4 arms.

Expected: contextual panel, LCB with expert data decays like 1/N (the rare contexts
missing from the data are the only cost) and with uniform coverage like 1/sqrt(N);
intermediate C* lie between. Greedy matches LCB under uniform coverage but is much
worse for near-expert data (rarely logged bad arms with lucky rewards win the
empirical argmax). Multi-armed panel (S = 1): expert data gives zero error (only the
optimal arm is logged; not drawn on the log axis), near-expert LCB decays fast, uniform
coverage like 1/sqrt(N).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from algorithms.bandits.offline import greedy_policy, lcb_policy
from envs.offline_bandits import (
    behaviour_policy,
    hard_instance,
    sample_dataset,
    suboptimality,
)
from experiments import plotting
from experiments.common import drive, script_main

NAME = "linbandit_offline"


@dataclasses.dataclass(frozen=True)
class Config:
    num_arms: int = 4  # K
    num_contexts: int = 10  # S of the contextual panel
    concentrabilities: tuple[float, ...] = (1.0, 1.5, 2.0, 4.0)  # C* (K = uniform)
    sizes: tuple[int, ...] = (30, 100, 300, 1_000, 3_000, 10_000, 30_000)  # N grid
    num_seeds: int = 1_000  # seeds per (N, C*)
    delta: float = 0.1  # LCB confidence level
    seed: int = 0  # PRNG seed


QUICK = Config(num_seeds=200)


def evaluate(key, num_contexts: int, num_arms: int, n, c, delta):
    """(LCB, greedy) sub-optimality for one seed, dataset size and concentrability."""
    k_inst, k_data = jax.random.split(key)
    params = hard_instance(k_inst, num_contexts, num_arms, n)
    data = sample_dataset(k_data, params, behaviour_policy(params.means, c), n)
    lcb = lcb_policy(data.counts, data.reward_sums, delta=delta)
    greedy = greedy_policy(data.counts, data.reward_sums)
    return jnp.stack([suboptimality(params, lcb), suboptimality(params, greedy)])


def run_experiment(config: Config) -> dict:
    sizes = jnp.asarray(config.sizes, jnp.float32)
    cs = jnp.asarray(config.concentrabilities, jnp.float32)
    keys = jax.random.split(jax.random.key(config.seed), config.num_seeds)
    arrays, timings = {"sizes": np.asarray(config.sizes)}, {}
    for label, s in (("contextual", config.num_contexts), ("mab", 1)):

        def one(key, n, c, s=s):
            return evaluate(key, s, config.num_arms, n, c, config.delta)

        # [seeds] x [N] x [C]: one program.
        fn = jax.jit(
            jax.vmap(
                jax.vmap(jax.vmap(one, (None, None, 0)), (None, 0, None)),
                (0, None, None),
            )
        )
        start = time.perf_counter()
        out = np.asarray(fn(keys, sizes, cs))  # [seeds, N, C, 2]
        timings[label] = {"total_s": round(time.perf_counter() - start, 3)}
        arrays[f"{label}/lcb"] = out[..., 0]
        arrays[f"{label}/greedy"] = out[..., 1]
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    n = np.asarray(arrays["sizes"], float)
    for ax, label, title in (
        (axes[0], "contextual", f"contextual, S = {config.num_contexts}"),
        (axes[1], "mab", "multi-armed (S = 1)"),
    ):
        for j, c in enumerate(config.concentrabilities):
            color = plotting.COLORS[j]
            name = "uniform" if c == config.num_arms else ("expert" if c == 1 else "")
            tag = f"C*={c:g}" + (f" ({name})" if name else "")
            for algo, ls in (("lcb", "-"), ("greedy", ":")):
                vals = arrays[f"{label}/{algo}"][:, :, j]
                if np.all(vals.mean(0) <= 0):
                    continue
                plotting.band(
                    ax,
                    n,
                    vals,
                    label=f"{algo.upper() if algo == 'lcb' else algo} {tag}",
                    color=color,
                    ls=ls,
                )
        ref = arrays[f"{label}/lcb"].mean(0)
        last = ref[-1, -1]
        plotting.reference(ax, n, last * np.sqrt(n[-1] / n), label=r"$1/\sqrt{N}$")
        if label == "contextual":
            first = max(ref[-1, 0], 1e-12)
            plotting.reference(ax, n, first * n[-1] / n, label=r"$1/N$", color="0.6")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("dataset size N")
        ax.set_ylabel(r"sub-optimality $J(\pi^*) - J(\hat\pi)$")
        ax.set_title(f"{title}, K = {config.num_arms}, {config.num_seeds} seeds")
        ax.grid(True, which="major", alpha=0.3)
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
