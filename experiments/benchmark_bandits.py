"""Throughput of the JAX runner against plain NumPy on 10-armed Bernoulli bandits.

Measures seed-rounds per second for UCB1, KL-UCB and Thompson sampling (Beta-Bernoulli)
at several seed counts, for three implementations of the SAME algorithm:

* JAX: ``experiments.runner.run`` (``lax`` loop over rounds, ``vmap`` over seeds, one
  compiled program). A short call compiles and warms the program up, then a second call
  of the full ``T`` rounds is timed; compile time is reported apart.
* NumPy loop: a Python ``for`` over rounds for one seed at a time, NumPy ops on ``[K]``
  arrays (the obvious reference implementation). It costs ~10 us per seed-round, so
  only a few seeds x rounds are timed and the cost is extrapolated per seed-round.
* NumPy vectorised: a Python ``for`` over rounds, NumPy ops on ``[S, K]`` arrays (all
  seeds at once). ``min(T, 2000)`` rounds are timed per seed count and extrapolated.

Every throughput is reported twice: per wall-clock second (the headline table) and per
process-CPU second (all threads of the process), which other processes on a shared
machine disturb far less than wall time.

Every implementation computes the full index of every arm every round (an arm never
pulled has index ``+inf``), breaks ties by the lowest index and draws one uniform per
round for the Bernoulli reward. The NumPy KL-UCB index (the root of
``N kl(mu, q) = ln t``) runs the same root finder and number of steps as
``algorithms.bandits.stochastic.kl_ucb``; the NumPy Thompson sampling draws
``rng.beta`` per arm. ``tests/test_benchmark.py`` checks that the NumPy UCB1 and KL-UCB
take the same actions as ours on a fixed reward table; the report's last table compares
the mean regret of JAX and vectorised NumPy.

Command:

    python -m experiments.benchmark_bandits               # seeds 100,1000,10000; T=10^4
    python -m experiments.benchmark_bandits --quick       # seeds 100,1000; T = 2,000
    python -m experiments.benchmark_bandits --key-impl unsafe_rbg --markdown bench.md

Expected: JAX throughput grows with the number of seeds (the per-round overhead of the
loop is shared by the batch) and is orders of magnitude above the NumPy loop; against
the vectorised NumPy the advantage is largest at few seeds, where NumPy's per-call
overhead dominates. Timings depend on the machine and its load; ratios are the result.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import numpy as np

from algorithms.core import Learner, float_dtype
from envs.bandits import bernoulli_bandit
from experiments.common import parse_names, script_main
from experiments.runner import log_rounds, run

ALGORITHMS = ("ucb1", "kl_ucb", "thompson_sampling")
LABELS = {"ucb1": "UCB1", "kl_ucb": "KL-UCB", "thompson_sampling": "Thompson (Beta)"}
KEY_IMPLS = ("threefry2x32", "unsafe_rbg")
UCB1_ALPHA = 2.0  # the paper's UCB1: sqrt(2 ln t / N)
KL_UCB_NUM_ITERS = 2  # root-finding (Halley) steps, the same on both sides


@dataclasses.dataclass(frozen=True)
class Config:
    means: tuple[float, ...] = tuple(np.linspace(0.1, 0.9, 10).tolist())  # arm means
    algorithms: tuple[str, ...] = ALGORITHMS  # which learners to time
    seeds: tuple[int, ...] = (100, 1_000, 10_000)  # seed counts (batch sizes) to time
    num_rounds: int = 10_000  # horizon T of the JAX runs
    key_impl: str = "threefry2x32"  # PRNG implementation of the runner's key
    seed: int = 0  # PRNG seed (JAX key and NumPy generator)
    loop_seeds: int = 3  # seeds timed for the NumPy per-seed loop
    max_numpy_rounds: int = 2_000  # rounds timed for NumPy (loop and vectorised)


QUICK = Config(seeds=(100, 1_000), num_rounds=2_000)


# --------------------------------------------------------------------------------------
# The NumPy reference implementations (written from the algorithms' definitions).
# --------------------------------------------------------------------------------------


def numpy_ucb1_index(sums: np.ndarray, counts: np.ndarray, t: int) -> np.ndarray:
    r"""UCB1 indices :math:`\hat\mu_a + \sqrt{2 \ln t / N_a}` (``+inf`` if ``N_a = 0``).

    ``sums``, ``counts``: ``[..., K]``; ``t``: rounds played so far.
    """
    n = counts.astype(np.float64)
    safe_n = np.maximum(n, 1.0)
    index = sums / safe_n + np.sqrt(UCB1_ALPHA * math.log(max(t, 1)) / safe_n)
    return np.where(n > 0, index, np.inf)


def _xlogx(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x * np.log(np.maximum(x, 1e-30)), 0.0)


def numpy_kl_upper_root(
    p: np.ndarray, radius: np.ndarray, num_iters: int
) -> np.ndarray:
    r"""Largest ``q`` in ``[p, 1]`` with ``kl(p, q) <= radius``, by Halley steps.

    The root is sought in ``y = -ln(1 - q)``, where
    :math:`g(y) = \mathrm{kl}(p, 1 - e^{-y}) - r = -H(p) - p \ln(1 - e^{-y})
    + (1 - p) y - r` is convex and increasing on ``[-ln(1 - p), inf)``, with
    :math:`g' = (1 - p) - p / (e^y - 1)` and :math:`g'' = p e^y / (e^y - 1)^2`. Each
    step moves to the root of the second-order model,
    :math:`y \leftarrow y - 2 g / (g' + \sqrt{g'^2 - 2 g g''})` (Halley's irrational
    method). The start is the smallest of four upper bounds on the root, from lower
    bounds on kl (Pinsker; ``(q - p)^2 / (2 q)``; for p >= 1/2,
    ``(q - p)^2 / (2 p (1 - p))``; and ``(1 - p) y - H(p)``). This is the method, start
    and step count of ``algorithms.bandits.stochastic.kl_ucb`` (as of this writing), so
    the per-round work is the same; ``tests/test_benchmark.py`` checks the result
    against bisection on the definition.
    """
    tiny = np.finfo(np.float64).tiny
    q_floor = np.sqrt(tiny)
    lt_one = p < 1.0
    y_min = -np.log(1.0 - np.where(lt_one, p, 0.0))  # y at q = p
    entropy = (1.0 - p) * y_min - _xlogx(p)  # H(p) in nats
    q_pinsker = p + np.sqrt(radius / 2.0)
    q_small = p + radius + np.sqrt(radius * (radius + 2.0 * p))
    q_large = np.where(p >= 0.5, p + np.sqrt(2.0 * p * (1.0 - p) * radius), np.inf)
    q_start = np.minimum(np.minimum(q_pinsker, q_small), q_large)
    below_one = q_start < 1.0
    y_from_q = np.where(
        below_one, -np.log(1.0 - np.where(below_one, q_start, 0.0)), 1.0
    )
    y_from_q = np.where(below_one, y_from_q, np.inf)
    y_linear = (radius + entropy) / np.where(lt_one, 1.0 - p, 1.0)
    y = np.maximum(np.minimum(y_from_q, y_linear), y_min)
    y = np.where(lt_one, y, 1.0)  # p = 1: the answer is 1
    # Lanes with p = 1 (answer 1, set below) may step to y = 0, where ratio / q
    # overflows, exactly as in the JAX version; they are discarded at the end.
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(num_iters):
            gap = np.exp(-y)  # 1 - q
            q = np.maximum(1.0 - gap, q_floor)
            g = -entropy - p * np.log(q) + (1.0 - p) * y - radius
            ratio = p * gap / q  # p / (e^y - 1)
            d1 = np.maximum((1.0 - p) - ratio, 0.0)
            d2 = ratio / q
            discriminant = np.maximum(d1 * d1 - 2.0 * g * d2, 0.0)
            step = 2.0 * g / np.maximum(d1 + np.sqrt(discriminant), tiny)
            y = np.maximum(y - step, y_min)
    q = np.clip(1.0 - np.exp(-y), p, 1.0)
    return np.where(lt_one, q, 1.0)


def numpy_kl_ucb_index(
    sums: np.ndarray, counts: np.ndarray, t: int, num_iters: int = KL_UCB_NUM_ITERS
) -> np.ndarray:
    r"""KL-UCB indices :math:`\max\{q \ge \hat\mu_a : N_a \mathrm{kl}(\hat\mu_a, q) \le
    \ln t\}` (``+inf`` if ``N_a = 0``), Garivier and Cappé (2011) with c = 0."""
    n = counts.astype(np.float64)
    safe_n = np.maximum(n, 1.0)
    mean = np.clip(sums / safe_n, 0.0, 1.0)
    radius = max(math.log(max(t, 1)), 0.0) / safe_n
    index = numpy_kl_upper_root(mean, radius, num_iters)
    return np.where(n > 0, index, np.inf)


def numpy_thompson_sample(
    rng: np.random.Generator, sums: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """One posterior draw per arm, ``Beta(1 + successes, 1 + failures)``."""
    return rng.beta(1.0 + sums, 1.0 + (counts - sums))


IndexFn = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def numpy_index_fn(name: str, rng: np.random.Generator) -> IndexFn:
    """``(sums, counts, t) -> [..., K]`` scores whose first argmax is the action."""
    if name == "ucb1":
        return numpy_ucb1_index
    if name == "kl_ucb":
        return numpy_kl_ucb_index
    if name == "thompson_sampling":
        return lambda sums, counts, t: numpy_thompson_sample(rng, sums, counts)
    raise ValueError(f"unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}")


def numpy_per_seed(
    name: str,
    means: np.ndarray,
    num_rounds: int,
    rng: np.random.Generator,
    reward_table: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """One seed, a Python loop over rounds on ``[K]`` arrays.

    The reward of arm ``a`` in round ``t`` is ``reward_table[t, a]`` when a ``[T, K]``
    table is given, else ``1{u_t < means[a]}`` with one uniform ``u_t`` per round.

    Returns:
      ``([T] actions, cumulative pseudo-regret)``.
    """
    index_fn = numpy_index_fn(name, rng)
    num_arms = means.shape[0]
    gaps = means.max() - means
    counts = np.zeros(num_arms, np.int64)
    sums = np.zeros(num_arms)
    actions = np.empty(num_rounds, np.int64)
    regret = 0.0
    for t in range(num_rounds):
        arm = int(np.argmax(index_fn(sums, counts, t)))
        if reward_table is None:
            reward = float(rng.random() < means[arm])
        else:
            reward = float(reward_table[t, arm])
        counts[arm] += 1
        sums[arm] += reward
        regret += gaps[arm]
        actions[t] = arm
    return actions, regret


def numpy_vectorised(
    name: str,
    means: np.ndarray,
    num_rounds: int,
    num_seeds: int,
    rng: np.random.Generator,
    reward_table: np.ndarray | None = None,
    record_actions: bool = False,
) -> tuple[np.ndarray | None, np.ndarray]:
    """All seeds at once, a Python loop over rounds on ``[S, K]`` arrays.

    Rewards as in :func:`numpy_per_seed` (one uniform per seed and round, or the same
    ``[T, K]`` table for every seed).

    Returns:
      ``([T, S] actions or None, [S] cumulative pseudo-regret)``.
    """
    index_fn = numpy_index_fn(name, rng)
    num_arms = means.shape[0]
    gaps = means.max() - means
    counts = np.zeros((num_seeds, num_arms), np.int64)
    sums = np.zeros((num_seeds, num_arms))
    rows = np.arange(num_seeds)
    regret = np.zeros(num_seeds)
    actions = np.empty((num_rounds, num_seeds), np.int64) if record_actions else None
    for t in range(num_rounds):
        arms = np.argmax(index_fn(sums, counts, t), axis=1)
        if reward_table is None:
            rewards = (rng.random(num_seeds) < means[arms]).astype(np.float64)
        else:
            rewards = reward_table[t, arms]
        counts[rows, arms] += 1
        sums[rows, arms] += rewards
        regret += gaps[arms]
        if actions is not None:
            actions[t] = arms
    return actions, regret


# --------------------------------------------------------------------------------------
# Our learners, through the real runner.
# --------------------------------------------------------------------------------------


def make_learner(name: str, num_arms: int) -> Learner:
    """The project's learner for ``name``, tuned like the NumPy references."""
    if name == "ucb1":
        from algorithms.bandits.stochastic import ucb1

        return ucb1(num_arms, alpha=UCB1_ALPHA)
    if name == "kl_ucb":
        from algorithms.bandits.stochastic import kl_ucb

        return kl_ucb(num_arms, num_iters=KL_UCB_NUM_ITERS)
    if name == "thompson_sampling":
        from algorithms.bandits.bayesian import thompson_sampling

        return thompson_sampling(num_arms)
    raise ValueError(f"unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}")


