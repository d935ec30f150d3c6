"""The relax_sor figure script: its arrays agree with the cost tables (panel d's
fixed-omega totals are the exact comparators of panels a-c), every sequence and
learner is present, and the command line runs (slow)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from experiments import relax_sor
from experiments.results import load_results


def _check_arrays(arrays, config):
    names = [k for k in arrays if k.endswith("/iterations")]
    for sequence in config.sequences:
        pre = f"{sequence}/"
        learners = [k for k in names if k.startswith(pre)]
        assert any("ChebCB" in k for k in learners)
        assert any("contextual" in k for k in learners)
        totals = arrays[f"{pre}fixed_totals"]  # [I, K]
        assert totals.shape == (config.num_instances, config.num_omegas)
        best = arrays[
            f"{pre}{learners[0][len(pre) : -len('/iterations')]}/best_fixed_iterations"
        ]  # [I * S, R]
        runs = best.reshape(config.num_instances, config.num_seeds, -1)[..., -1]
        # The telescoped best-fixed total at T is the smallest fixed-omega total.
        np.testing.assert_array_equal(
            runs, np.broadcast_to(totals.min(1)[:, None], runs.shape)
        )
        shifts = arrays[f"{pre}shifts"]
        low, high = relax_sor.shift_range(config, sequence)
        assert np.all((shifts >= low - 1e-6) & (shifts <= high + 1e-6))
    for name, value in arrays.items():
        assert np.all(np.isfinite(value)), name


@pytest.mark.slow  # CI time (~11 s of CPU, figure script)
def test_run_experiment_small_and_plot(tmp_path):
    config = dataclasses.replace(
        relax_sor.QUICK,
        grid_size=4,
        max_iters=32,
        num_rounds=40,
        num_instances=2,
        num_seeds=2,
        sequences=("drift",),
    )
    result = relax_sor.run_experiment(config)
    _check_arrays(result["arrays"], config)
    relax_sor.plot(result["arrays"], config, tmp_path / "relax.png")
    assert (tmp_path / "relax.png").stat().st_size > 10_000


def test_make_env_rejects_an_unknown_sequence():
    with pytest.raises(ValueError, match="unknown sequence"):
        relax_sor.make_env(relax_sor.QUICK, "uniform")


@pytest.mark.slow
def test_quick_command_line(tmp_path):
    relax_sor.main(
        ["--quick", "--seeds", "2", "--rounds", "60", "--out", str(tmp_path)]
    )
    assert (tmp_path / "relax_sor.png").stat().st_size > 10_000
    arrays, meta = load_results(tmp_path / "relax_sor")
    config = dataclasses.replace(relax_sor.QUICK, num_seeds=2, num_rounds=60)
    assert meta["config"]["num_rounds"] == 60
    assert tuple(meta["config"]["sequences"]) == config.sequences
    _check_arrays(arrays, config)
