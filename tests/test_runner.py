"""The runner: records, chunking, checkpoints, sharding, sweeps, validation."""

import os
import subprocess
import sys
import textwrap
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs.bandits import bernoulli_bandit, random_bernoulli_bandit
from experiments.runner import (
    grid_product,
    log_rounds,
    mean_ci,
    run,
    summary_table,
    sweep,
)
from tests.helpers import constant_regret_env, fixed_arm

MEANS = np.array([0.2, 0.5, 0.7])


def test_fixed_arm_regret_is_exact_gap_times_rounds():
    result = run(
        fixed_arm(0), bernoulli_bandit(MEANS), 1000, key=jax.random.key(0), num_seeds=3
    )
    assert result.regret.shape == (3, len(result.rounds))
    np.testing.assert_allclose(
        result.regret, 0.5 * result.rounds[None, :] * np.ones((3, 1)), rtol=1e-6
    )
    np.testing.assert_array_equal(result.metrics["best_arm_played"], 0.0)
    assert result.rounds[0] == 1 and result.rounds[-1] == 1000


def test_record_grids():
    grid = log_rounds(10_000, 50)
    assert grid[0] == 1 and grid[-1] == 10_000 and np.all(np.diff(grid) > 0)
    result = run(
        fixed_arm(1),
        bernoulli_bandit(MEANS),
        100,
        key=jax.random.key(0),
        record=np.array([10, 50, 100]),
    )
    np.testing.assert_allclose(result.regret[0], [2.0, 10.0, 20.0], rtol=1e-6)
    result = run(
        fixed_arm(1),
        bernoulli_bandit(MEANS),
        100,
        key=jax.random.key(0),
        record="linear",
    )
    assert result.rounds[-1] == 100


def test_chunked_equals_unchunked():
    env = bernoulli_bandit(MEANS)
    learner = fixed_arm(0, use_key=True)
    whole = run(
        learner, constant_regret_env(0.25), 997, key=jax.random.key(3), num_seeds=4
    )
    parts = run(
        learner,
        constant_regret_env(0.25),
        997,
        key=jax.random.key(3),
        num_seeds=4,
        chunk_size=100,
    )
    for name in whole.metrics:
        np.testing.assert_array_equal(whole.metrics[name], parts.metrics[name])
    del env


def test_long_run_compensated_sum_is_accurate():
    # 10^7 rounds of regret 0.1 (as float32). A naive float32 running sum is off by
    # several percent here (the ulp of 1e6 is 0.0625); the compensated sum is exact to
    # ~1e-7.
    num_rounds = 10_000_000
    per_round = float(np.float32(0.1))
    result = run(
        fixed_arm(0),
        constant_regret_env(per_round),
        num_rounds,
        key=jax.random.key(0),
        record=np.array([1_000, 1_000_000, num_rounds]),
    )
    expected = per_round * np.array([1_000, 1_000_000, num_rounds], dtype=np.float64)
    np.testing.assert_allclose(result.regret[0], expected, rtol=1e-6)
    # The uniform rewards sum to ~T/2, also accurately (against a float64 replay is not
    # possible cheaply; check it is within 6 standard deviations of T/2).
    total = result.metrics["reward"][0, -1]
    assert abs(total - num_rounds / 2) < 6 * np.sqrt(num_rounds / 12)


def test_checkpoint_resume_is_identical(tmp_path):
    env = constant_regret_env(0.3)
    learner = fixed_arm(0, use_key=True)
    reference = run(
        learner, env, 1000, key=jax.random.key(7), num_seeds=5, chunk_size=100
    )
    path = tmp_path / "run.ckpt.npz"

    class Interrupt(Exception):
        pass

    def stop_after_three(done):
        if done >= 300:
            raise Interrupt

    with pytest.raises(Interrupt):
        run(
            learner,
            env,
            1000,
            key=jax.random.key(7),
            num_seeds=5,
            chunk_size=100,
            checkpoint=path,
            callback=stop_after_three,
        )
    assert path.exists()
    seen = []
    resumed = run(
        learner,
        env,
        1000,
        key=jax.random.key(7),
        num_seeds=5,
        chunk_size=100,
        checkpoint=path,
        callback=seen.append,
    )
    assert seen[0] == 400  # resumed after the third chunk, not from the start
    for name in reference.metrics:
        np.testing.assert_array_equal(reference.metrics[name], resumed.metrics[name])
    assert not path.exists()  # removed once complete


def test_checkpoint_of_another_run_is_refused(tmp_path):
    env = constant_regret_env(0.3)
    path = tmp_path / "run.ckpt.npz"

    def interrupt(done):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(
            fixed_arm(0),
            env,
            100,
            key=jax.random.key(0),
            chunk_size=10,
            checkpoint=path,
            callback=interrupt,
        )
    with pytest.raises(ValueError, match="different run"):
        run(
            fixed_arm(0),
            env,
            100,
            key=jax.random.key(1),
            chunk_size=10,
            checkpoint=path,
        )


