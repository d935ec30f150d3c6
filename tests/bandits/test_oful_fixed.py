"""OFUL with incremental per-arm widths (fixed action sets): the same algorithm as
``oful``, its widths equal to the direct formula, and the benchmark's NumPy versions
of it compute the same thing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.bandits.linear import (
    _fold_reduce,
    argmax_uniform_ties,
    mth_true_index,
    oful,
    oful_fixed_actions,
)
from envs import threefry
from envs.linear_bandits import random_linear_bandit
from experiments import benchmark_linear_bandits as bench
from tests.helpers import check_learner_contract


def _jitted(learner):
    return learner._replace(act=jax.jit(learner.act), update=jax.jit(learner.update))


def _generic_instance(seed, K, d):
    rng = np.random.default_rng(seed)
    x, th = bench._numpy_instances(rng, 1, K, d)
    # Generic norms: no ties in the first round, so every tie-break rule agrees.
    return x[0] * rng.uniform(0.5, 1.0, size=(K, 1)), th[0], rng


def test_same_actions_as_oful_and_exact_widths_in_float64():
    K, d, T = 12, 4, 600
    with jax.enable_x64(True):
        x, th, rng = _generic_instance(0, K, d)
        X = jnp.asarray(x)
        direct = _jitted(oful(d, delta=0.05))
        fast = _jitted(oful_fixed_actions(d, K, delta=0.05))
        s_direct, s_fast = direct.init(None), fast.init(None)
        for t in range(T):
            key = jax.random.key(t)
            a = int(direct.act(key, s_direct, X)[0])
            assert int(fast.act(key, s_fast, X)[0]) == a, t
            reward = float(x[a] @ th + rng.normal())
            s_direct = direct.update(s_direct, X, a, reward)
            s_fast = fast.update(s_fast, X, a, reward)
        widths = jnp.einsum("kd,de,ke->k", X, s_fast.ridge.V_inv, X)
        np.testing.assert_allclose(s_fast.norms_sq, widths, rtol=1e-10)
        means = X @ (s_fast.ridge.V_inv @ s_fast.ridge.b)
        np.testing.assert_allclose(s_fast.means, means, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(s_fast.ridge.V_inv, s_direct.ridge.V_inv, rtol=1e-12)


@pytest.mark.slow
def test_widths_stay_within_float32_rounding_after_many_rounds():
    K, d, T = 50, 10, 2_000
    env = random_linear_bandit(d, K)
    params = env.sample_params(jax.random.key(3))
    X = params.features
    learner = oful_fixed_actions(d, K, delta=1e-3)

    def body(carry, t):
        state, worst = carry
        key = jax.random.key(0)
        a, state = learner.act(jax.random.fold_in(key, t), state, X)
        noise = jax.random.normal(jax.random.fold_in(jax.random.key(1), t))
        state = learner.update(state, X, a, X[a] @ params.theta + noise)
        direct = jnp.einsum("kd,de,ke->k", X, state.ridge.V_inv, X)
        rel = jnp.max(jnp.abs(state.norms_sq - direct) / direct)
        means = X @ (state.ridge.V_inv @ state.ridge.b)
        # Estimates: error relative to the width (the scale the index compares).
        rel_means = jnp.max(jnp.abs(state.means - means) / jnp.sqrt(direct))
        return (state, jnp.maximum(worst, jnp.stack([rel, rel_means]))), None

    (_, worst), _ = jax.jit(
        lambda: jax.lax.scan(body, (learner.init(None), jnp.zeros(2)), jnp.arange(T))
    )()
    # The direct float32 quadratic form itself carries a relative rounding error of
    # order d * eps ~ 1e-6; the round-robin refresh (every arm recomputed every K
    # rounds) keeps the incremental widths within a few of those units (measured
    # 1.5e-6 over 3,000 rounds); without it the drift grows with t.
    assert float(worst[0]) < 1e-5
    # The float32 estimate X V^{-1} b itself is accurate to ~eps |theta_hat| ~ 1e-6
    # absolute while widths shrink like sqrt(d / t) ~ 0.07: 1.5e-5 of a width measured;
    # 1e-4 of a width cannot change an argmax except on a near-exact tie.
    assert float(worst[1]) < 1e-4


def test_argmax_uniform_ties_is_uniform_on_the_maximisers():
    values = jnp.array([0.0, 2.0, 1.0, 2.0, 2.0, -1.0])
    keys = jax.random.split(jax.random.key(0), 6_000)
    picks = np.asarray(jax.vmap(lambda k: argmax_uniform_ties(k, values))(keys))
    counts = np.bincount(picks, minlength=6)
    assert counts[[0, 2, 5]].sum() == 0
    # Each maximiser has probability 1/3: sd of a count is sqrt(6000 * 2/9) ~ 37, so
    # 200 is more than 5 sd.
    np.testing.assert_allclose(counts[[1, 3, 4]], 2_000, atol=200)
    assert int(argmax_uniform_ties(jax.random.key(1), jnp.array([3.0, 1.0]))) == 0


@pytest.mark.parametrize(
    "num",
    [
        2,
        50,
        # CI time: the fold boundaries (32, 33) and three folds (130), with -m slow.
        pytest.param(32, marks=pytest.mark.slow),
        pytest.param(33, marks=pytest.mark.slow),
        pytest.param(130, marks=pytest.mark.slow),
    ],
)
def test_argmax_uniform_ties_equals_always_drawing_the_uniform(num):
    """The first maximiser when it is unique, the uniform and the search only when
    some batch element has a tie (one batch-level cond): the same choice as always
    drawing ``u`` and taking the ``floor(u * #maximisers)``-th maximiser, batched
    (ties in some rows, none in others) and unbatched."""
    rng = np.random.default_rng(num)
    batch = 300
    tied = rng.integers(0, 4, size=(batch, num)).astype(np.float32)  # many ties
    distinct = rng.permutation(
        np.tile(np.arange(num, dtype=np.float32), (batch, 1)).T
    ).T
    keys = jax.random.split(jax.random.key(num), batch)

    def always_drawing(key, values):
        return mth_true_index(
            values == jnp.max(values), threefry.uniform(key, jnp.float32)
        )

    reference = jax.jit(jax.vmap(always_drawing))
    ours = jax.jit(jax.vmap(argmax_uniform_ties))
    mixed = np.where((np.arange(batch) % 3 == 0)[:, None], tied, distinct)
    for values in (tied, distinct, mixed):
        np.testing.assert_array_equal(ours(keys, values), reference(keys, values))
    np.testing.assert_array_equal(ours(keys, distinct), np.argmax(distinct, axis=1))
    for i in range(3):
        assert int(argmax_uniform_ties(keys[i], tied[i])) == int(
            always_drawing(keys[i], tied[i])
        )


def test_fold_reduce_equals_the_plain_reductions():
    rng = np.random.default_rng(0)
    # No fold (<= 32), one fold, an odd fold, two and three folds.
    for num in (1, 32, 33, 50, 65, 130):
        x = rng.integers(-50, 50, size=(4, num)).astype(np.int32)
        f = rng.normal(size=(4, num)).astype(np.float32)
        for op, ref in (
            (jnp.maximum, np.max),
            (jnp.minimum, np.min),
            (jnp.add, np.sum),
        ):
            got = jax.vmap(lambda v, op=op: _fold_reduce(op, v))(x)
            np.testing.assert_array_equal(got, ref(x, axis=1))
        np.testing.assert_array_equal(
            jax.vmap(lambda v: _fold_reduce(jnp.maximum, v))(f), np.max(f, axis=1)
        )


@pytest.mark.parametrize("num", [1, 2, 31, 32, 33, 50, 64, 65, 130])
def test_mth_true_index_equals_the_prefix_sum_rule(num):
    # The bit-packed selection picks the same maximiser as the prefix-sum rule it
    # replaced (argmax(mask & (cumsum(mask) - 1 == m))), for every tie pattern.
    def reference(mask, u):
        count = jnp.sum(mask)
        m = jnp.minimum(jnp.floor(u * count).astype(count.dtype), count - 1)
        return jnp.argmax(mask & (jnp.cumsum(mask) - 1 == m)).astype(jnp.int32)

    rng = np.random.default_rng(num)
    density = rng.choice([0.0, 0.05, 0.5, 0.95, 1.0], size=(3_000, 1))
    mask = jnp.asarray(rng.random((3_000, num)) < density)
    u = rng.random(3_000).astype(np.float32)
    u[:2] = [0.0, np.nextafter(np.float32(1.0), np.float32(0.0))]
    ours = jax.jit(jax.vmap(mth_true_index))(mask, jnp.asarray(u))
    ref = jax.jit(jax.vmap(reference))(mask, jnp.asarray(u))
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))


def test_inverse_stays_exactly_symmetric_without_resymmetrising():
    # u_i u_k = u_k u_i in IEEE arithmetic, so the rank-one update keeps V^{-1}
    # exactly symmetric in float32 (the learner skips the 0.5 (A + A^T) step).
    d, K, T = 10, 50, 1_000
    env = random_linear_bandit(d, K)
    params = env.sample_params(jax.random.key(5))
    learner = oful_fixed_actions(d, K, delta=1e-3)

    def body(state, t):
        a, state = learner.act(jax.random.fold_in(jax.random.key(0), t), state, X)
        noise = jax.random.normal(jax.random.fold_in(jax.random.key(1), t))
        return learner.update(state, X, a, X[a] @ params.theta + noise), None

    X = params.features
    state, _ = jax.jit(lambda: jax.lax.scan(body, learner.init(None), jnp.arange(T)))()
    V_inv = np.asarray(state.ridge.V_inv)
    np.testing.assert_array_equal(V_inv, V_inv.T)
    assert int(state.ridge.count) == T


def test_numpy_fixed_loop_and_vectorised_match_ours():
    K, d, T, delta = 8, 3, 40, 0.05
    rng = np.random.default_rng(1)
    x, th = bench._numpy_instances(rng, 2, K, d)
    x = x * rng.uniform(0.5, 1.0, size=(2, K, 1))  # no first-round ties
    noise = rng.normal(size=(T, 2))
    learner = _jitted(oful_fixed_actions(d, K, delta=delta))
    regrets = []
    for s in range(2):
        expected, regret = bench.numpy_oful_fixed_loop(x[s], th[s], noise[:, s], delta)
        direct, _ = bench.numpy_oful_loop(x[s], th[s], noise[:, s], delta)
        np.testing.assert_array_equal(expected, direct)  # the same algorithm
        regrets.append(regret)
        obs, mu = jnp.asarray(x[s], jnp.float32), x[s] @ th[s]
        state = learner.init(None)
        for t in range(T):
            a, state = learner.act(jax.random.key(t), state, obs)
            assert int(a) == expected[t]
            state = learner.update(state, obs, a, jnp.float32(mu[int(a)] + noise[t, s]))
    np.testing.assert_allclose(
        bench.numpy_oful_fixed_vectorised(x, th, noise, delta), regrets, rtol=1e-9
    )


def test_contract_and_wrong_action_count():
    env = random_linear_bandit(3, 5)
    learner = oful_fixed_actions(3, 5)
    check_learner_contract(
        learner, env, params=env.sample_params(jax.random.key(0)), num_rounds=5
    )
    with pytest.raises(ValueError, match="expected 5 actions"):
        learner.act(jax.random.key(0), learner.init(None), jnp.zeros((4, 3)))


@pytest.mark.slow
def test_no_nan_at_1e5_rounds():
    from experiments.runner import run

    learner = oful_fixed_actions(5, 20, delta=1e-5)
    result = run(
        learner,
        random_linear_bandit(5, 20),
        100_000,
        key=jax.random.key(0),
        num_seeds=4,
    )
    assert np.all(np.isfinite(result.regret))
    # Sublinear: the last 90% of the rounds add less regret per round than the first
    # 10% (OFUL's regret is O(d sqrt(T) log T)).
    at = {int(r): i for i, r in enumerate(result.rounds)}
    tenth = result.regret[:, at[max(r for r in at if r <= 10_000)]].mean()
    final = result.regret[:, -1].mean()
    assert (final - tenth) / 9 < tenth
