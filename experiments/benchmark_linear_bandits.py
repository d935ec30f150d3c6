"""Throughput of OFUL in JAX against plain NumPy (d = 10, 50 actions, 10^3 seeds,
T = 10^4), measured in the same run, and per-round cost against the round index.

Three implementations of the SAME algorithm (OFUL with the Theorem 2 radius of
Abbasi-Yadkori et al. 2011, lambda = 1, R = 1, S = 1, delta = 1/T; V^{-1} by
Sherman-Morrison, log det V by the determinant lemma; a fresh instance per seed: 50
actions and theta* uniform on the unit sphere, Gaussian noise sd 1):

* JAX: ``experiments.runner.run`` (``lax`` loop over rounds, ``vmap`` over seeds, one
  compiled program), timed per chunk of rounds (compile time apart).
* NumPy loop: a Python ``for`` over rounds for one seed at a time, NumPy on ``[K, d]``
  arrays. Only ``loop_seeds x loop_rounds`` seed-rounds are timed; throughput is
  extrapolated per seed-round.
* NumPy vectorised: a Python ``for`` over rounds, NumPy on ``[S, K, d]`` arrays (all
  seeds at once); ``vec_rounds`` rounds are timed and extrapolated.

Per-round cost independent of t: the JAX run is timed per chunk; the table reports the
time per round of the first and the last chunk (their ratio should be ~1: no growth
with history).

Command:

    python -m experiments.benchmark_linear_bandits           # S = 1,000, T = 10^4
    python -m experiments.benchmark_linear_bandits --quick   # S = 200, T = 1,000

Expected: JAX >= 100x the NumPy per-seed loop; the late/early chunk ratio ~1.
Timings depend on the machine and its load; the ratios are the result.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from collections.abc import Sequence

import jax
import numpy as np

from algorithms.bandits.linear import oful
from envs.linear_bandits import random_linear_bandit
from experiments.common import script_main
from experiments.runner import run


@dataclasses.dataclass(frozen=True)
class Config:
    dim: int = 10  # feature dimension d
    num_arms: int = 50  # actions K
    num_seeds: int = 1_000  # seeds S (JAX and vectorised NumPy)
    num_rounds: int = 10_000  # horizon T (JAX)
    num_chunks: int = 10  # JAX chunks timed separately (early vs late cost)
    loop_seeds: int = 2  # seeds timed for the NumPy per-seed loop
    loop_rounds: int = 2_000  # rounds per seed timed for the NumPy loop
    vec_rounds: int = 500  # rounds timed for the vectorised NumPy
    seed: int = 0  # PRNG seed


QUICK = Config(num_seeds=200, num_rounds=1_000, loop_rounds=500, vec_rounds=200)


def _radius(log_det, dim: int, delta: float) -> np.ndarray:
    """Theorem 2 with lambda = R = S = 1 (log det(lambda I) = 0)."""
    return np.sqrt(2.0 * np.maximum(0.5 * log_det - math.log(delta), 0.0)) + 1.0


def numpy_oful_loop(features, theta, noise, delta: float):
    """One seed: ``features [K, d]``, ``theta [d]``, ``noise [T]``. Returns the actions
    ``[T]`` and the cumulative pseudo-regret."""
    K, d = features.shape
    V_inv, b, log_det = np.eye(d), np.zeros(d), 0.0
    mu = features @ theta
    actions = np.empty(noise.shape[0], np.int64)
    regret = 0.0
    for t in range(noise.shape[0]):
        width = np.sqrt(
            np.maximum(np.einsum("kd,de,ke->k", features, V_inv, features), 0)
        )
        index = features @ (V_inv @ b) + _radius(log_det, d, delta) * width
        a = int(np.argmax(index))
        x = features[a]
        u = V_inv @ x
        denom = 1.0 + x @ u
        V_inv = V_inv - np.outer(u, u) / denom
        V_inv = 0.5 * (V_inv + V_inv.T)
        log_det += math.log(denom)
        b = b + (mu[a] + noise[t]) * x
        actions[t] = a
        regret += mu.max() - mu[a]
    return actions, regret


def numpy_oful_vectorised(features, theta, noise, delta: float):
    """All seeds at once: ``features [S, K, d]``, ``theta [S, d]``, ``noise [T, S]``.
    Returns the cumulative pseudo-regret ``[S]``."""
    S, K, d = features.shape
    V_inv = np.broadcast_to(np.eye(d), (S, d, d)).copy()
    b, log_det = np.zeros((S, d)), np.zeros(S)
    mu = np.einsum("skd,sd->sk", features, theta)
    best = mu.max(axis=1)
    regret = np.zeros(S)
    rows = np.arange(S)
    for t in range(noise.shape[0]):
        quad = np.einsum("skd,sde,ske->sk", features, V_inv, features)
        theta_hat = np.einsum("sde,se->sd", V_inv, b)
        index = np.einsum("skd,sd->sk", features, theta_hat) + _radius(
            log_det, d, delta
        )[:, None] * np.sqrt(np.maximum(quad, 0))
        a = np.argmax(index, axis=1)
        x = features[rows, a]
        u = np.einsum("sde,se->sd", V_inv, x)
        denom = 1.0 + np.einsum("sd,sd->s", x, u)
        V_inv = V_inv - np.einsum("sd,se->sde", u, u) / denom[:, None, None]
        V_inv = 0.5 * (V_inv + np.swapaxes(V_inv, 1, 2))
        log_det += np.log(denom)
        b = b + (mu[rows, a] + noise[t])[:, None] * x
        regret += best - mu[rows, a]
    return regret


def _numpy_instances(rng, S: int, K: int, d: int):
    x = rng.normal(size=(S, K, d))
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    th = rng.normal(size=(S, d))
    th /= np.linalg.norm(th, axis=-1, keepdims=True)
    return x, th


def run_benchmark(config: Config, log=print) -> dict:
    d, K, S, T = config.dim, config.num_arms, config.num_seeds, config.num_rounds
    delta = 1.0 / T
    # JAX, timed per chunk.
    learner = oful(d, regularization=1.0, noise_std=1.0, theta_bound=1.0, delta=delta)
    env = random_linear_bandit(d, K, noise_std=1.0)
    chunk = max(1, T // config.num_chunks)
    stamps = []
    result = run(
        learner,
        env,
        T,
        key=jax.random.key(config.seed),
        num_seeds=S,
        chunk_size=chunk,
        record=np.array([T]),
        progress=False,
        callback=lambda done: stamps.append((done, time.perf_counter())),
    )
    # Per-chunk seconds: the first chunk starts wall_time before the last ends.
    ends = [s[1] for s in stamps]
    times = np.diff([ends[-1] - result.wall_time, *ends])
    jax_rate = S * T / result.wall_time
    early = times[0] / chunk
    late = times[-1] / chunk
    log(
        f"JAX: {result.wall_time:.2f}s for {S} x {T} "
        f"(compile {result.compile_time:.1f}s)"
    )

    rng = np.random.default_rng(config.seed)
    # NumPy per-seed loop.
    x, th = _numpy_instances(rng, config.loop_seeds, K, d)
    start = time.perf_counter()
    for s in range(config.loop_seeds):
        numpy_oful_loop(x[s], th[s], rng.normal(size=config.loop_rounds), delta)
    loop_time = time.perf_counter() - start
    loop_rate = config.loop_seeds * config.loop_rounds / loop_time
    log(f"NumPy loop: {loop_time:.2f}s for {config.loop_seeds} x {config.loop_rounds}")
    # NumPy vectorised over seeds.
    x, th = _numpy_instances(rng, S, K, d)
    start = time.perf_counter()
    numpy_oful_vectorised(x, th, rng.normal(size=(config.vec_rounds, S)), delta)
    vec_time = time.perf_counter() - start
    vec_rate = S * config.vec_rounds / vec_time
    log(f"NumPy vectorised: {vec_time:.2f}s for {S} x {config.vec_rounds}")
    return {
        "jax_rate": jax_rate,
        "loop_rate": loop_rate,
        "vec_rate": vec_rate,
        "early_round_s": early,
        "late_round_s": late,
        "compile_s": result.compile_time,
        "mean_regret": float(result.final_regret.mean()),
    }


def format_report(config: Config, r: dict) -> str:
    lines = [
        f"OFUL, d = {config.dim}, K = {config.num_arms}, S = {config.num_seeds} seeds, "
        f"T = {config.num_rounds} (JAX compile {r['compile_s']:.1f}s apart)",
        "",
        "| implementation | seed-rounds / s | JAX speed-up |",
        "| --- | ---: | ---: |",
        f"| JAX (runner, vmap over seeds) | {r['jax_rate']:,.0f} | 1x |",
        f"| NumPy vectorised over seeds | {r['vec_rate']:,.0f} | "
        f"{r['jax_rate'] / r['vec_rate']:,.1f}x |",
        f"| NumPy per-seed loop | {r['loop_rate']:,.0f} | "
        f"{r['jax_rate'] / r['loop_rate']:,.0f}x |",
        "",
        f"per-round cost, first chunk {r['early_round_s'] * 1e3:.3f} ms, last chunk "
        f"{r['late_round_s'] * 1e3:.3f} ms (ratio "
        f"{r['late_round_s'] / r['early_round_s']:.2f}; ~1 = no growth with t, "
        "on an unloaded machine)",
        f"mean final regret (JAX): {r['mean_regret']:.1f}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="S = 200, T = 1,000")
    parser.add_argument("--seeds", type=int, default=None, help="seeds S")
    parser.add_argument("--rounds", type=int, default=None, help="horizon T")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else Config()
    if args.seeds is not None:
        config = dataclasses.replace(config, num_seeds=args.seeds)
    if args.rounds is not None:
        config = dataclasses.replace(config, num_rounds=args.rounds)
    result = run_benchmark(config)
    print(format_report(config, result))
    return result


if __name__ == "__main__":
    script_main(main)
