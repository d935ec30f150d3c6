"""Figure: regret against episodes in latent MDPs with context in hindsight, the
value-optimistic learner against a baseline that ignores the context.

Command (full, writes figures/mdp_latent.png and its results):

    python -m experiments.mdp_latent            # 16 seeds, K = 1,000
    python -m experiments.mdp_latent --quick    # 4 seeds, K = 100, no uniform

Random latent MDPs (M = 2 contexts, S = 2, A = 2, H = 3, stationary Dirichlet(0.5)
transitions, rewards U[0, 1] / H so returns lie in [0, 1], one instance per seed).
Regret is exact, ``V* - V(pi_k)`` with ``V*`` the best Markov policy's value found by
enumerating all ``2^6`` deterministic policies (sizes kept small: the exhaustive
planning oracle evaluates every policy each episode, and the figure was made on a
heavily shared 2-core machine). Learners: ``latent_ucb`` (per-context
model from the contexts revealed in hindsight, Bernstein bonus, exhaustive optimistic
planning over Markov policies), ``ucbvi_ignore_context`` (UCBVI-CH on the pooled data,
as if the mixture were one MDP) and the uniform policy; dashed: a sqrt(K) slope (the
paper's ``O~(sqrt(Var* M Gamma S A K))``).

Result (16 seeds, K = 1,000): uniform is the slope-1 line (150); UCBVI ignoring the
context grows with slope ~0.9 (57, a wide band: the pooled model's policy is right on
some instances and wrong for good on others); ``latent_ucb`` bends below the sqrt(K)
reference after ~50 episodes (slope ~0.26 over k = 100..1,000, 12.8 at K = 1,000).
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from algorithms.tabular.latent import LATENT_ALGORITHMS
from envs.latent_mdp import random_latent_mdp
from experiments import plotting
from experiments.common import drive, run_learners, script_main

NAME = "mdp_latent"


@dataclasses.dataclass(frozen=True)
class Config:
    num_rounds: int = 1_000  # episodes K
    num_seeds: int = 16  # seeds (one random latent MDP each)
    num_contexts: int = 2  # M
    num_states: int = 2  # S
    num_actions: int = 2  # A
    horizon: int = 3  # H (A^(S H) = 64 Markov policies enumerated)
    algorithms: tuple[str, ...] = ("latent_ucb", "ucbvi_ignore_context", "uniform")
    seed: int = 0  # PRNG seed


QUICK = Config(
    num_rounds=100, num_seeds=4, algorithms=("latent_ucb", "ucbvi_ignore_context")
)


def run_experiment(config: Config) -> dict:
    dims = (config.num_contexts, config.num_states, config.num_actions, config.horizon)
    env = random_latent_mdp(*dims)
    learners = {
        name: LATENT_ALGORITHMS[name](*dims, config.num_rounds)
        for name in config.algorithms
    }
    return run_learners(
        learners, env, config.num_rounds, num_seeds=config.num_seeds, seed=config.seed
    )


def plot(arrays: dict, config: Config, path) -> None:
    fig, ax = plt.subplots(figsize=(7, 5))
    rounds = arrays["rounds"]
    curves = {
        n: arrays[f"{n}/regret"] for n in config.algorithms if f"{n}/regret" in arrays
    }
    plotting.regret_curves(ax, rounds, curves, logy=True)
    if "latent_ucb" in curves:
        k = rounds[rounds >= 10].astype(float)
        anchor = curves["latent_ucb"].mean(0)[-1] / np.sqrt(rounds[-1])
        plotting.reference(ax, k, anchor * np.sqrt(k), label="∝ sqrt(K)")
    ax.set_xlabel("episode k")
    ax.set_title(
        f"latent MDPs (M = {config.num_contexts}, S = {config.num_states}, "
        f"A = {config.num_actions}, H = {config.horizon}), {config.num_seeds} seeds",
        fontsize=9,
    )
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
        known_algorithms=list(LATENT_ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
