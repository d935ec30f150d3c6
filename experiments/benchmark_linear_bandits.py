"""Throughput of OFUL in JAX against plain NumPy (d = 10, 50 actions, 10^3 seeds,
T = 10^4), measured in the same run, and per-round cost against the round index.

Implementations of the SAME algorithm (OFUL with the Theorem 2 radius of
Abbasi-Yadkori et al. 2011, lambda = 1, R = 1, S = 1, delta = 1/T; V^{-1} by
Sherman-Morrison, log det V by the determinant lemma; a fresh instance per seed: 50
actions and theta* uniform on the unit sphere, Gaussian noise sd 1), each in two
forms: *direct* widths ``||x_a||^2_{V^{-1}}`` (``O(K d^2)`` per round; works for
changing action sets) and *incremental* widths and estimates for a fixed action set
(rank-one updates, ``O(K d + d^2)`` per round, one arm refreshed exactly per round):

* JAX: ``experiments.runner.run`` (``lax`` loop over rounds, ``vmap`` over seeds, one
  compiled program) of ``oful`` (direct) and ``oful_fixed_actions`` (incremental),
  timed per chunk of rounds (compile time apart).
* NumPy loop: a Python ``for`` over rounds for one seed at a time, NumPy on ``[K, d]``
  arrays (matrix products, no multi-operand ``einsum``). ``loop_repeats`` repeats of
  ``loop_seeds x loop_rounds`` seed-rounds are timed (the two loops' repeats
  interleaved) and the median repeat's throughput is reported.
* NumPy vectorised: a Python ``for`` over rounds, NumPy on ``[S, K, d]`` arrays (all
  seeds at once); ``vec_rounds`` rounds are timed and extrapolated.

Every row reports wall-clock AND CPU-time throughput (``time.process_time`` of this
process; for JAX both from the end of the first chunk to the end of the last), because
on a shared machine wall-clock ratios mostly measure the load at the moment each part
ran. By default the process runs on ONE core (``--cores 1``, set before JAX starts):
every implementation then gets the same single core (the NumPy loops are
single-threaded anyway). ``--cores 0`` uses every allowed core with one XLA CPU device
per core (the runner shards the seeds over the devices); on this 2-core machine that
did not beat one core reliably (see ``restrict_cores``).

Per-round cost independent of t: the JAX runs are timed per chunk; the report gives
the time per round of the first and the last chunk (their ratio should be ~1: no
growth with history; the state is fixed-shape).

Command:

    python -m experiments.benchmark_linear_bandits           # S = 1,000, T = 10^4
    python -m experiments.benchmark_linear_bandits --quick   # S = 200, T = 1,000

Issue target: JAX >= 100x the NumPy per-seed loop. Met on the 2-core CPU this was
developed on (no GPU was lent), by a modest margin: five runs on 2026-12-02
17:17-17:23 UTC (one core, load average 1-2) gave 103.8x-135.1x against the
incremental loop and 107.6x-131.9x against the direct loop (JAX 3.8-4.2M seed-rounds
per second, the loops 29-39k; CPU-time and wall ratios agree within 0.2%); per-round
cost flat in t (last / first chunk 0.75-1.12). A loop at the fastest rate measured
in an earlier session (45k) would put a run at ~90x. ``--cores 0`` (two XLA devices)
was slower: 89x / 87x wall. The README's OFUL benchmark section has the tables and
what was tried. Timings depend on the machine and its load; the ratios are the
result.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import time
from collections.abc import Sequence

import jax
import numpy as np

from algorithms.bandits.linear import oful, oful_fixed_actions
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
    loop_seeds: int = 4  # seeds per timed repeat of the NumPy per-seed loop
    loop_rounds: int = 2_500  # rounds per seed timed for the NumPy loop
    loop_repeats: int = 5  # timed repeats of each loop (median rate reported)
    vec_rounds: int = 500  # rounds timed for the vectorised NumPy
    cores: int = 1  # CPU cores the process may use, one XLA CPU device each (0: all)
    seed: int = 0  # PRNG seed


QUICK = Config(
    num_seeds=200, num_rounds=1_000, loop_rounds=500, loop_repeats=3, vec_rounds=200
)


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
        width = np.sqrt(np.maximum(np.sum((features @ V_inv) * features, 1), 0))
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
        quad = np.sum(np.matmul(features, V_inv) * features, axis=-1)
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


def numpy_oful_fixed_loop(features, theta, noise, delta: float):
    """:func:`numpy_oful_loop` with the widths ``g_a = ||x_a||^2_{V^{-1}}`` and the
    estimates ``<x_a, theta_hat>`` kept per arm and updated by rank-one identities
    (the algorithm of ``algorithms.bandits.linear.oful_fixed_actions``, one arm
    refreshed per round)."""
    K, d = features.shape
    V_inv, b, log_det = np.eye(d), np.zeros(d), 0.0
    g = np.sum(features * features, axis=1)
    m = np.zeros(K)  # <x_a, theta_hat> by recursive least squares
    mu = features @ theta
    actions = np.empty(noise.shape[0], np.int64)
    regret = 0.0
    for t in range(noise.shape[0]):
        index = m + _radius(log_det, d, delta) * np.sqrt(g)
        a = int(np.argmax(index))
        x = features[a]
        u = V_inv @ x
        denom = 1.0 + x @ u
        y = mu[a] + noise[t]
        Xu = features @ u
        g = g - Xu**2 / denom
        m = m + Xu * ((y - m[a]) / denom)
        V_inv = V_inv - np.outer(u, u) / denom
        V_inv = 0.5 * (V_inv + V_inv.T)
        log_det += math.log(denom)
        b = b + y * x
        j = t % K
        g[j] = features[j] @ V_inv @ features[j]
        m[j] = features[j] @ (V_inv @ b)
        g = np.maximum(g, 0.0)
        actions[t] = a
        regret += mu.max() - mu[a]
    return actions, regret


def numpy_oful_fixed_vectorised(features, theta, noise, delta: float):
    """:func:`numpy_oful_fixed_loop` for all seeds at once (``[S, K, d]``)."""
    S, K, d = features.shape
    V_inv = np.broadcast_to(np.eye(d), (S, d, d)).copy()
    b, log_det = np.zeros((S, d)), np.zeros(S)
    g = np.sum(features * features, axis=-1)
    m = np.zeros((S, K))
    mu = np.einsum("skd,sd->sk", features, theta)
    best = mu.max(axis=1)
    regret = np.zeros(S)
    rows = np.arange(S)
    for t in range(noise.shape[0]):
        index = m + _radius(log_det, d, delta)[:, None] * np.sqrt(g)
        a = np.argmax(index, axis=1)
        x = features[rows, a]
        u = np.einsum("sde,se->sd", V_inv, x)
        denom = 1.0 + np.einsum("sd,sd->s", x, u)
        y = mu[rows, a] + noise[t]
        Xu = np.einsum("skd,sd->sk", features, u)
        g = g - Xu**2 / denom[:, None]
        m = m + Xu * ((y - m[rows, a]) / denom)[:, None]
        V_inv = V_inv - np.einsum("sd,se->sde", u, u) / denom[:, None, None]
        V_inv = 0.5 * (V_inv + np.swapaxes(V_inv, 1, 2))
        log_det += np.log(denom)
        b = b + y[:, None] * x
        xj = features[:, t % K]
        g[:, t % K] = np.einsum("sd,sde,se->s", xj, V_inv, xj)
        m[:, t % K] = np.einsum("sd,sde,se->s", xj, V_inv, b)
        g = np.maximum(g, 0.0)
        regret += best - mu[rows, a]
    return regret


def _numpy_instances(rng, S: int, K: int, d: int):
    x = rng.normal(size=(S, K, d))
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    th = rng.normal(size=(S, d))
    th /= np.linalg.norm(th, axis=-1, keepdims=True)
    return x, th


def _timed(fn, *args):
    """(result, wall seconds, CPU seconds of this process) of ``fn(*args)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _run_jax(learner, env, config: Config, log) -> dict:
    """Runs ``learner`` through the runner, timing each chunk (wall and CPU)."""
    S, T = config.num_seeds, config.num_rounds
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
        callback=lambda done: stamps.append(
            (done, time.perf_counter(), time.process_time())
        ),
    )
    # Per-chunk wall seconds: the first chunk starts wall_time before the last ends.
    ends = [s[1] for s in stamps]
    times = np.diff([ends[-1] - result.wall_time, *ends])
    # Throughput from the end of the first chunk to the end of the last, wall and
    # CPU: the first chunk also pays one-time costs (with one XLA device per core it
    # ran up to ~8x slower per round than the later chunks, measured).
    done0, done1 = stamps[0][0], stamps[-1][0]
    wall = stamps[-1][1] - stamps[0][1]
    cpu = stamps[-1][2] - stamps[0][2]
    steady = done1 > done0 and wall > 0 and cpu > 0
    rate = S * (done1 - done0) / wall if steady else S * T / result.wall_time
    cpu_rate = S * (done1 - done0) / cpu if steady else np.nan
    log(
        f"JAX: {result.wall_time:.2f}s for {S} x {T} "
        f"(compile {result.compile_time:.1f}s)"
    )
    return {
        "rate": rate,
        "cpu_rate": cpu_rate,
        "early_round_s": times[0] / chunk,
        "late_round_s": times[-1] / chunk,
        "compile_s": result.compile_time,
        "mean_regret": float(result.final_regret.mean()),
    }