@dataclasses.dataclass(frozen=True)
class JaxTiming:
    throughput: float  # seed-rounds per second of the timed call
    cpu_throughput: float  # seed-rounds per process-CPU second (all threads)
    compile_time: float  # seconds, from the warm-up call
    regret_at: np.ndarray  # [S] cumulative regret at the NumPy-timed round


def time_jax(learner: Learner, config: Config, num_seeds: int, check_round: int):
    """Warm-up (compiles) then timed call of ``run``; the same learner object for both.

    The timed call records on a log grid plus ``check_round``; the warm-up plays as many
    rounds as there are records, so the two calls share one compiled program (the chunk
    program does not depend on T) and the warm-up costs next to nothing.
    """
    env = bernoulli_bandit(config.means)
    key = jax.random.key(config.seed, impl=config.key_impl)
    record = np.unique(np.append(log_rounds(config.num_rounds), check_round))
    num_records = len(record)
    warm = run(
        learner,
        env,
        num_records,
        key=key,
        num_seeds=num_seeds,
        record=np.arange(1, num_records + 1),
        progress=False,
    )
    cpu_start = time.process_time()
    timed = run(
        learner,
        env,
        config.num_rounds,
        key=key,
        num_seeds=num_seeds,
        record=record,
        progress=False,
    )
    cpu = time.process_time() - cpu_start
    column = int(np.searchsorted(record, check_round))
    return JaxTiming(
        throughput=num_seeds * config.num_rounds / timed.wall_time,
        cpu_throughput=num_seeds * config.num_rounds / max(cpu, 1e-9),
        compile_time=warm.compile_time,
        regret_at=np.asarray(timed.regret[:, column], np.float64),
    )


