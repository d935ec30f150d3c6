"""What every experiment script shares: command-line overrides, output paths, timing."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from envs.core import check_int

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "figures"
QUICK_OUT = ROOT / "results" / "quick"


def parse_names(value: str | Sequence[str], known: Sequence[str], what: str) -> tuple:
    """A comma-separated list (or sequence) of names, each checked against ``known``."""
    names = (
        [n.strip() for n in value.split(",")] if isinstance(value, str) else list(value)
    )
    names = [n for n in names if n]
    if not names:
        raise ValueError(f"no {what} given; choose from {', '.join(known)}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; choose from {', '.join(known)}")
    return tuple(names)


def base_parser(doc: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=doc.strip().splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small run (minutes on 2 CPU cores), written to results/quick/",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: figures/, or results/quick/ with --quick)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results of a different configuration at --out",
    )
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed")
    return parser


def out_dir(args) -> Path:
    if args.out is not None:
        return args.out
    return QUICK_OUT if args.quick else FIGURES


def script_main(main: Callable[[Sequence[str] | None], object]) -> None:
    """Runs ``main`` turning a ValueError into a one-line error and exit status 2."""
    try:
        main(sys.argv[1:])
    except (ValueError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def drive(
    argv, *, doc: str, name: str, config, quick, run_fn, plot_fn, known_algorithms=()
):
    """The main() of a figure script.

    Parses ``--quick --out --overwrite --seed`` and, when the Config has them,
    ``--seeds`` (num_seeds), ``--rounds`` (num_rounds) and ``--algorithms``; checks the
    output can be written BEFORE running; runs, saves results (npz + JSON sidecar) and
    plots.
    """
    from experiments.results import check_writable, save_results

    fields = {f.name for f in dataclasses.fields(config)}
    parser = base_parser(doc)
    if "algorithms" in fields:
        parser.add_argument(
            "--algorithms",
            default=None,
            help=f"comma-separated subset of: {', '.join(known_algorithms)}",
        )
    if "num_seeds" in fields:
        parser.add_argument("--seeds", type=int, default=None, help="seeds per point")
    if "num_rounds" in fields:
        parser.add_argument("--rounds", type=int, default=None, help="horizon T")
    args = parser.parse_args(argv)
    config = quick if args.quick else config
    overrides = {"seed": args.seed} if "seed" in fields else {}
    if getattr(args, "algorithms", None) is not None:
        overrides["algorithms"] = parse_names(
            args.algorithms, known_algorithms, "algorithm"
        )
    if getattr(args, "seeds", None) is not None:
        overrides["num_seeds"] = args.seeds
    if getattr(args, "rounds", None) is not None:
        overrides["num_rounds"] = args.rounds
    config = dataclasses.replace(config, **overrides)
    for field in ("num_seeds", "num_rounds"):
        if hasattr(config, field):
            check_int(getattr(config, field), field)
    out = out_dir(args)
    check_writable(out / name, config, overwrite=args.overwrite)
    result = run_fn(config)
    save_results(
        out / name,
        result["arrays"],
        config,
        timings=result.get("timings"),
        overwrite=args.overwrite,
    )
    plot_fn(result["arrays"], config, out / f"{name}.png")
    print(f"wrote {out / name}.png")
    return result


def run_timing(result, start: float | None = None, **extra) -> dict:
    """A runner result's timings for a figure's sidecar: ``compile_s`` and ``run_s``
    (``result.compile_time`` / ``wall_time``), ``total_s`` from ``start`` (a
    ``time.perf_counter()`` stamp) when given, then ``extra``; seconds to 3 decimals.
    """
    timing = {
        "compile_s": round(result.compile_time, 3),
        "run_s": round(result.wall_time, 3),
    }
    if start is not None:
        timing["total_s"] = round(time.perf_counter() - start, 3)
    return {**timing, **extra}


def run_learners(
    learners: Mapping[str, Any],
    env,
    num_rounds: int,
    *,
    num_seeds: int,
    seed: int,
    instances=None,
    record="log",
    metrics: Sequence[str] = ("regret",),
    prefix: str = "",
    progress: bool = False,
) -> dict:
    """Runs each learner (name -> Learner) with the same key, hence the same instances
    and environment draws (common random numbers): one compiled program per learner
    over instances x seeds.

    ``env`` is one ``Env`` for all, or a mapping name -> ``Env`` (learners that need
    different feedback on the same instances). Returns ``{"arrays": {prefix +
    name/metric: [..., M], prefix + "rounds": [M]}, "timings": {prefix + name:
    {compile_s, run_s, total_s}}}``.
    """
    import jax

    from experiments.runner import run

    arrays, timings = {}, {}
    for name, learner in learners.items():
        start = time.perf_counter()
        result = run(
            learner,
            env[name] if isinstance(env, Mapping) else env,
            num_rounds,
            key=jax.random.key(seed),
            num_seeds=num_seeds,
            instances=instances,
            record=record,
            progress=progress,
        )
        for metric in metrics:
            arrays[f"{prefix}{name}/{metric}"] = np.asarray(result.metrics[metric])
        arrays[f"{prefix}rounds"] = result.rounds
        timings[f"{prefix}{name}"] = run_timing(result, start)
    return {"arrays": arrays, "timings": timings}


def episodes_to_accuracy(gap, epsilons, rounds=None, rule: str = "stays"):
    """Episodes until the played policy is epsilon-optimal, per run.

    Args:
        gap: ``[..., K]`` the suboptimality ``V*(s_1) - V^{pi_k}(s_1)`` of the policy
            played in episodes ``k = rounds[0], ..., rounds[-1]`` (default ``1..K``).
        epsilons: ``[E]`` target accuracies (> 0).
        rounds: ``[K]`` the episode of each column (increasing); default ``1..K``.
        rule: ``"stays"``: the first recorded episode from which every later recorded
            policy is epsilon-optimal (the criterion used by the figure); ``"first"``:
            the first recorded episode whose policy is epsilon-optimal.

    Returns:
        ``[E, ...]`` float episodes; ``inf`` where it is never reached (``"stays"``:
        the last policy is not epsilon-optimal; censored at ``rounds[-1]``).
    """
    gap = np.asarray(gap, np.float64)
    epsilons = np.asarray(epsilons, np.float64)
    if gap.ndim < 1 or gap.shape[-1] == 0:
        raise ValueError(f"gap must have a non-empty last axis, got {gap.shape}")
    if epsilons.ndim != 1 or not np.all(epsilons > 0):
        raise ValueError(f"epsilons must be a 1-D array of positives, got {epsilons}")
    if rule not in ("stays", "first"):
        raise ValueError(f"rule must be 'stays' or 'first', got {rule!r}")
    num = gap.shape[-1]
    rounds = np.arange(1, num + 1) if rounds is None else np.asarray(rounds)
    if rounds.shape != (num,) or np.any(np.diff(rounds) <= 0):
        raise ValueError("rounds must be increasing, one per column of gap")
    ok = gap[None] <= epsilons.reshape(-1, *([1] * gap.ndim))  # [E, ..., K]
    if rule == "first":
        reached = ok.any(-1)
        index = np.argmax(ok, axis=-1)
    else:
        # ok from index j to the end <=> the reversed cumulative AND holds at j.
        tail = np.flip(np.logical_and.accumulate(np.flip(ok, -1), axis=-1), -1)
        reached = tail[..., -1]
        index = np.argmax(tail, axis=-1)
    return np.where(reached, rounds[index].astype(np.float64), np.inf)
