"""Throughput of EGPO (tabular, exact feedback) on 10 x 10 random preference games:
games x iterations per second, JAX against NumPy, measured in the same run.

* JAX: ``experiments.runner.run`` with ``random_preference_game`` (each seed draws its
  own game and regularised equilibrium inside the compiled program); one EGPO iteration
  is two rounds; every round the env also computes the duality gap, the KL to the
  equilibrium, both players' regrets and the average iterate's gap. A short call
  compiles and warms up; a second call of the full horizon is timed.
* JAX learner: the same EGPO learner's ``act`` / ``update`` with ``P q`` and the
  duality gap computed inline, ``jit(vmap(scan))`` over games: the same work per
  iteration as the NumPy versions (the fair comparison of the update itself).
* NumPy loop: a Python ``for`` over iterations for one game at a time (``[n]`` arrays),
  the same EGPO update (two mirror steps from ``P pi_t`` and ``P pi_{t+1/2}``) and the
  duality gap of ``pi_t`` every iteration; a few games are timed and the cost per
  game-iteration extrapolated.
* NumPy vectorised: the same over ``[G, n]`` arrays (``einsum`` over all games).

``tests/nash/test_benchmark_nash.py`` checks that the NumPy and JAX implementations
produce the same iterates on the same game.

Command:

    python -m experiments.benchmark_nash          # 10 / 1,000 / 10,000 games, 500 its
    python -m experiments.benchmark_nash --quick  # 10 / 1,000 games, 100 iterations

Expected: JAX's throughput grows with the number of games (the per-iteration overhead
is shared), NumPy's loop is flat and slow; the vectorised NumPy closes the gap at
10,000 games where both are bound by arithmetic. Ratios, not absolute times, are the
result (and depend on the machine's load).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence

import jax
import numpy as np

from algorithms.nash import egpo
from envs.games import random_preference_game
from experiments.runner import run


@dataclasses.dataclass(frozen=True)
class Config:
    num_games: tuple[int, ...] = (10, 1_000, 10_000)  # games at once
    num_iterations: int = 500  # EGPO iterations (= 2 x rounds)
    num_responses: int = 10  # n
    beta: float = 0.1  # KL strength
    eta: float = 0.5  # EGPO step
    loop_games: int = 3  # games timed in the per-game NumPy loop


QUICK = Config(num_games=(10, 1_000), num_iterations=100)


def numpy_random_games(rng: np.random.Generator, num_games: int, n: int) -> np.ndarray:
    u = rng.uniform(size=(num_games, n, n))
    low = np.tril(u, -1)
    return low + np.transpose(np.tril(1 - u, -1), (0, 2, 1)) + 0.5 * np.eye(n)


def _log_normalise(v):
    m = v.max(-1, keepdims=True)
    return v - (m + np.log(np.exp(v - m).sum(-1, keepdims=True)))


def numpy_gap(P, logits, log_mu, beta):
    """Duality gap of the symmetric pair (pi, pi), batched:
    ``2 (V(pi) + beta KL(pi || mu) - pi^T P pi)``."""
    pi = np.exp(logits)
    g = np.einsum("...ij,...j->...i", P, pi)
    s = log_mu + g / beta
    m = s.max(-1, keepdims=True)
    value = beta * (m[..., 0] + np.log(np.exp(s - m).sum(-1)))
    kl = (pi * (logits - log_mu)).sum(-1)
    value_pi = np.einsum("...i,...i->...", pi, g)
    return value + beta * kl + value - 2 * value_pi + beta * kl


def numpy_egpo(P, num_iterations, beta, eta):
    """EGPO on a batch of games ``P [..., n, n]``; returns final logits and gaps."""
    n = P.shape[-1]
    log_mu = np.full(n, -np.log(n))
    logits = np.broadcast_to(log_mu, P.shape[:-1]).copy()
    gaps = []
    for _ in range(num_iterations):
        gaps.append(numpy_gap(P, logits, log_mu, beta))
        g = np.einsum("...ij,...j->...i", P, np.exp(logits))
        base = (1 - eta * beta) * logits + eta * beta * log_mu
        half = _log_normalise(base + eta * g)
        g_half = np.einsum("...ij,...j->...i", P, np.exp(half))
        logits = _log_normalise(base + eta * g_half)
    return logits, np.asarray(gaps)


def time_jax(config: Config, num_games: int) -> tuple[float, float]:
    env = random_preference_game(config.num_responses, beta=config.beta)
    learner = egpo(config.num_responses, eta=config.eta)
    rounds = 2 * config.num_iterations
    run(
        learner,
        env,
        rounds,
        key=jax.random.key(0),
        num_seeds=num_games,
        record=np.array([rounds]),
        progress=False,
    )  # compile + warm up
    result = run(
        learner,
        env,
        rounds,
        key=jax.random.key(1),
        num_seeds=num_games,
        record=np.array([rounds]),
        progress=False,
    )
    return num_games * config.num_iterations / result.wall_time, result.compile_time


def jax_kernel(config: Config):
    """Our EGPO learner (its act / update) with the feedback ``P q`` and the duality
    gap computed inline: the same work per iteration as :func:`numpy_egpo`, without
    the runner's env bookkeeping (regrets, KL, average iterate, Kahan sums)."""
    import jax.numpy as jnp

    from envs.games import GameFeedback, GameObs, duality_gap

    n = config.num_responses
    learner = egpo(n, eta=config.eta)
    mu = jnp.full((n,), 1.0 / n)
    obs = GameObs(jnp.asarray(config.beta), mu, mu)

    def one_game(P):
        def body(state, _):
            pi = jnp.exp(state.logits)
            gap = duality_gap(P, pi, pi, mu, mu, config.beta)
            for _ in range(2):  # the two rounds of one iteration
                action, state = learner.act(None, state, obs)
                state = learner.update(
                    state, obs, action, GameFeedback(P @ action.qy, P.T @ action.qx)
                )
            return state, gap

        state, gaps = jax.lax.scan(
            body, learner.init(None), None, length=config.num_iterations
        )
        return state.logits, gaps

    return jax.jit(jax.vmap(one_game))