def test_seed_trajectories_do_not_depend_on_batch_size():
    env = constant_regret_env(0.1)
    small = run(fixed_arm(0), env, 200, key=jax.random.key(0), num_seeds=3)
    large = run(fixed_arm(0), env, 200, key=jax.random.key(0), num_seeds=7)
    np.testing.assert_array_equal(small.metrics["reward"], large.metrics["reward"][:3])


def test_common_random_numbers_across_learners():
    # A learner consuming its own randomness must not change the environment's draws.
    env = constant_regret_env(0.1)
    plain = run(fixed_arm(0), env, 300, key=jax.random.key(1), num_seeds=4)
    noisy = run(
        fixed_arm(1, use_key=True), env, 300, key=jax.random.key(1), num_seeds=4
    )
    np.testing.assert_array_equal(plain.metrics["reward"], noisy.metrics["reward"])
    # Random instances: the same seed draws the same instance for every learner.
    env = random_bernoulli_bandit(4, gap=0.1)
    a = run(fixed_arm(0), env, 50, key=jax.random.key(2), num_seeds=6)
    b = run(fixed_arm(0, use_key=True), env, 50, key=jax.random.key(2), num_seeds=6)
    np.testing.assert_array_equal(a.regret, b.regret)
    assert np.unique(a.regret[:, -1]).size > 1  # and instances differ across seeds


def test_no_retrace_on_second_run():
    traces = []
    learner = fixed_arm(0, trace_counter=traces)
    env = bernoulli_bandit(MEANS)
    run(learner, env, 100, key=jax.random.key(0), num_seeds=8)
    count = len(traces)
    assert count > 0
    second = run(learner, env, 100, key=jax.random.key(1), num_seeds=8)
    assert len(traces) == count
    assert second.compile_time < 1.0


def _ucb(num_arms, alpha):
    import jax.numpy as jnp

    from algorithms.core import Learner

    def init(key):
        return jnp.zeros(num_arms), jnp.zeros(num_arms)

    def act(key, state, obs):
        counts, sums = state
        t = jnp.sum(counts)
        bonus = jnp.sqrt(
            alpha * jnp.log(jnp.maximum(t, 1.0)) / jnp.maximum(counts, 1.0)
        )
        index = jnp.where(counts > 0, sums / jnp.maximum(counts, 1.0) + bonus, jnp.inf)
        return jnp.argmax(index).astype(jnp.int32), state

    def update(state, obs, action, reward):
        counts, sums = state
        onehot = jax.nn.one_hot(action, num_arms)
        return counts + onehot, sums + onehot * reward

    return Learner(init, act, update)


def test_sweep_equals_individual_runs_and_traces_once():
    env = bernoulli_bandit(MEANS)
    alphas = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    result = sweep(
        _ucb,
        env,
        300,
        key=jax.random.key(4),
        grid={"alpha": alphas},
        num_seeds=5,
        static={"num_arms": 3},
    )
    assert result.regret.shape == (3, 5, len(result.rounds))
    for g, alpha in enumerate(alphas):
        single = run(
            _ucb(3, float(alpha)), env, 300, key=jax.random.key(4), num_seeds=5
        )
        np.testing.assert_allclose(
            result.regret[g], single.regret, rtol=1e-5, atol=1e-5
        )
    # More exploration, more regret on this instance at this horizon.
    finals = result.final_regret.mean(axis=1)
    assert finals[0] < finals[2]
    table = summary_table(result)
    assert "alpha" in table and len(table.splitlines()) == 4


def test_sweep_over_instances():
    env = bernoulli_bandit(MEANS)
    instances = env.params._replace(
        means=np.array([[0.2, 0.5, 0.7], [0.7, 0.2, 0.1]], dtype=np.float32),
        scale=np.zeros((2, 3), np.float32),
    )
    result = sweep(
        lambda arm: fixed_arm(0),
        env,
        10,
        key=jax.random.key(0),
        grid={"arm": np.array([0, 0])},
        num_seeds=2,
        instances=instances,
    )
    assert result.regret.shape == (2, 2, 2, len(result.rounds))
    np.testing.assert_allclose(result.regret[:, 0, :, -1], 5.0, rtol=1e-6)
    np.testing.assert_allclose(result.regret[:, 1, :, -1], 0.0, atol=1e-6)


