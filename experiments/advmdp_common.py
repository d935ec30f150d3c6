"""Running the adversarial-MDP learners on the same seeds, and fitted regret slopes."""

from __future__ import annotations

import numpy as np

from algorithms.adversarial_mdp import ALGORITHMS, REQUIREMENTS, make_learner
from envs.adversarial_mdp import adversarial_mdp
from experiments.common import run_learners


def run_on_sequence(
    names,
    losses: str,
    *,
    num_states: int,
    num_actions: int,
    horizon: int,
    num_episodes: int,
    num_seeds: int,
    seed: int,
    progress: bool = False,
) -> dict:
    """Each named algorithm (default tuning for ``num_episodes``) on random instances
    of the loss sequence ``losses``, with the feedback and transition knowledge it
    needs. The same key gives every algorithm the same instances (the transitions and
    loss parameters depend only on the key), so the curves are paired.

    Returns ``{"arrays": {f"{losses}/{name}/regret": [seeds, M], "rounds": [M]},
    "timings": {...}}``.
    """
    for name in names:
        if name not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {name!r}")
    envs = {
        name: adversarial_mdp(
            num_states, num_actions, horizon, losses=losses, **REQUIREMENTS[name]
        )
        for name in names
    }
    learners = {
        name: make_learner(name, num_states, num_actions, horizon, num_episodes)
        for name in names
    }
    out = run_learners(
        learners,
        envs,
        num_episodes,
        num_seeds=num_seeds,
        seed=seed,
        prefix=f"{losses}/",
        progress=progress,
    )
    out["arrays"]["rounds"] = out["arrays"].pop(f"{losses}/rounds")
    return out


def fitted_slope(rounds: np.ndarray, regret: np.ndarray, low_fraction=0.1) -> float:
    """Least-squares slope of ``log(mean regret)`` on ``log K`` over the recorded
    rounds ``K >= low_fraction * K_max`` (the last decade by default); NaN when the
    mean regret is not positive there."""
    mean = np.mean(regret, axis=0)
    keep = rounds >= low_fraction * rounds[-1]
    if np.any(mean[keep] <= 0):
        return float("nan")
    return float(np.polyfit(np.log(rounds[keep]), np.log(mean[keep]), 1)[0])


# Reference rates of the family's figures: (power of K, label, grey shade).
RATES_SQRT_TWO_THIRDS = ((1 / 2, "K^{1/2}", "0.2"), (2 / 3, "K^{2/3}", "0.6"))
RATES_ISSUE_FIGURE_1 = (
    (1 / 2, "K^{1/2}", "0.1"),
    (2 / 3, "K^{2/3}", "0.45"),
    (8 / 9, "K^{8/9}", "0.7"),
)
RATES_SIMULATOR_FREE = ((8 / 9, "K^{8/9}", "0.2"), (14 / 15, "K^{14/15}", "0.6"))


def plot_rate_references(
    ax, rounds: np.ndarray, anchor: float, rates=RATES_SQRT_TWO_THIRDS
) -> None:
    """Dashed ``K^p`` references (``rates``: ``(p, label, shade)`` triples, default
    K^{1/2} and K^{2/3}) anchored at ``anchor`` at the last round, log-log axes, and a
    lower y-limit that keeps the references' left end visible (0.3 times a slope-1
    line's, so any p <= 1 fits)."""
    from experiments import plotting

    k = rounds[rounds >= 10].astype(float)
    kmax = float(rounds[-1])
    for power, label, shade in rates:
        plotting.reference(
            ax,
            k,
            anchor * (k / kmax) ** power,
            label=f"${label}$ reference",
            color=shade,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom=max(1e-1, 0.3 * anchor * (k[0] / kmax)))
