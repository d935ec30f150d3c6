"""Experiment scripts: command-line validation, results files, and a tiny run of
each.
"""

import json

import jax
import numpy as np
import pytest

from experiments import (
    bandit_adversarial,
    bandit_gap,
    bandit_regret,
    bandit_sensitivity,
)
from experiments.results import load_results, save_results


def test_unknown_algorithm_on_the_command_line(tmp_path):
    with pytest.raises(ValueError, match="unknown algorithm"):
        bandit_regret.main(
            ["--algorithms", "ucb1,not_an_algorithm", "--out", str(tmp_path)]
        )


@pytest.mark.parametrize("flag, value", [("--seeds", "0"), ("--rounds", "-5")])
def test_non_positive_sizes_on_the_command_line(tmp_path, flag, value):
    with pytest.raises(ValueError, match="positive"):
        bandit_regret.main([flag, value, "--out", str(tmp_path)])


def test_results_refuse_to_overwrite_another_configuration(tmp_path):
    stem = tmp_path / "exp"
    save_results(stem, {"x": np.arange(3)}, {"seeds": 1})
    save_results(stem, {"x": np.arange(4)}, {"seeds": 1})  # same config: replaced
    arrays, meta = load_results(stem)
    np.testing.assert_array_equal(arrays["x"], np.arange(4))
    assert meta["config"] == {"seeds": 1}
    assert meta["environment"]["backend"] == jax.default_backend()
    assert "jax" in meta["environment"]["versions"]
    with pytest.raises(FileExistsError, match="different configuration"):
        save_results(stem, {"x": np.arange(3)}, {"seeds": 2})
    save_results(stem, {"x": np.arange(5)}, {"seeds": 2}, overwrite=True)
    assert json.loads(stem.with_suffix(".json").read_text())["config"] == {"seeds": 2}
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temp files


@pytest.mark.parametrize(
    "module, extra",
    [
        (bandit_regret, ["--algorithms", "ucb1,thompson,exp3"]),
        (bandit_gap, ["--algorithms", "ucb1,kl_ucb"]),
        (bandit_sensitivity, []),
        (bandit_adversarial, ["--algorithms", "ucb1,tsallis_inf"]),
    ],
)
def test_each_figure_script_runs_small(tmp_path, module, extra):
    module.main(
        ["--quick", "--seeds", "4", "--rounds", "60", "--out", str(tmp_path), *extra]
    )
    assert (tmp_path / f"{module.NAME}.png").stat().st_size > 10_000
    arrays, meta = load_results(tmp_path / module.NAME)
    assert meta["config"]["num_seeds"] == 4 and meta["config"]["num_rounds"] == 60
    assert meta["timings"]
    for name, value in arrays.items():
        assert np.all(np.isfinite(value)), name
    # A second run with another configuration at the same place is refused before
    # running.
    with pytest.raises(FileExistsError):
        module.main(
            [
                "--quick",
                "--seeds",
                "5",
                "--rounds",
                "60",
                "--out",
                str(tmp_path),
                *extra,
            ]
        )
