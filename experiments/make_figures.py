"""Regenerates every figure: ``python -m experiments.make_figures [--quick]``.

Full mode writes figures/ (the committed figures); ``--quick`` writes results/quick/ in
a few minutes on 2 CPU cores. Other flags (``--seed``, ``--overwrite``, ``--out``) are
passed to every script.
"""

from __future__ import annotations

import sys
import time

from experiments import (
    bandit_adversarial,
    bandit_gap,
    bandit_regret,
    bandit_sensitivity,
)
from experiments.common import script_main

SCRIPTS = (bandit_regret, bandit_gap, bandit_sensitivity, bandit_adversarial)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return
    start = time.perf_counter()
    for script in SCRIPTS:
        t0 = time.perf_counter()
        print(f"== {script.__name__}", flush=True)
        script.main(argv)
        print(f"   done in {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"all figures in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    script_main(main)