# --------------------------------------------------------------------------------------
# The benchmark.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    algorithm: str
    seeds: int
    jax: float  # seed-rounds/s
    compile_s: float
    numpy_loop: float  # seed-rounds/s (extrapolated per seed-round)
    numpy_vectorised: float  # seed-rounds/s (extrapolated to T)
    jax_regret: float  # mean regret at round `check_round`, JAX
    numpy_regret: float  # same, vectorised NumPy (independent draws)
    regret_se: float  # standard error of the difference of the two means
    jax_cpu: float = math.nan  # seed-rounds per process-CPU second, JAX (all threads)
    numpy_loop_cpu: float = math.nan  # same, NumPy loop
    numpy_vectorised_cpu: float = math.nan  # same, NumPy vectorised

    @property
    def ratio_loop(self) -> float:
        return self.jax / self.numpy_loop

    @property
    def ratio_vectorised(self) -> float:
        return self.jax / self.numpy_vectorised


def run_benchmark(config: Config, *, log: Callable[[str], None] = print) -> dict:
    means = np.asarray(config.means, np.float64)
    num_arms = means.shape[0]
    numpy_rounds = min(config.num_rounds, config.max_numpy_rounds)
    rows = []
    for name in config.algorithms:
        # One learner object for both calls: the runner caches programs per learner.
        learner = make_learner(name, num_arms)
        rng = np.random.default_rng(config.seed)
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(config.loop_seeds):
            numpy_per_seed(name, means, numpy_rounds, rng)
        loop = config.loop_seeds * numpy_rounds / (time.perf_counter() - start)
        loop_cpu = config.loop_seeds * numpy_rounds / (time.process_time() - cpu_start)
        for num_seeds in config.seeds:
            timing = time_jax(learner, config, num_seeds, numpy_rounds)
            start, cpu_start = time.perf_counter(), time.process_time()
            _, np_regret = numpy_vectorised(name, means, numpy_rounds, num_seeds, rng)
            vectorised = num_seeds * numpy_rounds / (time.perf_counter() - start)
            vectorised_cpu = (
                num_seeds * numpy_rounds / max(time.process_time() - cpu_start, 1e-9)
            )
            variance = timing.regret_at.var(ddof=1) + np_regret.var(ddof=1)
            se = math.sqrt(variance / num_seeds) if num_seeds > 1 else float("nan")
            row = Row(
                algorithm=name,
                seeds=num_seeds,
                jax=timing.throughput,
                compile_s=timing.compile_time,
                numpy_loop=loop,
                numpy_vectorised=vectorised,
                jax_regret=float(timing.regret_at.mean()),
                numpy_regret=float(np_regret.mean()),
                regret_se=se,
                jax_cpu=timing.cpu_throughput,
                numpy_loop_cpu=loop_cpu,
                numpy_vectorised_cpu=vectorised_cpu,
            )
            rows.append(row)
            log(
                f"  {LABELS[name]:>16} x {num_seeds:>6} seeds: JAX {row.jax:.3g}/s "
                f"(compile {row.compile_s:.2f} s), NumPy loop {loop:.3g}/s, "
                f"vectorised {vectorised:.3g}/s"
            )
    return {"rows": rows, "numpy_rounds": numpy_rounds}


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # not available on every platform
        return "n/a"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def format_report(
    config: Config, rows: Sequence[Row], numpy_rounds: int, machine: str = ""
) -> str:
    device = jax.devices()[0]
    means = ", ".join(f"{m:.3g}" for m in config.means)
    lines = [
        "## Bandit throughput: JAX runner vs NumPy",
        "",
        f"- {len(config.means)} Bernoulli arms, means [{means}]; T = "
        f"{config.num_rounds:,} rounds; PRNG key impl: `{config.key_impl}`; JAX "
        f"{jax.__version__} on {device.platform} ({device.device_kind}, "
        f"{jax.device_count()} device(s)), {np.dtype(float_dtype()).name}; NumPy "
        f"{np.__version__} (float64); Python {platform.python_version()}.",
        f"- Machine: {machine or platform.machine()}.",
        "- Throughput in seed-rounds per second. JAX: `experiments.runner.run`, the "
        "full T rounds timed on the second call (compile excluded; `compile s` is "
        "reported apart, from the first call).",
        "- NumPy loop (one seed at a time, [K] arrays): EXTRAPOLATED from "
        f"{config.loop_seeds} seeds x {numpy_rounds:,} rounds per algorithm; it does "
        "not depend on the number of seeds, so every row of an algorithm shows the "
        "same figure.",
        (
            "- NumPy vectorised ([S, K] arrays): EXTRAPOLATED from the first "
            f"{numpy_rounds:,} of the {config.num_rounds:,} rounds for every seed "
            "count (every round costs the same: fixed-shape work)."
            if numpy_rounds < config.num_rounds
            else "- NumPy vectorised ([S, K] arrays): all T rounds timed for every "
            "seed count (not extrapolated)."
        ),
        "- Ratios: JAX throughput / NumPy throughput.",
        "",
        "| algorithm | seeds | JAX seed-rounds/s | compile s "
        "| NumPy-loop seed-rounds/s | NumPy-vectorised seed-rounds/s "
        "| ratio vs loop | ratio vs vectorised |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        cells = [
            LABELS[r.algorithm],
            f"{r.seeds:,}",
            _fmt(r.jax),
            f"{r.compile_s:.2f}",
            _fmt(r.numpy_loop),
            _fmt(r.numpy_vectorised),
            f"{r.ratio_loop:,.0f}x",
            f"{r.ratio_vectorised:,.1f}x",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    by_key = {(r.algorithm, r.seeds): r for r in rows}
    others = [n for n in config.algorithms if n != "ucb1"]
    if "ucb1" in config.algorithms and others:
        lines += [
            "",
            "Throughput relative to UCB1 (JAX, and NumPy vectorised in brackets):",
            "",
            "| seeds | " + " | ".join(f"{LABELS[n]} / UCB1" for n in others) + " |",
            "| ---: |" + " ---: |" * len(others),
        ]
        for s in config.seeds:
            base = by_key[("ucb1", s)]
            cells = []
            for name in others:
                r = by_key[(name, s)]
                numpy_ratio = r.numpy_vectorised / base.numpy_vectorised
                cells.append(f"{r.jax / base.jax:.2f} ({numpy_ratio:.2f})")
            lines.append(f"| {s:,} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "The same measured in process CPU time (seed-rounds per CPU second, all "
        "threads of this process), which other processes on a shared machine disturb "
        "far less than wall time; XLA may run a chunk on several threads, so on an "
        "idle machine JAX's CPU-time throughput is at most its wall-clock one:",
        "",
        "| algorithm | seeds | JAX | NumPy loop | NumPy vectorised "
        "| ratio vs loop | ratio vs vectorised | / UCB1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        base = by_key.get(("ucb1", r.seeds))
        vs_ucb1 = f"{r.jax_cpu / base.jax_cpu:.2f}" if base is not None else "n/a"
        cells = [
            LABELS[r.algorithm],
            f"{r.seeds:,}",
            _fmt(r.jax_cpu),
            _fmt(r.numpy_loop_cpu),
            _fmt(r.numpy_vectorised_cpu),
            f"{r.jax_cpu / r.numpy_loop_cpu:,.0f}x",
            f"{r.jax_cpu / r.numpy_vectorised_cpu:,.1f}x",
            vs_ucb1,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Same algorithm? Mean cumulative regret at round {numpy_rounds:,} (JAX and "
        "NumPy vectorised use independent random draws; the difference should be "
        "within a few standard errors):",
        "",
        "| algorithm | seeds | JAX | NumPy vectorised | difference / s.e. |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        z = (r.jax_regret - r.numpy_regret) / r.regret_se if r.regret_se > 0 else 0.0
        lines.append(
            f"| {LABELS[r.algorithm]} | {r.seeds:,} | {r.jax_regret:.2f} | "
            f"{r.numpy_regret:.2f} | {z:+.1f} |"
        )
    return "\n".join(lines) + "\n"


def _parse_seeds(value: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in value.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes ints like 100,1000, got {value!r}"
        ) from None
    if not seeds or any(s <= 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"--seeds must be positive, got {value!r}")
    return seeds


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seeds",
        type=_parse_seeds,
        default=None,
        help="comma-separated seed counts (default 100,1000,10000)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="horizon T of the JAX runs (default 10000)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seeds 100,1000 and T = 2000 (explicit flags override)",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="also write the report to this Markdown file",
    )
    parser.add_argument(
        "--key-impl",
        choices=KEY_IMPLS,
        default=None,
        help="PRNG implementation of the key passed to the runner",
    )
    parser.add_argument(
        "--algorithms",
        default=None,
        help=f"comma-separated subset of {','.join(ALGORITHMS)} (default: all)",
    )
    parser.add_argument("--seed", type=int, default=None, help="PRNG seed")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else Config()
    overrides = {
        "seeds": args.seeds,
        "num_rounds": args.rounds,
        "key_impl": args.key_impl,
        "seed": args.seed,
    }
    if args.algorithms is not None:
        overrides["algorithms"] = parse_names(args.algorithms, ALGORITHMS, "algorithm")
    config = dataclasses.replace(
        config, **{k: v for k, v in overrides.items() if v is not None}
    )
    if config.num_rounds <= 0:
        raise ValueError(f"--rounds must be positive, got {config.num_rounds}")
    load_before, start = _load(), time.perf_counter()
    result = run_benchmark(config)
    machine = (
        f"{os.cpu_count()} CPUs, 1-min load average {load_before} before and "
        f"{_load()} after; the benchmark took {time.perf_counter() - start:.0f} s "
        "(timings on a loaded machine are lower bounds on throughput)"
    )
    report = format_report(config, result["rows"], result["numpy_rounds"], machine)
    print(report)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.markdown.with_name(args.markdown.name + ".tmp")
        tmp.write_text(report)
        tmp.replace(args.markdown)
    return {"config": config, "rows": result["rows"], "report": report}


if __name__ == "__main__":
    script_main(main)
