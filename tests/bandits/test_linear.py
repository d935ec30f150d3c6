"""Linear bandit learners: ridge statistics against the normal equations, OFUL's radius
and index on a hand-built history, a NumPy OFUL fed the same rewards, the G-optimal
design of known action sets, phased elimination's allocations, LinTS's perturbation
covariance, statistical regret checks and long-horizon stability.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.bandits import linear as lin
from algorithms.bandits.ridge import (
    oful_radius,
    ridge_estimate,
    ridge_init,
    ridge_update,
)
from envs.linear_bandits import linear_bandit, random_linear_bandit
from experiments.runner import run


def _ridge_from(xs, ys, lam, dtype):
    state = ridge_init(xs.shape[1], lam, dtype)
    step = jax.jit(ridge_update)
    for x, y in zip(xs, ys, strict=True):
        state = step(state, jnp.asarray(x, dtype), jnp.asarray(y, dtype))
    return state


def test_ridge_matches_the_normal_equations_float64():
    rng = np.random.default_rng(0)
    xs, ys, lam = rng.normal(size=(300, 4)), rng.normal(size=300), 0.7
    with jax.enable_x64(True):
        state = _ridge_from(xs, ys, lam, jnp.float64)
        V = lam * np.eye(4) + xs.T @ xs
        np.testing.assert_allclose(state.V, V, rtol=1e-12)
        np.testing.assert_allclose(state.V_inv, np.linalg.inv(V), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            ridge_estimate(state), np.linalg.solve(V, xs.T @ ys), rtol=1e-9
        )
        np.testing.assert_allclose(state.log_det, np.linalg.slogdet(V)[1], rtol=1e-12)
        assert int(state.count) == 300


def test_incremental_inverse_stays_accurate_after_many_float32_updates():
    """20,000 unit-norm updates in float32: the Sherman-Morrison inverse still solves
    the normal equations (the direct float64 solve is the reference)."""
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(20_000, 5))
    xs /= np.linalg.norm(xs, axis=1, keepdims=True)
    ys = xs @ np.array([0.5, -0.3, 0.2, 0.0, 0.1]) + rng.normal(size=20_000)

    def body(state, xy):
        return ridge_update(state, xy[0], xy[1]), None

    state = jax.lax.scan(
        body,
        ridge_init(5, 1.0, jnp.float32),
        (jnp.asarray(xs, jnp.float32), jnp.asarray(ys, jnp.float32)),
    )[0]
    V = np.eye(5) + xs.T @ xs
    theta = np.linalg.solve(V, xs.T @ ys)
    # float32 accumulations of 20,000 terms: relative error ~ 1e-4 on V, amplified by
    # cond(V) ~ 2 on the estimate.
    np.testing.assert_allclose(ridge_estimate(state), theta, atol=2e-3)
    np.testing.assert_allclose(np.asarray(state.V_inv) @ V, np.eye(5), atol=2e-3)


def test_oful_radius_and_index_on_a_hand_built_history():
    xs = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    ys = np.array([1.0, -1.0, 0.5])
    lam, R, S, delta = 2.0, 0.5, 1.5, 0.05
    features = np.array([[1.0, 0.0], [0.3, -0.4], [-1.0, 2.0]])
    with jax.enable_x64(True):
        state = _ridge_from(xs, ys, lam, jnp.float64)
        radius = oful_radius(
            state, regularization=lam, noise_std=R, theta_bound=S, delta=delta
        )
        index = lin.oful_index(state, jnp.asarray(features), radius)
    V = lam * np.eye(2) + xs.T @ xs
    # Theorem 2 of Abbasi-Yadkori et al. (2011), written out.
    beta_sqrt = (
        R
        * math.sqrt(
            2 * math.log(math.sqrt(np.linalg.det(V)) / math.sqrt(lam**2) / delta)
        )
        + math.sqrt(lam) * S
    )
    np.testing.assert_allclose(radius, beta_sqrt, rtol=1e-12)
    theta = np.linalg.solve(V, xs.T @ ys)
    V_inv = np.linalg.inv(V)
    expected = features @ theta + beta_sqrt * np.sqrt(
        np.einsum("kd,de,ke->k", features, V_inv, features)
    )
    np.testing.assert_allclose(index, expected, rtol=1e-10)


def _numpy_oful_actions(features, rewards, lam, R, S, delta):
    """A slow, obviously correct OFUL: inverse and determinant recomputed each round."""
    K, d = features.shape
    V, b, actions = lam * np.eye(d), np.zeros(d), []
    for t in range(rewards.shape[0]):
        V_inv = np.linalg.inv(V)
        theta = V_inv @ b
        beta = (
            R * math.sqrt(2 * math.log(math.sqrt(np.linalg.det(V) / lam**d) / delta))
            + math.sqrt(lam) * S
        )
        width = np.sqrt(np.einsum("kd,de,ke->k", features, V_inv, features))
        a = int(np.argmax(features @ theta + beta * width))
        V += np.outer(features[a], features[a])
        b += rewards[t, a] * features[a]
        actions.append(a)
    return np.array(actions)


def test_oful_matches_a_numpy_loop_fed_the_same_rewards():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(6, 3))  # generic norms: no ties in the first round
    rewards = features @ np.array([0.4, -0.2, 0.3]) + rng.normal(size=(60, 6))
    learner = lin.oful(3, regularization=1.0, noise_std=1.0, theta_bound=1.0, delta=0.1)
    act, update = jax.jit(learner.act), jax.jit(learner.update)
    obs = jnp.asarray(features, jnp.float32)
    state, ours = learner.init(jax.random.key(0)), []
    for t in range(60):
        a, state = act(jax.random.key(t), state, obs)
        state = update(state, obs, a, jnp.float32(rewards[t, int(a)]))
        ours.append(int(a))
    expected = _numpy_oful_actions(features, rewards, 1.0, 1.0, 1.0, 0.1)
    np.testing.assert_array_equal(ours, expected)


def test_g_optimal_design_of_the_standard_basis_is_uniform_with_g_equal_d():
    for d in (2, 5):
        pi, g = jax.jit(lambda x: lin.g_optimal_design(x, num_iters=20, ridge=0.0))(
            jnp.eye(d)
        )
        np.testing.assert_allclose(pi, np.full(d, 1.0 / d), rtol=1e-6)
        np.testing.assert_allclose(g, np.full(d, float(d)), rtol=1e-5)


def test_g_optimal_design_of_a_random_set_approaches_kiefer_wolfowitz():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 6))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pi, g = jax.jit(lambda x: lin.g_optimal_design(x, num_iters=200))(
        jnp.asarray(x, jnp.float32)
    )
    assert abs(float(pi.sum()) - 1.0) < 1e-5 and float(pi.min()) >= 0
    # Recompute g from pi directly: sum_a pi_a g_a = trace(V^{-1} V) = d exactly, so
    # max g >= d for every design; Kiefer-Wolfowitz: the optimum attains max g = d.
    V = np.einsum("k,kd,ke->de", np.asarray(pi, np.float64), x, x)
    g_direct = np.einsum("kd,de,ke->k", x, np.linalg.inv(V), x)
    np.testing.assert_allclose(np.asarray(g), g_direct, rtol=2e-3)
    np.testing.assert_allclose(np.dot(np.asarray(pi), g_direct), 6.0, rtol=1e-3)
    assert 6.0 - 1e-3 <= g_direct.max() <= 6.0 * 1.1


def test_phased_elimination_first_allocation_and_final_arm():
    d, delta = 4, 0.01
    learner = lin.phased_elimination(d, d, delta=delta, noise_std=1.0)
    obs = jnp.eye(d)
    _, state = learner.act(jax.random.key(0), learner.init(jax.random.key(0)), obs)
    # Phase 1 on the standard basis: pi = 1/d, eps_1 = 1/2, so
    # T_1 = ceil(2 d (1/d) 4 log(d * 1 * 2 / delta)).
    expected = math.ceil(8 * math.log(d * 2 / delta))
    np.testing.assert_array_equal(state.allocation, np.full(d, expected))
    assert int(state.phase) == 1
    env = linear_bandit(np.eye(3), [0.9, 0.5, 0.1], noise_std=0.2)
    res = run(
        lin.phased_elimination(3, 3, delta=0.01, noise_std=0.2),
        env,
        1600,
        key=jax.random.key(1),
        num_seeds=4,
        record=np.array([800, 1600]),
    )
    # With noise 0.2 the gaps 0.4 are eliminated by phase 3 (eps = 1/8) well before
    # round 800 (phase lengths ~ 2 d R^2 4^l log(..) / d < 300), for every seed
    # (failure probability <= delta per seed).
    np.testing.assert_allclose(res.regret[:, 1] - res.regret[:, 0], 0.0, atol=1e-4)


def test_lints_perturbation_has_covariance_scale_squared_v_inverse():
    rng = np.random.default_rng(4)
    xs, ys = rng.normal(size=(20, 3)), rng.normal(size=20)
    state = _ridge_from(xs, ys, 1.0, jnp.float32)
    keys = jax.random.split(jax.random.key(0), 40_000)
    samples = jax.vmap(lambda k: lin.lints_sample(k, state, 2.0))(keys)
    V_inv = np.linalg.inv(np.eye(3) + xs.T @ xs)
    # 40,000 draws: relative sd of a sample covariance entry ~ sqrt(2 / 40,000) = 0.7%;
    # tolerance 5% of the largest entry.
    cov = np.cov(np.asarray(samples, np.float64).T)
    np.testing.assert_allclose(cov, 4.0 * V_inv, atol=0.05 * 4.0 * V_inv.max())
    np.testing.assert_allclose(
        samples.mean(0), ridge_estimate(state), atol=0.05 * math.sqrt(4 * V_inv.max())
    )


def test_clear_errors():
    learner = lin.oful(3)
    state = learner.init(jax.random.key(0))
    with pytest.raises(ValueError, match="d = 3"):
        learner.act(jax.random.key(0), state, jnp.ones((4, 2)))
    with pytest.raises(ValueError, match="regularization"):
        lin.oful(3, regularization=0.0)
    with pytest.raises(ValueError, match="delta"):
        lin.lin_ts(3, delta=1.5)
    with pytest.raises(ValueError, match="dim"):
        lin.linear_epsilon_greedy(0)
    with pytest.raises(ValueError, match="unknown linear"):
        lin.make_linear_learner("nope", dim=2, num_arms=2, horizon=10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["oful", "lin_ts"])
def test_regret_is_under_the_bound_and_sublinear(name):
    d, k, T, seeds = 5, 20, 4000, 200
    env = random_linear_bandit(d, k, noise_std=1.0)
    learner = lin.make_linear_learner(name, dim=d, num_arms=k, horizon=T)
    res = run(
        learner,
        env,
        T,
        key=jax.random.key(0),
        num_seeds=seeds,
        record=np.array([T // 2, T]),
    )
    delta = 1.0 / T
    # Theorem 3 of Abbasi-Yadkori et al. (2011) with lambda = S = R = L = 1 (each
    # seed's regret is below it with probability 1 - delta; the gaps are <= 2, so the
    # pseudo-regret bound is at most twice the theorem's).
    bound = (
        4
        * math.sqrt(T * d * math.log(1 + T / d))
        * (1 + math.sqrt(2 * math.log(1 / delta) + d * math.log(1 + T / d)))
    )
    if name == "lin_ts":
        bound *= math.sqrt(d)  # O~(d^{3/2} sqrt(T)) (Abeille and Lazaric 2017)
    assert np.all(res.final_regret <= bound)
    # Sharper: sqrt(T) growth puts (sqrt(2) - 1) / 1 = 0.41 of the first half's regret
    # in the second half; linear regret puts 1. With 200 seeds the mean ratio's
    # standard error is a few percent.
    first, second = (
        res.regret[:, 0].mean(),
        (res.regret[:, 1] - res.regret[:, 0]).mean(),
    )
    assert second < 0.6 * first
    uniform_regret = T * 0.5  # E[max_a mu_a - mean_a mu_a] >= 0.5 for 20 arms, d = 5
    # LinTS with the theory's sqrt(d) oversampling explores much longer than OFUL
    # (about half of the uniform policy's regret at T = 4,000); OFUL is far lower.
    factor = 0.2 if name == "oful" else 0.7
    assert res.final_regret.mean() < factor * uniform_regret


@pytest.mark.slow
@pytest.mark.parametrize("name", list(lin.LINEAR_ALGORITHMS))
def test_no_nan_at_1e5_rounds(name):
    env = random_linear_bandit(5, 10, noise_std=1.0)
    learner = lin.make_linear_learner(name, dim=5, num_arms=10, horizon=100_000)
    res = run(
        learner, env, 100_000, key=jax.random.key(0), num_seeds=2, chunk_size=100_000
    )
    assert np.all(np.isfinite(res.regret))
    # every algorithm here is consistent: per-round regret late << early
    late = (res.regret[:, -1] - res.regret[:, -2]) / (res.rounds[-1] - res.rounds[-2])
    assert np.all(late < 0.2)
