"""Figure 4 (adversarial MDPs): Matrix Geometric Resampling against the regularised
empirical inverse (Dai, Luo, Wei and Zimmert 2023's alternative) as estimates of an
inverse covariance Sigma^{-1}: bias and variance against the number of samples N,
log-log, over many independent estimates.

Features: a fixed finite distribution over ``num_features`` vectors of norm <= 1 in
R^d (the d unit vectors and random directions, Dirichlet probabilities),
Sigma = E[X X^T]. Per sample size N:

- MGR (Neu and Olkhovskaya 2020) with step beta and chain length M = N;
- the empirical inverse ``(gamma_N I + (1/N) sum X_i X_i^T)^{-1}`` with
  ``gamma_N = gamma_0 / N`` (so that its regularisation bias also vanishes).

Bias is ``||mean of the estimates - Sigma^{-1}||_op`` (the Monte-Carlo mean of
``num_seeds`` estimates; below the dotted noise floor ``2 sqrt(total variance /
num_seeds)`` it is not resolved); MGR's exact bias ``||(I - beta Sigma)^{N+1}
Sigma^{-1}||`` is drawn too. Variance is ``E||estimate - E estimate||_F^2`` (mean and
95% band over batches of seeds).

Command (full, writes figures/advmdp_mgr.png and its results):

    python -m experiments.advmdp_mgr            # N = 4 .. 4096, 4,000 estimates
    python -m experiments.advmdp_mgr --quick    # N = 4 .. 512, 800 estimates
                                                # -> results/quick/

Expected: MGR's bias falls geometrically in N (exactly as its closed form) but its
variance does not fall at all (one chain, not an average: it levels off at a constant,
about 30 here, once the chain's product has died out); the empirical inverse's bias
and variance both fall like 1/N (the dashed N^{-1} references) once N >> 1 /
lambda_min. Every N reuses the same keys (common random numbers), and
``jax.random.split(key, N)[:m]`` equals ``split(key, m)``, so MGR's estimates for
N >= 256 are the same chains with a vanishing tail: its Monte-Carlo bias there is one
draw of the noise, flat and under its noise floor.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from algorithms.adversarial_mdp.mgr import (
    empirical_inverse_covariance,
    matrix_geometric_resampling,
    mgr_expectation,
)
from experiments import plotting
from experiments.common import drive, script_main

NAME = "advmdp_mgr"


@dataclasses.dataclass(frozen=True)
class Config:
    dim: int = 4  # feature dimension d
    num_features: int = 10  # support of the feature distribution
    sample_sizes: tuple[int, ...] = tuple(2**i for i in range(2, 13))  # N values
    num_seeds: int = 4_000  # independent estimates per estimator and N
    num_batches: int = 20  # batches of seeds for the variance band
    beta: float = 0.5  # MGR step (beta ||x||^2 <= 1/2)
    gamma0: float = 1.0  # empirical inverse regularisation gamma_N = gamma0 / N
    seed: int = 0  # PRNG seed (features and estimates)


QUICK = Config(sample_sizes=tuple(2**i for i in range(2, 10)), num_seeds=800)


def feature_distribution(config: Config):
    """Features ``[n, d]``: the d unit vectors (so Sigma is well conditioned) and
    ``n - d`` random directions with norms in [0.5, 1]; probabilities ``[n]`` and
    ``Sigma`` (float64 NumPy)."""
    rng = np.random.default_rng(config.seed)
    extra = rng.normal(size=(config.num_features - config.dim, config.dim))
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    extra *= rng.uniform(0.5, 1.0, size=(extra.shape[0], 1))
    features = np.concatenate([np.eye(config.dim), extra])
    probs = rng.dirichlet(np.full(config.num_features, 5.0))
    covariance = features.T @ (probs[:, None] * features)
    return features, probs, covariance


def run_experiment(config: Config) -> dict:
    if config.num_seeds % config.num_batches:
        raise ValueError("num_seeds must be a multiple of num_batches")
    features, probs, covariance = feature_distribution(config)
    inverse = np.linalg.inv(covariance)
    table, p = jnp.asarray(features, jnp.float32), jnp.asarray(probs, jnp.float32)

    def sample_fn(key):
        return table[jax.random.choice(key, table.shape[0], p=p)]

    estimators = {
        "MGR": lambda key, n: matrix_geometric_resampling(
            key, sample_fn, config.dim, beta=config.beta, num_samples=n
        ),
        "empirical inverse": lambda key, n: empirical_inverse_covariance(
            key, sample_fn, config.dim, regularization=config.gamma0 / n, num_samples=n
        ),
    }
    arrays = {"sample_sizes": np.asarray(config.sample_sizes)}
    timings = {}
    keys = jax.random.split(jax.random.key(config.seed), config.num_seeds)
    for name, estimator in estimators.items():
        bias, floor, variance = [], [], []
        start = time.perf_counter()
        for n in config.sample_sizes:
            fn = jax.jit(jax.vmap(lambda k, n=n, e=estimator: e(k, n)))
            est = np.asarray(fn(keys), np.float64)  # [seeds, d, d]
            mean = est.mean(0)
            total = float(np.sum(est.var(0, ddof=1)))
            bias.append(np.linalg.norm(mean - inverse, 2))
            floor.append(2 * np.sqrt(total / config.num_seeds))
            batches = est.reshape(config.num_batches, -1, config.dim, config.dim)
            variance.append(np.sum(batches.var(1, ddof=1), axis=(1, 2)))
        timings[name] = time.perf_counter() - start
        arrays[f"{name}/bias"] = np.asarray(bias)
        arrays[f"{name}/noise_floor"] = np.asarray(floor)
        arrays[f"{name}/variance"] = np.stack(variance, axis=1)  # [batches, N]
    arrays["MGR/exact_bias"] = np.asarray(
        [
            np.linalg.norm(
                np.asarray(mgr_expectation(jnp.asarray(covariance), config.beta, n))
                - inverse,
                2,
            )
            for n in config.sample_sizes
        ]
    )
    arrays["inverse_norm"] = np.asarray(np.linalg.norm(inverse, 2))
    arrays["lambda_min"] = np.asarray(np.linalg.eigvalsh(covariance)[0])
    for name in estimators:
        print(
            f"{name}: bias {arrays[f'{name}/bias'][-1]:.3g}, variance "
            f"{arrays[f'{name}/variance'][:, -1].mean():.3g} at N = "
            f"{config.sample_sizes[-1]}"
        )
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    n = np.asarray(arrays["sample_sizes"], np.float64)
    fig, (ax_bias, ax_var) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = dict(zip(("MGR", "empirical inverse"), plotting.COLORS, strict=False))
    for name, color in colors.items():
        ax_bias.plot(n, arrays[f"{name}/bias"], "o-", color=color, label=name)
        ax_bias.plot(
            n,
            arrays[f"{name}/noise_floor"],
            ":",
            color=color,
            label=f"{name}: Monte-Carlo noise floor",
        )
        plotting.band(ax_var, n, arrays[f"{name}/variance"], label=name, color=color)
    ax_bias.plot(
        n,
        np.maximum(arrays["MGR/exact_bias"], 1e-12),
        "-",
        color=colors["MGR"],
        alpha=0.4,
        lw=4,
        label="MGR exact bias ||(I - beta Sigma)^{N+1} Sigma^-1||",
    )
    emp_bias = arrays["empirical inverse/bias"]
    # N^{-1} references anchored at the largest N (the small-N points are
    # pre-asymptotic: the 1/N regime needs N >> 1 / lambda_min)
    plotting.reference(
        ax_bias, n, emp_bias[-1] * n[-1] / n, label="N^{-1} reference", color="0.3"
    )
    emp_var = arrays["empirical inverse/variance"].mean(0)
    plotting.reference(
        ax_var, n, emp_var[-1] * n[-1] / n, label="N^{-1} reference", color="0.3"
    )
    ax_bias.set_ylim(
        bottom=0.3 * min(np.min(arrays[f"{k}/noise_floor"]) for k in colors),
        top=3 * max(np.max(arrays[f"{k}/bias"]) for k in colors),
    )
    for ax, label in (
        (ax_bias, "||E[estimate] - Sigma^{-1}||_op"),
        (ax_var, "E||estimate - E estimate||_F^2"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("number of samples N")
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
    title = (
        f"d = {config.dim}, lambda_min(Sigma) = {float(arrays['lambda_min']):.3f}, "
        f"||Sigma^-1|| = {float(arrays['inverse_norm']):.1f}, "
        f"{config.num_seeds} estimates per point"
    )
    ax_bias.set_title(f"bias (MGR beta = {config.beta}, M = N)", fontsize=10)
    ax_var.set_title(f"variance (empirical: gamma = {config.gamma0}/N)", fontsize=10)
    fig.suptitle(title, fontsize=10)
    ax_bias.legend(fontsize=7, frameon=False, loc="lower left")
    ax_var.legend(fontsize=8, frameon=False, loc="lower left")
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
    )


if __name__ == "__main__":
    script_main(main)
