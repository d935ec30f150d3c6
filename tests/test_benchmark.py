"""The throughput benchmark: its NumPy baselines are the same algorithms as ours, and
its entry point produces a complete table."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.bandits.stochastic import kl_ucb_index, ucb1_index
from experiments import benchmark_bandits as bench

MEANS = np.linspace(0.1, 0.9, 10)


def _bernoulli_kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """kl(Ber(p) || Ber(q)) from the definition, for q in (0, 1), 0 log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(p > 0, p * np.log(p / q), 0.0)
        t2 = np.where(p < 1, (1 - p) * np.log((1 - p) / (1 - q)), 0.0)
    return t1 + t2


def _bisection_root(p: np.ndarray, radius: np.ndarray, num_iters: int = 200):
    """max{q in [p, 1] : kl(p, q) <= radius} by bisection (kl(p, .) increases there)."""
    lo, hi = p.copy(), np.ones_like(p)
    for _ in range(num_iters):
        mid = 0.5 * (lo + hi)
        inside = _bernoulli_kl(p, mid) <= radius
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    return lo


def test_numpy_kl_root_is_the_kl_ucb_root():
    # The NumPy KL-UCB baseline uses the same root finder and step count as ours; check
    # that it computes the definition's root (200-step bisection, exact to float64
    # round-off), radius 0 (round t = 1) and the means 0 and 1 included.
    radii = np.concatenate([[0.0], np.geomspace(1e-9, 30.0, 40)])
    p, radius = np.meshgrid(np.linspace(0.0, 1.0, 81), radii)
    root = bench.numpy_kl_upper_root(p, radius, bench.KL_UCB_NUM_ITERS)
    # 2e-8: two Halley steps from this start leave at most 1.3e-9 in float64 (measured
    # in _bernoulli_kl_upper_root's docstring); bisection is exact to ~1e-12.
    np.testing.assert_allclose(root, _bisection_root(p, radius), rtol=0, atol=2e-8)
    np.testing.assert_allclose(root[0], p[0], rtol=0, atol=2e-8)  # radius 0: q = p


@pytest.mark.parametrize("name", ["ucb1", "kl_ucb"])
def test_numpy_index_equals_ours(name):
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 50, size=(64, 10))
    counts[:, 3] = 0  # never-pulled arms: index +inf on both sides
    sums = np.floor(rng.random((64, 10)) * (counts + 1)).clip(0, counts).astype(float)
    t = int(counts.sum(axis=1).max())
    with jax.enable_x64(True):
        if name == "ucb1":
            ours = ucb1_index(jnp.asarray(sums), jnp.asarray(counts), t, 2.0)
            reference = bench.numpy_ucb1_index(sums, counts, t)
        else:
            means = jnp.asarray(sums / np.maximum(counts, 1))
            ours = kl_ucb_index(
                means,
                jnp.asarray(counts),
                jnp.asarray(float(t)),
                num_iters=bench.KL_UCB_NUM_ITERS,
            )
            reference = bench.numpy_kl_ucb_index(sums, counts, t)
        ours = np.asarray(ours)
    assert np.all(np.isinf(reference[:, 3])) and np.all(np.isinf(ours[:, 3]))
    # UCB1 is a closed form: equal to round-off. KL-UCB's index is a root found in two
    # steps on either side, each within 2e-8 of the true root in float64 (see
    # test_numpy_kl_root_is_the_kl_ucb_root); the two finders may differ in details.
    atol = 0.0 if name == "ucb1" else 4e-8
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=atol)


def _our_actions(name: str, reward_table: np.ndarray) -> np.ndarray:
    """Our learner's actions when arm a pays reward_table[t, a] in round t (float64)."""
    with jax.enable_x64(True):
        learner = bench.make_learner(name, reward_table.shape[1])
        table = jnp.asarray(reward_table)

        def step(state, inputs):
            t, rewards = inputs
            key = jax.random.fold_in(jax.random.key(0), t)
            action, state = learner.act(key, state, ())
            state = learner.update(state, (), action, rewards[action])
            return state, action

        rounds = jnp.arange(table.shape[0])
        _, actions = jax.jit(lambda s: jax.lax.scan(step, s, (rounds, table)))(
            learner.init(jax.random.key(1))
        )
        return np.asarray(actions)


@pytest.mark.parametrize("name", ["ucb1", "kl_ucb"])
def test_numpy_baselines_take_our_actions_on_a_fixed_reward_table(name):
    num_rounds = 120
    rng = np.random.default_rng(7)
    # Close means so that the policies keep switching arms (a non-trivial trajectory).
    means = np.array([0.45, 0.5, 0.55, 0.6, 0.4])
    table = (rng.random((num_rounds, means.shape[0])) < means).astype(np.float64)
    ours = _our_actions(name, table)
    loop, _ = bench.numpy_per_seed(name, means, num_rounds, rng, reward_table=table)
    vectorised, _ = bench.numpy_vectorised(
        name, means, num_rounds, 3, rng, reward_table=table, record_actions=True
    )
    np.testing.assert_array_equal(ours[: means.shape[0]], np.arange(means.shape[0]))
    # The test must be able to fail: after the initial pulls the policy still switches.
    assert len(set(ours[means.shape[0] :].tolist())) >= 3
    np.testing.assert_array_equal(loop, ours)
    for seed in range(3):
        np.testing.assert_array_equal(vectorised[:, seed], ours)


def test_numpy_thompson_sampling_posterior():
    # With 30 successes and 10 failures on arm 0 (and none elsewhere), the draws of
    # arm 0 are Beta(31, 11): mean 31/42, sd ~0.067. 20,000 draws give a standard error
    # of the mean of ~4.7e-4; 5e-3 is > 10 standard errors. Unpulled arms draw from the
    # Beta(1, 1) prior: mean 1/2, sd 0.289, standard error 2.0e-3; 1e-2 is 5 of them.
    rng = np.random.default_rng(3)
    sums = np.zeros((20_000, 3))
    counts = np.zeros((20_000, 3), np.int64)
    sums[:, 0], counts[:, 0] = 30.0, 40
    draws = bench.numpy_thompson_sample(rng, sums, counts)
    assert abs(draws[:, 0].mean() - 31 / 42) < 5e-3
    assert abs(draws[:, 1].mean() - 0.5) < 1e-2


def test_main_tiny_run_writes_a_complete_table(tmp_path):
    path = tmp_path / "bench.md"
    out = bench.main(
        [
            "--seeds",
            "10",
            "--rounds",
            "50",
            "--markdown",
            str(path),
            "--key-impl",
            "unsafe_rbg",
        ]
    )
    rows = out["rows"]
    assert [(r.algorithm, r.seeds) for r in rows] == [
        (name, 10) for name in bench.ALGORITHMS
    ]
    for r in rows:
        for value in (
            r.jax,
            r.numpy_loop,
            r.numpy_vectorised,
            r.ratio_loop,
            r.ratio_vectorised,
        ):
            assert math.isfinite(value) and value > 0
        assert r.compile_s >= 0
    text = path.read_text()
    assert text == out["report"]
    assert "`unsafe_rbg`" in text
    header = "| algorithm | seeds | JAX seed-rounds/s | compile s |"
    table = text.split(header)[1].split("\n\n")[0].strip().splitlines()
    assert len(table) == 2 + len(bench.ALGORITHMS)  # header rest, separator, rows