def restrict_cores(cores: int) -> list[int]:
    """Lets this process run on its first ``cores`` allowed CPUs (all when 0), with ONE
    XLA CPU device per CPU; must run before JAX's first computation (JAX raises
    ``RuntimeError`` otherwise).

    The runner shards the seeds over ``jax.devices()``, so with one device per core
    each core runs its share of the seeds (1,000 seeds on 2 cores: 500 each) in its
    own program, with identical results (the runner's per-seed keys do not depend on
    the sharding; tested). On this 2-core machine that did not pay: one early run gave
    5.2M wall seed-rounds/s against 3.4M for one device on both cores, but repeated
    runs gave 3.3-4.4M against 2.3-4.8M (the machine's noise), and the full benchmark
    3.0M against 3.8-4.2M for one core (2026-12-02); hence the default of one core.
    """
    allowed = sorted(os.sched_getaffinity(0))
    if cores > 0:
        allowed = allowed[:cores]
    jax.config.update("jax_num_cpu_devices", len(allowed))
    os.sched_setaffinity(0, allowed)
    return allowed


def run_benchmark(config: Config, log=print) -> dict:
    d, K, S, T = config.dim, config.num_arms, config.num_seeds, config.num_rounds
    delta = 1.0 / T
    hyper = dict(regularization=1.0, noise_std=1.0, theta_bound=1.0, delta=delta)
    env = random_linear_bandit(d, K, noise_std=1.0)
    results = {
        "jax_fixed": _run_jax(oful_fixed_actions(d, K, **hyper), env, config, log),
        "jax_direct": _run_jax(oful(d, **hyper), env, config, log),
    }
    rng = np.random.default_rng(config.seed)
    # NumPy per-seed loops (direct widths, and incremental widths): the two loops'
    # repeats are interleaved, and the median repeat's rate is reported (the spread
    # of the repeats is logged).
    x, th = _numpy_instances(rng, config.loop_seeds, K, d)
    noise = rng.normal(size=(config.loop_seeds, config.loop_rounds))
    n = config.loop_seeds * config.loop_rounds
    loops = (("loop_direct", numpy_oful_loop), ("loop_fixed", numpy_oful_fixed_loop))
    rates = {name: ([], []) for name, _ in loops}
    for _ in range(config.loop_repeats):
        for name, fn in loops:

            def loop(fn=fn):
                for s in range(config.loop_seeds):
                    fn(x[s], th[s], noise[s], delta)

            _, wall, cpu = _timed(loop)
            rates[name][0].append(n / wall)
            rates[name][1].append(n / cpu)
    for name, (wall_rates, cpu_rates) in rates.items():
        results[name] = {
            "rate": float(np.median(wall_rates)),
            "cpu_rate": float(np.median(cpu_rates)),
        }
        log(
            f"NumPy {name}: {config.loop_repeats} repeats of {config.loop_seeds} x "
            f"{config.loop_rounds}; CPU seed-rounds/s min {min(cpu_rates):,.0f} "
            f"median {np.median(cpu_rates):,.0f} max {max(cpu_rates):,.0f}"
        )
    # NumPy vectorised over seeds.
    x, th = _numpy_instances(rng, S, K, d)
    noise = rng.normal(size=(config.vec_rounds, S))
    n = S * config.vec_rounds
    for name, fn in (
        ("vec_direct", numpy_oful_vectorised),
        ("vec_fixed", numpy_oful_fixed_vectorised),
    ):
        _, wall, cpu = _timed(fn, x, th, noise, delta)
        results[name] = {"rate": n / wall, "cpu_rate": n / cpu}
        log(f"NumPy {name}: {wall:.2f}s for {S} x {config.vec_rounds}")
    return results


