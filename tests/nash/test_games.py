"""Games: generators, validation, equilibria (LP and regularised), gaps, feedback."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import linprog

from envs.games import (
    Play,
    bradley_terry_matrix,
    check_policy,
    check_preference_matrix,
    condorcet_cycle_matrix,
    contextual_preference_matrices,
    cyclic_preference_matrix,
    duality_gap,
    game_params,
    kl,
    matrix_game,
    nash_residual,
    preference_game,
    random_matrix_game,
    random_preference_matrix,
    regularized_nash,
    rps_matrix,
    solve_lp_nash,
)


@pytest.fixture(autouse=True)
def _x64():
    """Closed forms are compared in float64 (generators follow the default dtype)."""
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("abc", [(1, 1, 1), (0.5, 1.0, 0.25), (0.9, 0.2, 0.6)])
def test_weighted_rps_nash(abc):
    a, b, c = abc
    x, y, value = solve_lp_nash(np.asarray(rps_matrix(a, b, c), np.float64))
    expected = np.array([c, b, a]) / (a + b + c)  # x^T S = 0
    np.testing.assert_allclose(x, expected, atol=1e-8)
    np.testing.assert_allclose(y, expected, atol=1e-8)
    assert value == pytest.approx(0.5, abs=1e-7)  # P is float32


def test_bradley_terry_condorcet_winner():
    P = np.asarray(bradley_terry_matrix([0.1, 2.0, 0.5, 1.0]), np.float64)
    x, y, value = solve_lp_nash(P)
    np.testing.assert_allclose(x, [0, 1, 0, 0], atol=1e-8)
    np.testing.assert_allclose(y, [0, 1, 0, 0], atol=1e-8)


def test_condorcet_cycle_and_cyclic_are_uniform():
    P = np.asarray(condorcet_cycle_matrix(), np.float64)
    check_preference_matrix(P)
    assert P[0, 1] > 0.5 and P[1, 2] > 0.5 and P[2, 0] > 0.5  # a > b > c > a
    np.testing.assert_allclose(solve_lp_nash(P)[0], np.full(3, 1 / 3), atol=1e-8)
    C = np.asarray(cyclic_preference_matrix(5, 0.6), np.float64)
    check_preference_matrix(C)
    np.testing.assert_allclose(solve_lp_nash(C)[0], np.full(5, 0.2), atol=1e-8)


def _value_by_shifted_lp(A):
    """An independent solve: the classic 1/v LP on the positive matrix B = A + c."""
    c = 1.0 - A.min()
    B = A + c  # > 0, so the value is > 0
    # min sum u s.t. B^T u >= 1, u >= 0; then v = 1 / sum u, x = u v.
    res = linprog(np.ones(B.shape[0]), A_ub=-B.T, b_ub=-np.ones(B.shape[1]))
    v = 1.0 / res.x.sum()
    return res.x * v, v - c


def test_random_game_lp_matches_independent_lp():
    for seed in range(3):
        A = np.asarray(random_matrix_game(jax.random.key(seed), 6, 8), np.float64)
        x, y, value = solve_lp_nash(A)
        x2, value2 = _value_by_shifted_lp(A)
        assert value == pytest.approx(value2, abs=1e-8)
        # Both are maximin strategies: same guaranteed value.
        assert (A.T @ x).min() == pytest.approx(value2, abs=1e-8)
        assert (A.T @ x2).min() == pytest.approx(value2, abs=1e-8)
        assert (A @ y).max() == pytest.approx(value2, abs=1e-8)
        gap = duality_gap(A, x, y, np.full(6, 1 / 6), np.full(8, 1 / 8), 0.0)
        assert float(gap) == pytest.approx(0.0, abs=1e-8)


def _contraction_nash(A, beta, iters):
    """Slow, obviously-correct NumPy float64 reference: the entropy-regularised
    extragradient (Cen et al. 2021) iterated to convergence."""
    n, m = A.shape
    lx, ly = np.full(n, -np.log(n)), np.full(m, -np.log(m))
    eta = 1.0 / (beta + 2 * np.abs(A).max())

    def sm(v):
        w = np.exp(v - v.max())
        return w / w.sum()

    def step(lx, ly, gx, gy):
        nx = (1 - eta * beta) * lx + eta * beta * np.log(1 / n) + eta * gx
        ny = (1 - eta * beta) * ly + eta * beta * np.log(1 / m) + eta * gy
        return nx - np.log(np.exp(nx - nx.max()).sum()) - nx.max(), ny - np.log(
            np.exp(ny - ny.max()).sum()
        ) - ny.max()

    for _ in range(iters):
        hx, hy = step(lx, ly, A @ sm(ly), -A.T @ sm(lx))
        lx, ly = step(lx, ly, A @ sm(hy), -A.T @ sm(hx))
    return sm(lx), sm(ly)


@pytest.mark.parametrize(
    "beta", [pytest.param(1.0, marks=pytest.mark.slow), 0.1, 0.01, 0.001]
)
def test_regularized_nash_fixed_point(beta):
    with jax.enable_x64(True):
        for seed in range(2):
            P = random_preference_matrix(jax.random.key(seed), 10)
            mu = jax.random.dirichlet(jax.random.key(100 + seed), jnp.ones(10))
            x, y = regularized_nash(P, beta, mu, mu)
            assert float(nash_residual(P, x, y, mu, mu, beta)) <= 1e-10
            assert float(duality_gap(P, x, y, mu, mu, beta)) == pytest.approx(
                0, abs=1e-10
            )
            np.testing.assert_allclose(x, y, atol=1e-10)  # symmetric game


@pytest.mark.parametrize("beta", [pytest.param(0.5, marks=pytest.mark.slow), 0.1])
def test_regularized_nash_matches_contraction(beta):
    A = np.asarray(random_matrix_game(jax.random.key(7), 4, 5), np.float64)
    # Contraction factor (1 - eta beta) per iteration: 3,000 iterations at beta = 0.1
    # and eta ~ 0.5 shrink the error by (0.95)^3000 ~ 1e-67.
    xr, yr = _contraction_nash(A, beta, 3000)
    with jax.enable_x64(True):
        x, y = regularized_nash(jnp.asarray(A), beta)
    np.testing.assert_allclose(x, xr, atol=1e-11)
    np.testing.assert_allclose(y, yr, atol=1e-11)


def test_gap_matches_brute_force_and_is_positive_off_equilibrium():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        A = np.asarray(random_matrix_game(jax.random.key(1), 3, 4))
        mx, my = np.full(3, 1 / 3), np.full(4, 1 / 4)
        beta = 0.2
        xs, ys = regularized_nash(jnp.asarray(A), beta)

        def J(x, y):
            return x @ A @ y - beta * kl(x, mx) + beta * kl(y, my)

        for _ in range(5):
            x, y = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(4))
            gap = float(duality_gap(A, x, y, mx, my, beta))
            # Brute force: the maximiser / minimiser are the softmax best responses.
            bx = np.asarray(jax.nn.softmax(np.log(mx) + A @ y / beta))
            by = np.asarray(jax.nn.softmax(np.log(my) - A.T @ x / beta))
            assert gap == pytest.approx(float(J(bx, y) - J(x, by)), abs=1e-12)
            # and no random candidate does better than the maximiser.
            for _ in range(20):
                c = rng.dirichlet(np.ones(3))
                assert float(J(c, y)) <= float(J(bx, y)) + 1e-12
            assert gap > 1e-6
        assert float(duality_gap(A, xs, ys, mx, my, beta)) == pytest.approx(
            0, abs=1e-12
        )


def test_exploitability_unregularised():
    A = np.asarray(rps_matrix(), np.float64)
    x = np.array([1.0, 0, 0])
    # Pure rock: the column plays paper; P(rock > paper) = 0, so max_i (A y)_i = 1 for
    # y = uniform... exploitability = max_i (A y)_i - min_j (A^T x)_j.
    y = np.full(3, 1 / 3)
    gap = float(duality_gap(A, x, y, y, y, 0.0))
    assert gap == pytest.approx(0.5 - 0.0, abs=1e-7)


def test_generators_are_valid_preference_matrices():
    check_preference_matrix(random_preference_matrix(jax.random.key(0), 10))
    P, rho = contextual_preference_matrices(jax.random.key(1), 4, 6)
    assert P.shape == (4, 6, 6)
    for c in range(4):
        check_preference_matrix(P[c])
    # Lower triangle i.i.d. uniform: mean of many entries ~ 1/2.
    many = random_preference_matrix(jax.random.key(2), 200)
    low = np.asarray(many)[np.tril_indices(200, -1)]
    assert abs(low.mean() - 0.5) < 5 * np.sqrt(1 / 12 / low.size)


def test_validation_errors():
    with pytest.raises(ValueError, match="P \\+ P\\^T"):
        check_preference_matrix([[0.5, 0.7], [0.7, 0.5]])
    with pytest.raises(ValueError, match="diagonal"):
        check_preference_matrix([[0.4, 0.5], [0.5, 0.6]])
    with pytest.raises(ValueError, match="square"):
        check_preference_matrix(np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        check_preference_matrix([[0.5, 1.5], [-0.5, 0.5]])
    for bad in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="beta"):
            preference_game(rps_matrix(), beta=bad)
    with pytest.raises(ValueError, match="simplex"):
        check_policy(np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="simplex"):
        preference_game(rps_matrix(), beta=0.1, mu=[0.5, 0.6, -0.1])
    with pytest.raises(ValueError, match="feedback"):
        matrix_game(np.eye(2), feedback="noisy")


def test_sampled_feedback_is_unbiased():
    # Feedback row[i] = mean_b Ber(P[i, j_b]), j_b ~ q: mean P q. With N = 4,000 draws
    # of a batch of 8, each coordinate's standard error is <= 0.5 / sqrt(32,000) ~
    # 0.0028; a tolerance of 6 standard errors fails a correct estimator with
    # probability < 1e-8 per coordinate.
    env = preference_game(
        rps_matrix(0.5, 1.0, 0.8), beta=0.1, feedback="sampled", batch_size=8
    )
    exact = preference_game(rps_matrix(0.5, 1.0, 0.8), beta=0.1)
    p = env.params
    q = jnp.asarray([0.2, 0.5, 0.3], p.A.dtype)
    x = jnp.asarray([0.6, 0.1, 0.3], p.A.dtype)
    action = Play(x, q, x, q)
    state, _ = env.reset(jax.random.key(0), p)

    def one(key):
        return env.step(key, state, action, p)[2]

    fb = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(1), 4000))
    _, _, fb_exact, info_s = exact.step(jax.random.key(2), state, action, p)
    tol = 6 * 0.5 / np.sqrt(4000 * 8)
    np.testing.assert_allclose(fb.row.mean(0), fb_exact.row, atol=tol)
    np.testing.assert_allclose(fb.col.mean(0), fb_exact.col, atol=tol)
    # the truth does not depend on the feedback mode
    info = env.step(jax.random.key(3), state, action, p)[3]
    np.testing.assert_allclose(info.duality_gap, info_s.duality_gap, rtol=1e-6)


def test_regret_telescopes_to_hindsight_regret():
    # Sum of row_regret increments = max_x sum_t [x^T A y_t - beta KL(x)] - sum_t u_t.
    with jax.enable_x64(True):
        A = np.asarray(random_matrix_game(jax.random.key(4), 3, 3))
        beta = 0.3
        env = matrix_game(A, beta=beta)
        p = env.params
        rng = np.random.default_rng(1)
        xs, ys = rng.dirichlet(np.ones(3), 6), rng.dirichlet(np.ones(3), 6)
        state, _ = env.reset(jax.random.key(0), p)
        total_row = total_col = 0.0
        for t in range(6):
            state, _, _, info = env.step(
                jax.random.key(t), state, Play(xs[t], ys[t], xs[t], ys[t]), p
            )
            total_row += float(info.row_regret)
            total_col += float(info.col_regret)
        mu = np.full(3, 1 / 3)
        S = A @ ys.sum(0)
        best = 6 * beta * np.log(np.sum(mu * np.exp(S / (6 * beta))))
        got = sum(xs[t] @ A @ ys[t] - beta * float(kl(xs[t], mu)) for t in range(6))
        assert total_row == pytest.approx(best - got, abs=1e-10)
        C = A.T @ xs.sum(0)
        best_c = 6 * beta * np.log(np.sum(mu * np.exp(-C / (6 * beta))))
        got_c = sum(-xs[t] @ A @ ys[t] - beta * float(kl(ys[t], mu)) for t in range(6))
        assert total_col == pytest.approx(best_c - got_c, abs=1e-10)
        assert float(info.avg_gap) == pytest.approx(
            float(duality_gap(A, xs.mean(0), ys.mean(0), mu, mu, beta)), abs=1e-12
        )


def test_game_params_equilibrium_for_preference_game():
    params = game_params(rps_matrix(0.5, 1.0, 0.25))
    np.testing.assert_allclose(
        params.x_star, np.array([0.25, 1.0, 0.5]) / 1.75, atol=1e-6
    )