def test_grid_product_and_mean_ci():
    grid = grid_product(a=[1, 2, 3], b=[0.1, 0.2])
    np.testing.assert_array_equal(grid["a"], [1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(grid["b"], [0.1, 0.2] * 3)
    x = np.random.default_rng(0).normal(size=(10_000, 2))
    mean, low, high = mean_ci(x, axis=0)
    assert np.all(low < 0.05) and np.all(high > -0.05) and np.all(high - low < 0.05)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: bernoulli_bandit([0.5, 1.5]), r"\[0, 1\]"),
        (lambda: bernoulli_bandit([0.5]), "at least 2 arms"),
        (
            lambda: run(
                fixed_arm(0), bernoulli_bandit(MEANS), 0, key=jax.random.key(0)
            ),
            "num_rounds",
        ),
        (
            lambda: run(
                fixed_arm(0),
                bernoulli_bandit(MEANS),
                10,
                key=jax.random.key(0),
                num_seeds=0,
            ),
            "num_seeds",
        ),
        (lambda: run(fixed_arm(0), bernoulli_bandit(MEANS), 10, key=0), "PRNG key"),
        (
            lambda: sweep(
                _ucb,
                bernoulli_bandit(MEANS),
                10,
                key=jax.random.key(0),
                grid={"alpha": [1.0, 2.0], "beta": [1.0]},
                static={"num_arms": 3},
            ),
            "same length",
        ),
        (
            lambda: sweep(
                _ucb,
                bernoulli_bandit(MEANS),
                10,
                key=jax.random.key(0),
                grid={"alpha": []},
                static={"num_arms": 3},
            ),
            "non-empty",
        ),
        (
            lambda: run(
                fixed_arm(0),
                bernoulli_bandit(MEANS),
                10,
                key=jax.random.key(0),
                record=[5, 3],
            ),
            "increase",
        ),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_sharded_equals_unsharded():
    code = textwrap.dedent(
        """
        import jax, numpy as np
        from envs.bandits import bernoulli_bandit
        from experiments.runner import run, sweep
        from tests.test_runner import _ucb
        assert jax.device_count() == 4, jax.devices()
        env = bernoulli_bandit([0.2, 0.5, 0.7])
        # 10 seeds: not a multiple of 4 devices, so padding is exercised too.
        r = run(_ucb(3, 2.0), env, 400, key=jax.random.key(5), num_seeds=10)
        s = sweep(_ucb, env, 400, key=jax.random.key(5), grid={"alpha": [0.5, 2.0]},
                  num_seeds=3, static={"num_arms": 3})
        np.savez(OUT, run=r.regret, sweep=s.regret)
        """
    )
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"sharded_{os.getpid()}.npz")
    env = dict(
        os.environ,
        XLA_FLAGS="--xla_force_host_platform_device_count=4",
        JAX_PLATFORMS="cpu",
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(
        [sys.executable, "-c", f"OUT={out!r}\n" + code],
        env=env,
        cwd=root,
        check=True,
        timeout=300,
    )
    with np.load(out) as data:
        sharded_run, sharded_sweep = data["run"], data["sweep"]
    os.remove(out)
    env = bernoulli_bandit([0.2, 0.5, 0.7])
    r = run(_ucb(3, 2.0), env, 400, key=jax.random.key(5), num_seeds=10)
    s = sweep(
        _ucb,
        env,
        400,
        key=jax.random.key(5),
        grid={"alpha": [0.5, 2.0]},
        num_seeds=3,
        static={"num_arms": 3},
    )
    np.testing.assert_allclose(sharded_run, r.regret, rtol=1e-6)
    np.testing.assert_allclose(sharded_sweep, s.regret, rtol=1e-6)


def test_snapshot_fields_are_recorded_as_values_not_sums():
    from tests.helpers import CountdownInfo, countdown_env

    record = np.array([1, 5, 40, 100])
    result = run(
        fixed_arm(0),
        countdown_env(),
        100,
        key=jax.random.key(0),
        num_seeds=2,
        record=record,
        chunk_size=7,
    )
    np.testing.assert_allclose(result.regret, np.broadcast_to(record, (2, 4)))
    np.testing.assert_allclose(
        result.metrics["last_round"], np.broadcast_to(record, (2, 4))
    )

    class BadInfo(NamedTuple):
        regret: jax.Array
        SNAPSHOT_FIELDS = ("gap",)

    from envs.core import snapshot_fields

    with pytest.raises(ValueError, match="unknown info fields"):
        snapshot_fields(BadInfo(np.zeros(())))
    assert snapshot_fields(CountdownInfo(0.0, 0.0)) == ("last_round",)


def test_unrolled_threefry_is_bit_identical_to_jax_random():
    # The runner folds round indices into stream keys, and the Bernoulli env and the
    # Beta sampler draw their words, with envs.threefry's unrolled cipher instead of
    # jax.random (4x faster on CPU); the random streams must not change.
    from envs import threefry

    keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(7), s))(
        jnp.arange(257, dtype=jnp.uint32)
    )
    rounds = jnp.arange(257, dtype=jnp.int32) * 104_729
    tiny = jnp.finfo(jnp.float32).tiny
    for ours, theirs in [
        (
            lambda k, t: jax.random.key_data(threefry.fold_in(k, t)),
            lambda k, t: jax.random.key_data(jax.random.fold_in(k, t)),
        ),
        (
            lambda k, t: threefry.uniform(k, jnp.float32, minval=tiny),
            lambda k, t: jax.random.uniform(k, (), jnp.float32, minval=tiny),
        ),
        (
            lambda k, t: threefry.bits(k, 5),
            lambda k, t: jax.random.bits(k, (5,), jnp.uint32),
        ),
    ]:
        got = jax.jit(jax.vmap(ours))(keys, rounds)
        want = jax.vmap(theirs)(keys, rounds)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    # Other key implementations take jax.random's path unchanged.
    rbg = jax.random.key(3, impl="unsafe_rbg")
    np.testing.assert_array_equal(
        jax.random.key_data(threefry.fold_in(rbg, 5)),
        jax.random.key_data(jax.random.fold_in(rbg, 5)),
    )
