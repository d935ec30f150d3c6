"""Figure 5: repeated games in the settings of "Do LLM Agents Have Regret?" (Park et
al. 2024) with classical agents: Hedge, FTRL (Euclidean) and FTPL in self-play on
repeated matrix games, and against a non-stationary (sinusoidal) loss sequence.
Left: each agent's (row player's) regret against the best fixed action in hindsight,
mean and 95% band over seeds, with a dashed sqrt(T) reference. Right: the duality
gap of the empirical frequency of play (the average iterate) in the games.

Command:

    python -m experiments.nash_repeated          # T = 10,000, 20 seeds
    python -m experiments.nash_repeated --quick  # T = 2,000, 8 seeds

Expected: every agent's regret grows like sqrt(T) or slower (no-regret: regret / T ->
0) in every setting; in self-play the empirical frequencies approach the equilibrium
(gap of the average iterate -> 0, at most ~ (sum of both regrets) / T).
"""

from __future__ import annotations

import dataclasses
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from algorithms.core import Learner, float_dtype
from algorithms.nash import ftpl, ftrl_euclidean, hedge, self_play
from envs.games import matrix_game, preference_game, random_matrix_game, rps_matrix
from experiments import plotting
from experiments.common import drive, script_main
from experiments.runner import run

NAME = "nash_repeated"
AGENTS = ("hedge", "ftrl", "ftpl")


class ScriptedState(NamedTuple):
    t: jax.Array  # [] rounds played


def sinusoidal_opponent(num_actions: int, period: float) -> Learner:
    """A non-stationary oblivious adversary (not a learner): plays
    ``softmax(3 sin(2 pi t / period + 2 pi j / m))`` over its ``m`` actions."""

    def init(key):
        return ScriptedState(jnp.zeros((), jnp.int32))

    def act(key, state, obs):
        phase = 2 * jnp.pi * jnp.arange(num_actions) / num_actions
        t = state.t.astype(float_dtype())
        return jax.nn.softmax(3.0 * jnp.sin(2 * jnp.pi * t / period + phase)), state

    def update(state, obs, action, reward):
        return ScriptedState(state.t + 1)

    return Learner(init, act, update)


@dataclasses.dataclass(frozen=True)
class Config:
    num_rounds: int = 10_000  # horizon T
    num_seeds: int = 20  # seeds (FTPL is randomised; the others deterministic)
    period: float = 500.0  # period of the sinusoidal adversary
    seed: int = 0  # PRNG seed (also draws the random game)


QUICK = Config(num_rounds=2_000, num_seeds=8)


def _agent(name, n, T):
    eta = np.sqrt(8 * np.log(n) / T)  # Hedge's tuning for rewards in [0, 1]
    if name == "hedge":
        return hedge(n, eta=eta)
    if name == "ftrl":
        return ftrl_euclidean(n, eta=1.0 / np.sqrt(T))
    return ftpl(n, eta=1.0 / np.sqrt(n * T))


def _settings(config):
    A = np.asarray(random_matrix_game(jax.random.key(config.seed + 1), 3, 3))
    return {
        "weighted RPS (self-play)": (preference_game(rps_matrix(0.5, 1.0, 0.8)), False),
        "random 3x3 game (self-play)": (matrix_game((A + 1) / 2), False),
        "sinusoidal adversary": (preference_game(rps_matrix(0.5, 1.0, 0.8)), True),
    }


def run_experiment(config: Config) -> dict:
    arrays, timings = {}, {}
    T = config.num_rounds
    with jax.enable_x64(True):
        for setting, (env, scripted) in _settings(config).items():
            n = env.params.A.shape[0]
            for name in AGENTS:
                col = (
                    sinusoidal_opponent(n, config.period)
                    if scripted
                    else _agent(name, n, T)
                )
                start = time.perf_counter()
                result = run(
                    self_play(_agent(name, n, T), col),
                    env,
                    T,
                    key=jax.random.key(config.seed),
                    num_seeds=config.num_seeds,
                    record="log",
                )
                arrays[f"{setting}/{name}/row_regret"] = result.metrics["row_regret"]
                arrays[f"{setting}/{name}/avg_gap"] = result.metrics["avg_gap"]
                arrays["rounds"] = result.rounds
                timings[f"{setting}/{name}"] = round(time.perf_counter() - start, 3)
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    rounds = arrays["rounds"]
    settings = list(_settings(config))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    styles = ("-", "--", ":")
    t = rounds[rounds >= 10]
    for s, setting in enumerate(settings):
        for i, name in enumerate(AGENTS):
            color = plotting.COLORS[i]
            reg = arrays[f"{setting}/{name}/row_regret"]
            line = plotting.band(
                axes[0], rounds, reg, label=f"{name}: {setting}", color=color
            )
            line.set_linestyle(styles[s])
            if "adversary" not in setting:
                gap = arrays[f"{setting}/{name}/avg_gap"]
                line = plotting.band(
                    axes[1], rounds, gap, label=f"{name}: {setting}", color=color
                )
                line.set_linestyle(styles[s])
    plotting.reference(axes[0], t, np.sqrt(t), label="sqrt(t)")
    plotting.reference(axes[1], t, 1 / np.sqrt(t), label="1/sqrt(t)")
    axes[0].set_xscale("log")
    axes[0].set_yscale("symlog", linthresh=1.0)
    axes[0].set_xlabel("round t")
    axes[0].set_ylabel("row agent's regret (best fixed action in hindsight)")
    axes[0].set_title("regret of Hedge / FTRL / FTPL agents")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("round t")
    axes[1].set_ylabel("duality gap of the empirical frequency of play")
    axes[1].set_title("self-play: empirical play -> equilibrium")
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
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
