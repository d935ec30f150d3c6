"""Neural policies on contextual preference games: duality gap of the KL-regularised
contextual game (exact, averaged over prompts) against preference queries for tabular
(one policy per prompt) and flax-MLP (prompt features -> logits, trained with optax)
learners. Top row: EGPO, Online IPO 1 (OMD) and Nash-MD-PG. Bottom row: the
regression / contrastive learners, Nash-MD (tabular and MLP), INPO, DNO (soft-label
regression on on-policy pairs, smoothed reference) and DNO-Prct (DPO on large-margin
winner/loser pairs), with tabular OMD (= tabular INPO) for reference. Two game
families: EGPO random games per prompt with one-hot prompts, and Bradley-Terry rater
mixtures whose utilities are linear in 4-dimensional Gaussian prompt features (the
network sees the features). Mean of log10 gap and its 95% band over games.

Command:

    python -m experiments.nash_neural           # 10 games, 8 prompts, T = 3,000
    python -m experiments.nash_neural --quick   # 2 games, T = 300 -> results/quick/

One round = one prompt drawn uniformly + one preference query for it (EGPO uses two
rounds per iteration); each prompt is visited T / 8 times. Full mode: 22 runs, 8.7
minutes of run time measured on a heavily contended 2-core machine (load ~8).

Expected (and seen in the committed figure, T = 3,000, 10 games per family). Top row:
the tabular learners contract linearly per prompt visit: Online IPO 1 (OMD) reaches
float64 round-off by ~2,000 queries, EGPO (two queries per iteration) ~1e-9 at T,
Nash-MD-PG (a plain policy-gradient step) stalls at 3e-4 (random) / 1e-4 (BT). The
MLP learners (one tanh layer of 64, SGD, 20 regression steps per query; 5 PG steps)
converge too but sublinearly over this horizon: at T the geometric-mean gap is 7e-5
(OMD), 6e-4 (Nash-MD-PG), 2e-3 (EGPO) on the one-hot random games and 1e-3 to 3e-3
on the feature-based BT mixtures; every update of the shared parameters for one
prompt perturbs the other prompts' policies, so the per-visit contraction of the
tabular form is lost. Bottom row: tabular Nash-MD with a constant step (eta = 0.5)
stops at its own fixed point (5e-5 random, 1e-5 BT; its win rates are against the
mixture, a bias O(eta)); the MLP Nash-MD and INPO track MLP OMD (1e-4 / 8e-5 at T
on random games, 1.4e-3 / 1.3e-3 on BT); DNO's soft-label regression on 8 on-policy
samples per query is ~3x slower per query (3e-3 on both families: only the sampled
responses are fitted each round); DNO-Prct does not converge: with hard labels the
20 SGD steps push the sampled winner's logit without bound, the policy collapses
onto one response within a few visits (max probability ~0.96 after 20 queries in a
check run; gap 0.8 random / 0.3 BT), after which the 8 samples mostly coincide (1-2
distinct responses), few pairs pass the margin filter and the policy barely moves.
The 95% bands over games are narrow (the curves are averages over 8 prompts).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

from algorithms.nash import make_contextual_learner
from envs.games import contextual_preference_game
from experiments import plotting
from experiments.common import drive, run_timing, script_main
from experiments.runner import run

NAME = "nash_neural"
METHODS = (
    "egpo",
    "online_ipo_1",
    "nash_md_pg",
    "egpo_mlp",
    "online_ipo_1_mlp",
    "nash_md_pg_mlp",
)
# Second panel row: the regression / contrastive learners (tabular Nash-MD for
# reference; tabular INPO is tabular OMD = online_ipo_1 of the first row).
METHODS_2 = ("nash_md", "nash_md_mlp", "inpo_mlp", "dno_mlp", "dno_prct_mlp")
ALL_METHODS = METHODS + METHODS_2
COLORS_2 = {"nash_md": 3, "inpo": 1, "dno": 4, "dno_prct": 5}  # plotting.COLORS index
GAMES = {
    "random": ("random", "onehot"),  # EGPO random game per prompt, one-hot prompts
    "bt_mixture": ("bt_mixture", "gaussian"),  # BT raters linear in prompt features
}


@dataclasses.dataclass(frozen=True)
class Config:
    num_games: int = 10  # games per family (one per seed)
    num_contexts: int = 8  # prompts C
    num_responses: int = 10  # responses n per prompt
    feature_dim: int = 4  # Gaussian prompt feature dimension (bt_mixture)
    beta: float = 0.1  # KL strength
    num_rounds: int = 3_000  # preference queries T
    hidden: int = 64  # MLP hidden width (one tanh layer)
    algorithms: tuple[str, ...] = ALL_METHODS  # which learners
    families: tuple[str, ...] = tuple(GAMES)  # which game families (panels)
    seed: int = 0  # PRNG seed (draws the games)


QUICK = Config(
    num_games=2,
    num_rounds=300,
    algorithms=("egpo_mlp", "dno_mlp"),
    families=("bt_mixture",),
)


def _learner(name, config, num_features):
    base = name.removesuffix("_mlp")
    if name.endswith("_mlp"):
        return make_contextual_learner(
            base,
            config.num_contexts,
            num_features,
            config.num_responses,
            policy="mlp",
            hidden=(config.hidden,),
        )
    return make_contextual_learner(
        base, config.num_contexts, num_features, config.num_responses
    )


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    with jax.enable_x64(True):
        for family in config.families:
            kind, features = GAMES[family]
            env = contextual_preference_game(
                config.num_contexts,
                config.num_responses,
                beta=config.beta,
                kind=kind,
                features=features,
                feature_dim=config.feature_dim,
            )
            d = config.num_contexts if features == "onehot" else config.feature_dim
            for name in config.algorithms:
                start = time.perf_counter()
                result = run(
                    _learner(name, config, d),
                    env,
                    config.num_rounds,
                    key=jax.random.key(config.seed),
                    num_seeds=config.num_games,
                    record="log",
                )
                for field in ("duality_gap", "max_context_gap"):
                    arrays[f"{family}/{name}/{field}"] = result.metrics[field]  # [G, M]
                arrays["rounds"] = result.rounds
                timings[f"{family}/{name}"] = run_timing(result, start)
    return {"arrays": arrays, "timings": timings}


def _style(name):
    """(color, line style, label) of a learner: tabular solid, MLP dashed."""
    base = name.removesuffix("_mlp")
    if name in METHODS:
        color = plotting.COLORS[METHODS.index(name) % 3]
    else:
        color = plotting.COLORS[COLORS_2[base]]
    return color, ("--" if name.endswith("_mlp") else "-"), name


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    titles = {
        "random": "random game per prompt, one-hot prompts",
        "bt_mixture": f"BT rater mixture, {config.feature_dim}-d prompt features",
    }
    rows = [
        [a for a in config.algorithms if a in METHODS],
        [a for a in config.algorithms if a in METHODS_2],
    ]
    if "online_ipo_1" in config.algorithms and rows[1]:
        rows[1] = ["online_ipo_1", *rows[1]]  # tabular INPO = tabular OMD
    row_titles = [
        "EGPO, Online IPO 1 (OMD), Nash-MD-PG",
        "Nash-MD, INPO, DNO (soft labels), DNO-Prct (DPO pairs)",
    ]
    row_titles = [t for t, r in zip(row_titles, rows, strict=True) if r]
    rows = [r for r in rows if r]
    num = len(config.families)
    fig, axes = plt.subplots(
        len(rows), num, figsize=(6.5 * num, 4.6 * len(rows)), squeeze=False
    )
    for i, names in enumerate(rows):
        for ax, family in zip(axes[i], config.families, strict=True):
            for name in names:
                gaps = np.maximum(arrays[f"{family}/{name}/duality_gap"], 1e-16)
                mean, lo, hi = plotting.mean_ci(np.log10(gaps), axis=0)  # [M]
                color, style, label = _style(name)
                if i == 1 and name == "online_ipo_1":
                    label = "online_ipo_1 = tabular inpo"
                ax.plot(rounds, 10**mean, style, label=label, color=color, lw=1.7)
                ax.fill_between(rounds, 10**lo, 10**hi, color=color, alpha=0.15, lw=0)
            ax.set_yscale("log")
            ax.set_ylim(1e-12, 1)
            ax.set_xlabel("preference queries (rounds; one prompt each)")
            ax.set_ylabel("duality gap, contextual regularised game")
            ax.set_title(f"{titles[family]}\n{row_titles[i]}", fontsize=10)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(
        f"tabular (solid) vs MLP (dashed) policies: {config.num_games} games,\n"
        f"{config.num_contexts} prompts x {config.num_responses} responses, "
        f"beta = {config.beta} (geometric mean, 95% band)"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    plotting.save_figure(fig, path, legend_axes=[], layout=False)


def main(argv=None):
    return drive(
        argv,
        doc=__doc__,
        name=NAME,
        config=Config(),
        quick=QUICK,
        run_fn=run_experiment,
        plot_fn=plot,
        known_algorithms=list(ALL_METHODS),
    )


if __name__ == "__main__":
    script_main(main)
