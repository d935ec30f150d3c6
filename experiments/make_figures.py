"""Regenerates every figure: ``python -m experiments.make_figures [--quick]``.

Full mode writes figures/ (the committed figures); ``--quick`` writes results/quick/ in
a few minutes on 2 CPU cores. ``--family bandits,oco`` restricts the run to some
families (default: all; ``--list`` prints them). Other flags (``--seed``,
``--overwrite``, ``--out``) are passed to every script.
"""

from __future__ import annotations

import importlib
import sys
import time

from experiments.common import parse_names, script_main

# family -> figure scripts (modules of experiments/), in the order they run.
FAMILIES: dict[str, tuple[str, ...]] = {
    "bandits": (
        "bandit_regret",
        "bandit_gap",
        "bandit_sensitivity",
        "bandit_adversarial",
    ),
    "linear_bandits": (
        "linbandit_regret",
        "linbandit_offline",
        "linbandit_sparse",
        "linbandit_sparse_hard",
        "tally_regret",
        "relax_sor",
    ),
    "contextual_bandits": ("ctxbandit_regret", "dueling_regret"),
    "tabular_mdp": (
        "mdp_regret",
        "mdp_deepsea",
        "mdp_reward_free",
        "mdp_demonstrations",
        "mdp_latent",
    ),
    "linear_mdp": (
        "linmdp_regret",
        "linmdp_mixture",
        "linmdp_reward_free",
        "linmdp_preference",
        "linmdp_demonstrations",
        "linmdp_demo_sample_complexity",
    ),
    "adversarial_mdp": (
        "advmdp_regret",
        "advmdp_mgr",
        "advmdp_actions",
        "advmdp_simulator_free",
    ),
    "nash": (
        "nash_egpo",
        "nash_last_iterate",
        "nash_rate_vs_beta",
        "nash_scale",
        "nash_repeated",
        "nash_neural",
        "nash_halpern",
    ),
    "oco": (
        "oco_sea",
        "oco_rates",
        "oco_experts",
        "oco_parameter_free",
        "oco_dynamic",
        "oco_groupwise",
        "oco_pnorm",
        "oco_sleeping",
    ),
}


def _pop_option(argv: list[str], name: str) -> str | None:
    """Removes ``--name VALUE`` / ``--name=VALUE`` from ``argv`` and returns VALUE."""
    for i, arg in enumerate(argv):
        if arg == name:
            if i + 1 >= len(argv):
                raise ValueError(f"{name} needs a value")
            value = argv[i + 1]
            del argv[i : i + 2]
            return value
        if arg.startswith(name + "="):
            del argv[i]
            return arg.split("=", 1)[1]
    return None


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return
    if "--list" in argv:
        for family, scripts in FAMILIES.items():
            print(f"{family}: {', '.join(scripts)}")
        return
    chosen = _pop_option(argv, "--family")
    families = (
        parse_names(chosen, list(FAMILIES), "family")
        if chosen is not None
        else tuple(FAMILIES)
    )
    start = time.perf_counter()
    for family in families:
        for name in FAMILIES[family]:
            script = importlib.import_module(f"experiments.{name}")
            t0 = time.perf_counter()
            print(f"== {family}: {name}", flush=True)
            script.main(argv)
            print(f"   done in {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"all figures in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    script_main(main)