ROWS = (
    ("jax_fixed", "JAX `oful_fixed_actions` (runner, vmap), O(Kd + d^2) per round"),
    ("jax_direct", "JAX `oful` (runner, vmap), O(K d^2) per round"),
    ("vec_fixed", "NumPy vectorised over seeds, incremental widths"),
    ("vec_direct", "NumPy vectorised over seeds, direct widths"),
    ("loop_fixed", "NumPy per-seed loop, incremental widths"),
    ("loop_direct", "NumPy per-seed loop, direct widths"),
)


def format_report(config: Config, r: dict) -> str:
    ref = r["jax_fixed"]
    lines = [
        f"OFUL, d = {config.dim}, K = {config.num_arms}, S = {config.num_seeds} seeds, "
        f"T = {config.num_rounds} (JAX compile {ref['compile_s']:.1f}s and "
        f"{r['jax_direct']['compile_s']:.1f}s apart)",
        *(
            [
                f"CPUs used: {r['cores']} (one XLA CPU device each; the NumPy "
                "implementations are single-threaded); 1-min load average "
                f"{r['load'][0]:.1f} at the start, {r['load'][1]:.1f} at the end"
            ]
            if "cores" in r
            else []
        ),
        "",
        "| implementation | seed-rounds / s (wall) | seed-rounds / s (CPU) "
        "| `oful_fixed_actions` speed-up, wall | CPU |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, label in ROWS:
        row = r[key]
        lines.append(
            f"| {label} | {row['rate']:,.0f} | {row['cpu_rate']:,.0f} | "
            f"{ref['rate'] / row['rate']:,.1f}x | "
            f"{ref['cpu_rate'] / row['cpu_rate']:,.1f}x |"
        )
    for key in ("jax_fixed", "jax_direct"):
        row = r[key]
        lines.append(
            f"{key}: per-round wall cost, first chunk {row['early_round_s'] * 1e3:.3f}"
            f" ms, last chunk {row['late_round_s'] * 1e3:.3f} ms (ratio "
            f"{row['late_round_s'] / row['early_round_s']:.2f}; ~1 = no growth with "
            f"t on an unloaded machine); mean final regret {row['mean_regret']:.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="S = 200, T = 1,000")
    parser.add_argument("--seeds", type=int, default=None, help="seeds S")
    parser.add_argument("--rounds", type=int, default=None, help="horizon T")
    parser.add_argument(
        "--cores",
        type=int,
        default=None,
        help="CPU cores this process may use, one XLA CPU device each (default 1: "
        "every implementation on one core; 0: all allowed cores)",
    )
    args = parser.parse_args(argv)
    config = QUICK if args.quick else Config()
    if args.seeds is not None:
        config = dataclasses.replace(config, num_seeds=args.seeds)
    if args.rounds is not None:
        config = dataclasses.replace(config, num_rounds=args.rounds)
    if args.cores is not None:
        config = dataclasses.replace(config, cores=args.cores)
    cores = restrict_cores(config.cores)
    load = os.getloadavg()[0]
    result = run_benchmark(config)
    result["cores"] = cores
    result["load"] = (load, os.getloadavg()[0])
    print(format_report(config, result))
    return result


if __name__ == "__main__":
    script_main(main)
