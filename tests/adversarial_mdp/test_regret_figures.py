"""The adversarial-MDP regret-vs-K figures (issue #7 figure 1): the rows of
``advmdp_regret`` (tabular and linear-Q learners), the K-tuned sweep grids of
``advmdp_simulator_free`` (one program per learner and loss sequence, the uniform
policy as its exploration-1 grid point), and (slow) that the sweep read at each K
equals separate runs of length K, and both scripts end to end on tiny
configurations."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from algorithms.adversarial_mdp import simulator_free as sf
from envs.adversarial_linear_mdp import adversarial_linear_mdp
from experiments import advmdp_regret, advmdp_simulator_free
from experiments.results import load_results
from experiments.runner import run


def test_regret_figure_rows_split_tabular_and_linear_q_learners():
    config = advmdp_regret.Config()
    (tab_title, tabular, tab_seqs), (lin_title, linear, lin_seqs) = (
        advmdp_regret.groups(config)
    )
    assert tabular == (
        "oreps",
        "oreps_bandit",
        "policy_optimization",
        "dilated_bonus_po",
        "uob_reps",
    )
    assert linear == ("linear_q_po", "log_barrier_ftrl", "magnitude_reduced_ftrl")
    assert tab_seqs == lin_seqs == ("switching", "drifting", "stochastic", "ftl_trap")
    assert tab_title == "tabular" and "linear-Q" in lin_title
    quick = advmdp_regret.groups(advmdp_regret.QUICK)
    assert quick[1][1:] == (("magnitude_reduced_ftrl",), ("switching",))
    assert quick[0][2] == ("switching", "ftl_trap")
    # --algorithms with one group only: the empty row is left out
    only = dataclasses.replace(config, algorithms=("oreps", "log_barrier_ftrl"))
    assert [row[1] for row in advmdp_regret.groups(only)] == [
        ("oreps",),
        ("log_barrier_ftrl",),
    ]
    only_tabular = dataclasses.replace(config, algorithms=("uob_reps",))
    assert len(advmdp_regret.groups(only_tabular)) == 1
    with pytest.raises(ValueError, match="unknown loss sequence"):
        advmdp_regret.groups(dataclasses.replace(config, linear_sequences=("nope",)))


def test_simulator_free_grid_is_each_k_tuning_plus_the_uniform_point():
    config = advmdp_simulator_free.Config()
    horizons = (1_000, 4_000, 16_000)
    grid = advmdp_simulator_free.tuned_grid(
        "simulator_free_mgr_po", config, horizons, uniform=True
    )
    assert all(values.shape == (4,) for values in grid.values())
    for i, k in enumerate(horizons):
        expected = sf.simulator_free_parameters("simulator_free_mgr_po", 3, 3, 4, k)
        assert {key: grid[key][i] for key in expected} == pytest.approx(expected)
    last = sf.simulator_free_parameters("simulator_free_mgr_po", 3, 3, 4, 16_000)
    assert {key: grid[key][3] for key in last} == pytest.approx(
        {**last, "exploration": 1.0}
    )
    assert grid["epoch_length"].dtype.kind == "i"
    plain = advmdp_simulator_free.tuned_grid("simulator_free_po", config, horizons)
    assert plain["exploration"].shape == (3,) and np.all(plain["exploration"] < 1)


def test_simulator_free_plot_reads_every_sequence(tmp_path):
    """The plot of every sequence from hand-made arrays (a missing key fails)."""
    config = advmdp_simulator_free.Config(
        horizons=(100, 400), sequences=("switching", "ftl_trap")
    )
    rng = np.random.default_rng(0)
    arrays = {"horizons": np.array([100, 400])}
    for losses in config.sequences:
        for name in (*config.algorithms, "uniform"):
            arrays[f"{losses}/{name}/regret"] = rng.uniform(10, 50, (3, 2))
            arrays[f"{losses}/{name}/slope"] = np.asarray(0.8)
    advmdp_simulator_free.plot(arrays, config, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    del arrays["switching/uniform/slope"]
    with pytest.raises(KeyError):
        advmdp_simulator_free.plot(arrays, config, tmp_path / "g.png")


@pytest.mark.slow
def test_simulator_free_sweep_read_at_each_k_equals_runs_of_length_k():
    """``run_sequence``'s one-program sweep, read at K, against a separate run of
    length K with the K tuning (same instances and keys), and its exploration-1 point
    against ``uniform_policy``. Float32: the vmapped and the single programs may round
    differently, and a last-bit difference in a policy can flip a sampled action
    later on, so the comparison is at small K, where they agree to 1e-3."""
    config = advmdp_simulator_free.Config(
        horizons=(12, 24),
        num_states=2,
        num_actions=2,
        horizon=2,
        feature_dim=3,
        num_seeds=3,
        sequences=("switching",),
    )
    out = advmdp_simulator_free.run_sequence(config, "switching")["arrays"]
    env = adversarial_linear_mdp(
        2, 2, 2, 3, losses="switching", feature_concentration=0.3
    )
    for name in config.algorithms:
        for i, k in enumerate(config.horizons):
            tuning = sf.simulator_free_parameters(name, 2, 2, 3, k)
            single = run(
                getattr(sf, name)(2, 2, 2, 3, **tuning),
                env,
                k,
                key=jax.random.key(config.seed),
                num_seeds=3,
                record=[k],
            )
            np.testing.assert_allclose(
                out[f"switching/{name}/regret"][:, i],
                np.asarray(single.final_regret),
                rtol=1e-3,
                atol=1e-3,
            )
    uniform = run(
        sf.uniform_policy(2, 2, 2),
        env,
        24,
        key=jax.random.key(config.seed),
        num_seeds=3,
        record=[12, 24],
    )
    np.testing.assert_allclose(
        out["switching/uniform/regret"],
        np.asarray(uniform.metrics["regret"]),
        rtol=1e-5,
        atol=1e-4,
    )


@pytest.mark.slow
@pytest.mark.parametrize("module", [advmdp_regret, advmdp_simulator_free])
def test_regret_figure_scripts_run_small(tmp_path, module):
    if module is advmdp_regret:
        argv = [
            "--algorithms",
            "oreps,magnitude_reduced_ftrl",
            "--rounds",
            "30",
            "--seeds",
            "2",
        ]
    else:
        argv = ["--algorithms", "simulator_free_po,simulator_free_mgr_po"]
    module.main(["--quick", "--out", str(tmp_path), *argv])
    assert (tmp_path / f"{module.NAME}.png").stat().st_size > 10_000
    arrays, meta = load_results(tmp_path / module.NAME)
    for key, value in arrays.items():
        assert np.all(np.isfinite(value)), key
    if module is advmdp_regret:
        assert arrays["switching/oreps/regret"].shape[0] == 2
        assert "switching/magnitude_reduced_ftrl/regret" in arrays
        assert "ftl_trap/magnitude_reduced_ftrl/regret" not in arrays  # quick: one
    else:
        for losses in ("stochastic", "switching"):
            for name in ("simulator_free_po", "simulator_free_mgr_po", "uniform"):
                assert arrays[f"{losses}/{name}/regret"].shape == (4, 2)