def time_jax_kernel(config: Config, num_games: int) -> float:
    fn = jax_kernel(config)
    P = np.asarray(
        numpy_random_games(np.random.default_rng(0), num_games, config.num_responses),
        np.float32,
    )
    jax.block_until_ready(fn(P))
    start = time.perf_counter()
    jax.block_until_ready(fn(P))
    return num_games * config.num_iterations / (time.perf_counter() - start)


def time_numpy(config: Config, num_games: int, loop: bool) -> float:
    rng = np.random.default_rng(0)
    if loop:
        games = min(num_games, config.loop_games)
        P = numpy_random_games(rng, games, config.num_responses)
        start = time.perf_counter()
        for g in range(games):
            numpy_egpo(P[g], config.num_iterations, config.beta, config.eta)
        return games * config.num_iterations / (time.perf_counter() - start)
    P = numpy_random_games(rng, num_games, config.num_responses)
    start = time.perf_counter()
    numpy_egpo(P, config.num_iterations, config.beta, config.eta)
    return num_games * config.num_iterations / (time.perf_counter() - start)


def run_benchmark(config: Config, log=print) -> list[dict]:
    rows = []
    for G in config.num_games:
        ours, compile_s = time_jax(config, G)
        kernel = time_jax_kernel(config, G)
        loop = time_numpy(config, G, loop=True)
        vec = time_numpy(config, G, loop=False)
        row = dict(
            games=G,
            jax=ours,
            kernel=kernel,
            numpy_loop=loop,
            numpy_vec=vec,
            compile_s=compile_s,
        )
        log(
            f"{G:>7,} games: JAX runner {ours:,.0f}  JAX learner {kernel:,.0f}  "
            f"NumPy loop {loop:,.0f}  NumPy vectorised {vec:,.0f} game-iterations/s"
        )
        rows.append(row)
    return rows


def format_report(rows, config: Config) -> str:
    lines = [
        f"EGPO, {config.num_responses}x{config.num_responses} games, "
        f"{config.num_iterations} iterations, backend {jax.default_backend()} "
        "(games x iterations per second)",
        "",
        "| games | JAX runner | JAX learner | NumPy loop | NumPy vectorised "
        "| learner / loop | learner / vectorised | runner / vectorised | compile (s) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['games']:,} | {r['jax']:,.0f} | {r['kernel']:,.0f} | "
            f"{r['numpy_loop']:,.0f} | {r['numpy_vec']:,.0f} | "
            f"{r['kernel'] / r['numpy_loop']:.1f}x | "
            f"{r['kernel'] / r['numpy_vec']:.1f}x | "
            f"{r['jax'] / r['numpy_vec']:.1f}x | {r['compile_s']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else Config()
    rows = run_benchmark(config)
    print()
    print(format_report(rows, config))
    return rows


if __name__ == "__main__":
    main()
