"""Tabular learners: closed-form bonuses, NumPy loops, samplers, statistical checks."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from algorithms.tabular import (
    dirichlet_fixed_cost,
    empirical_model,
    init_counts,
    log_gamma_fixed_cost,
    q_learning_ucb,
    rlsvi_posterior,
    ucb_bernstein_beta,
    ucbvi,
    ucbvi_bernstein_bonus,
    ucbvi_hoeffding_bonus,
    update_counts,
)
from envs.tabular_mdp import Trajectory, river_swim
from experiments.runner import run

S, A, H = 3, 2, 4


def _random_trajectories(seed, num, num_states=S, num_actions=A, horizon=H):
    rng = np.random.default_rng(seed)
    return [
        Trajectory(
            jnp.asarray(rng.integers(0, num_states, horizon), jnp.int32),
            jnp.asarray(rng.integers(0, num_actions, horizon), jnp.int32),
            jnp.asarray(rng.uniform(size=horizon)),
        )
        for _ in range(num)
    ]


def _numpy_counts(trajectories, num_states=S, num_actions=A, horizon=H):
    visits = np.zeros((horizon, num_states, num_actions))
    trans = np.zeros((horizon, num_states, num_actions, num_states))
    rsum = np.zeros((horizon, num_states, num_actions))
    for tr in trajectories:
        s, a, r = (np.asarray(x) for x in tr)
        for h in range(horizon):
            visits[h, s[h], a[h]] += 1
            rsum[h, s[h], a[h]] += r[h]
            if h + 1 < horizon:
                trans[h, s[h], a[h], s[h + 1]] += 1
    return visits, trans, rsum


def test_update_counts_matches_numpy():
    trajectories = _random_trajectories(0, 30)
    with jax.enable_x64(True):
        counts = init_counts(S, A, H)
        step = jax.jit(update_counts)
        for tr in trajectories:
            counts = step(counts, tr)
    for got, want in zip(counts, _numpy_counts(trajectories), strict=True):
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-12)


# --------------------------------------------------------------------------------------
# UCBVI: bonuses in closed form and a few episodes against a NumPy loop.
# --------------------------------------------------------------------------------------


def _numpy_ucbvi_q(counts, q_prev, log_term, scale, bonus):
    """Azar et al. (2017), Alg. 1-3, with loops over h, s, a (remaining-horizon cap)."""
    visits, trans, rsum = counts
    horizon, num_states, num_actions = visits.shape
    q = np.zeros_like(visits)
    v_next = np.zeros(num_states)
    for h in reversed(range(horizon)):
        cap = horizon - h
        n_next = (
            visits[h + 1].sum(-1) if h + 1 < horizon else np.full(num_states, np.inf)
        )
        for s in range(num_states):
            for a in range(num_actions):
                n = visits[h, s, a]
                if n == 0:
                    q[h, s, a] = min(q_prev[h, s, a], cap)
                    continue
                p = trans[h, s, a] / max(trans[h, s, a].sum(), 1.0)
                mean = p @ v_next
                if bonus == "hoeffding":
                    b = 7 * horizon * log_term * math.sqrt(1 / n)
                else:
                    var = p @ (v_next - mean) ** 2 if p.sum() > 0 else 0.0
                    corr = np.minimum(
                        100**2
                        * horizon**3
                        * num_states**2
                        * num_actions
                        * log_term**2
                        / n_next,
                        horizon**2,
                    )
                    b = (
                        math.sqrt(8 * log_term * var / n)
                        + 14 * horizon * log_term / (3 * n)
                        + math.sqrt(8 * (p @ corr) / n)
                    )
                backup = rsum[h, s, a] / n + mean + scale * b
                q[h, s, a] = min(q_prev[h, s, a], cap, backup)
        v_next = q[h].max(-1)
    return q


def test_hoeffding_bonus_closed_form():
    visits = jnp.asarray([[1.0, 4.0], [9.0, 0.0]])
    got = np.asarray(ucbvi_hoeffding_bonus(visits, 5, 2.0))
    # 7 H L / sqrt(N): 7 * 5 * 2 = 70.
    np.testing.assert_allclose(got, [[70.0, 35.0], [70.0 / 3, np.inf]], rtol=1e-6)


def test_bernstein_bonus_closed_form():
    # One (s, a) with N = 4, P_hat = (1/2, 1/4, 1/4), V_next = (0, 2, 4),
    # next-step visits N' = (1, 10^12, 0).
    p_hat = jnp.asarray([[[0.5, 0.25, 0.25]]])
    v_next = jnp.asarray([0.0, 2.0, 4.0])
    n_next = jnp.asarray([1.0, 1e12, 0.0])
    horizon, num_states, num_actions, log_term = 3, 3, 1, 2.0
    got = ucbvi_bernstein_bonus(
        jnp.asarray([[4.0]]), p_hat, v_next, n_next, 3, 1, horizon, log_term
    )
    mean = 0.5 * 0 + 0.25 * 2 + 0.25 * 4  # 1.5
    var = 0.25 * 4 + 0.25 * 16 - mean**2  # 2.75
    big = 100**2 * 27 * 9 * 1 * 4  # 100^2 H^3 S^2 A L^2
    corr = 0.5 * min(big / 1, 9) + 0.25 * min(big / 1e12, 9) + 0.25 * 9
    want = (
        math.sqrt(8 * log_term * var / 4)
        + 14 * horizon * log_term / 12
        + math.sqrt(8 * corr / 4)
    )
    assert float(got[0, 0]) == pytest.approx(want, rel=1e-6)
    assert num_states == 3 and num_actions == 1


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
def test_ucbvi_matches_numpy_loop(bonus):
    num_episodes, scale, delta = 50, 1e-3, 0.1
    trajectories = _random_trajectories(1, 12)
    with jax.enable_x64(True):
        learner = ucbvi(
            S, A, H, num_episodes, bonus=bonus, bonus_scale=scale, delta=delta
        )
        act, update = jax.jit(learner.act), jax.jit(learner.update)
        state = learner.init(jax.random.key(0))
        log_term = math.log(5 * S * A * num_episodes * H / delta)
        q_ref = np.broadcast_to(
            np.arange(H, 0, -1)[:, None, None].astype(float), (H, S, A)
        )
        for k, tr in enumerate(trajectories):
            policy, state = act(jax.random.key(k), state, ())
            counts = _numpy_counts(trajectories[:k])
            q_ref = _numpy_ucbvi_q(counts, q_ref, log_term, scale, bonus)
            np.testing.assert_allclose(np.asarray(state.q_values), q_ref, atol=1e-9)
            # The policy is greedy in the optimistic Q (ties at random).
            chosen = np.take_along_axis(
                q_ref, np.asarray(policy).argmax(-1)[..., None], -1
            )[..., 0]
            np.testing.assert_allclose(chosen, q_ref.max(-1), atol=1e-9)
            state = update(state, (), policy, tr)
    # Not vacuous: after 11 episodes some values left their cap.
    assert np.any(q_ref < np.arange(H, 0, -1)[:, None, None] - 1e-6)


# --------------------------------------------------------------------------------------
# Optimistic Q-learning: the vectorised update equals Jin et al.'s online loop.
# --------------------------------------------------------------------------------------


def _numpy_q_learning(trajectories, bonus, scale, num_episodes, delta=0.1):
    """Jin et al. (2018), Alg. 1 / 2, updating Q_h right after step h."""
    iota = math.log(S * A * num_episodes * H / delta)
    q = np.broadcast_to(np.arange(H, 0, -1)[:, None, None], (H, S, A)).astype(float)
    n = np.zeros((H, S, A))
    mu = np.zeros((H, S, A))
    sig = np.zeros((H, S, A))
    beta_prev = np.zeros((H, S, A))
    for tr in trajectories:
        s, a, r = (np.asarray(x) for x in tr)
        for h in range(H):
            v = min(H - h - 1, q[h + 1, s[h + 1]].max()) if h + 1 < H else 0.0
            n[h, s[h], a[h]] += 1
            t = n[h, s[h], a[h]]
            alpha = (H + 1) / (H + t)
            if bonus == "hoeffding":
                b = scale * math.sqrt(H**3 * iota / t)
            else:
                mu[h, s[h], a[h]] += v
                sig[h, s[h], a[h]] += v**2
                w = (sig[h, s[h], a[h]] - mu[h, s[h], a[h]] ** 2 / t) / t
                beta = min(
                    scale
                    * (
                        math.sqrt(H / t * (w + H) * iota)
                        + math.sqrt(H**7 * S * A) * iota / t
                    ),
                    scale * math.sqrt(H**3 * iota / t),
                )
                b = (beta - (1 - alpha) * beta_prev[h, s[h], a[h]]) / (2 * alpha)
                beta_prev[h, s[h], a[h]] = beta
            q[h, s[h], a[h]] = (1 - alpha) * q[h, s[h], a[h]] + alpha * (r[h] + v + b)
    return q


@pytest.mark.parametrize("bonus", ["hoeffding", "bernstein"])
def test_q_learning_matches_online_numpy_loop(bonus):
    trajectories = _random_trajectories(2, 25)
    with jax.enable_x64(True):
        learner = q_learning_ucb(S, A, H, 100, bonus=bonus, bonus_scale=0.01)
        update = jax.jit(learner.update)
        state = learner.init(jax.random.key(0))
        for tr in trajectories:
            state = update(state, (), None, tr)
    want = _numpy_q_learning(trajectories, bonus, 0.01, 100)
    np.testing.assert_allclose(np.asarray(state.q_values), want, atol=1e-9)
    assert np.ptp(want) > 0.5  # not vacuous


def test_ucb_bernstein_beta_closed_form():
    # t = 4, mu = 6, sigma = 14: W = (14 - 36 / 4) / 4 = 1.25.
    iota, h = 2.0, 3
    got = ucb_bernstein_beta(4.0, 6.0, 14.0, 2, 2, h, iota, 1.0, 1.0)
    bern = math.sqrt(h / 4 * (1.25 + h) * iota) + math.sqrt(h**7 * 4) * iota / 4
    assert float(got) == pytest.approx(min(bern, math.sqrt(h**3 * iota / 4)))
    got_c = ucb_bernstein_beta(4.0, 6.0, 14.0, 2, 2, h, iota, 1e-3, 1.0)
    assert float(got_c) == pytest.approx(1e-3 * bern)


# --------------------------------------------------------------------------------------
# Samplers and posteriors.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.05, 0.5, 1.0, 3.0, 40.0])
def test_fixed_cost_gamma_distribution(alpha):
    n = 20_000
    draws = jax.jit(log_gamma_fixed_cost)(jax.random.key(1), jnp.full((n,), alpha))
    draws = np.exp(np.asarray(draws, np.float64))
    assert np.all(np.isfinite(draws)) and np.all(draws >= 0)
    # KS test against Gamma(alpha): a correct sampler fails w.p. 1e-4; a sampler off by
    # 5% in the shape has KS distance ~0.02 >> the critical value 1.95/sqrt(n) = 0.014.
    ks = scipy.stats.kstest(draws, scipy.stats.gamma(alpha).cdf)
    assert ks.pvalue > 1e-4, ks


def test_fixed_cost_dirichlet_moments():
    concentration = jnp.asarray([0.2, 1.0, 5.0])
    draws = jax.jit(jax.vmap(dirichlet_fixed_cost, in_axes=(0, None)))(
        jax.random.split(jax.random.key(2), 20_000), concentration
    )
    draws = np.asarray(draws, np.float64)
    np.testing.assert_allclose(draws.sum(-1), 1.0, atol=1e-5)
    a0 = 6.2
    mean = np.asarray(concentration) / a0
    # Standard error of each mean <= 0.5 / sqrt(20000) = 0.0035: 5 sigma is 0.018.
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.018)
    var = mean * (1 - mean) / (a0 + 1)
    np.testing.assert_allclose(draws.var(0), var, rtol=0.1)


def test_rlsvi_posterior_closed_form_and_samples():
    from algorithms.tabular import rlsvi

    # H = 1: Q ~ N(sum r / sigma^2 / (lambda + N / sigma^2), 1 / (lambda + N/sigma^2)).
    sigma, lam = 0.5, 2.0
    visits = jnp.asarray([[0.0, 3.0]])
    sums = jnp.asarray([[0.0, 1.5]])
    mean, std = rlsvi_posterior(visits, sums, sigma, lam)
    np.testing.assert_allclose(np.asarray(mean), [[0.0, 6.0 / 14.0]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(std), [[1 / math.sqrt(2), 1 / math.sqrt(14)]])
    # The learner's sampled policy: P(play a=1) = P(N(6/14, 1/14) > N(0, 1/2)).
    learner = rlsvi(1, 2, 1, noise_scale=sigma, prior_precision=lam)
    state = learner.init(jax.random.key(0))
    tr = Trajectory(jnp.zeros(1, jnp.int32), jnp.ones(1, jnp.int32), jnp.full(1, 0.5))
    for _ in range(3):
        state = learner.update(state, (), None, tr)
    keys = jax.random.split(jax.random.key(3), 20_000)
    policies = jax.jit(jax.vmap(lambda k: learner.act(k, state, ())[0]))(keys)
    freq = float(np.mean(np.asarray(policies)[:, 0, 0, 1]))
    want = scipy.stats.norm.cdf((6 / 14) / math.sqrt(1 / 14 + 1 / 2))
    # Binomial standard error <= 0.0036 at n = 20000: 5 sigma = 0.018.
    assert freq == pytest.approx(want, abs=0.018)


def test_empirical_model_stationary_pools_steps():
    trajectories = _random_trajectories(4, 10)
    counts = init_counts(S, A, H)
    for tr in trajectories:
        counts = update_counts(counts, tr)
    p_hat, r_hat, n, _ = empirical_model(counts, stationary=True)
    visits, trans, rsum = _numpy_counts(trajectories)
    np.testing.assert_allclose(np.asarray(n[2]), visits.sum(0))
    want = trans.sum(0) / np.maximum(trans.sum(0).sum(-1, keepdims=True), 1)
    np.testing.assert_allclose(np.asarray(p_hat[1]), want, rtol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="bonus"):
        ucbvi(2, 2, 2, 10, bonus="nope")
    with pytest.raises(ValueError, match="bonus_scale"):
        ucbvi(2, 2, 2, 10, bonus_scale=-1.0)
    with pytest.raises(ValueError, match="horizon"):
        q_learning_ucb(2, 2, 0, 10)


# --------------------------------------------------------------------------------------
# Statistical: sublinear regret on a small RiverSwim.
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ucbvi_h", "ucbvi_b", "psrl", "rlsvi", "ucb_h"])
def test_regret_is_sublinear_and_below_linear(name):
    from algorithms.tabular import make_tabular_learner

    env = river_swim(4, 8)
    num_episodes = 3000
    learner = make_tabular_learner(name, 4, 2, 8, num_episodes)
    result = run(
        learner,
        env,
        num_episodes,
        key=jax.random.key(0),
        num_seeds=32,
        record=np.array([num_episodes // 2, num_episodes]),
    )
    first, total = result.regret.mean(0)
    second = total - first
    # Sublinear: the second half of the episodes costs clearly less than the first
    # (a learner stuck on a suboptimal policy pays the same in both halves; 32 seeds
    # make the mean's noise small against a factor 2).
    assert second < 0.5 * first, (first, second)
    uniform_gap = 0.0  # regret of the uniform policy per episode, for scale
    from envs.tabular_mdp import backward_induction, policy_value

    _, v = backward_induction(env.params)
    unif = policy_value(env.params, jnp.full((8, 4, 2), 0.5))
    uniform_gap = float(v[0, 0] - unif[0, 0])
    assert total < 0.2 * uniform_gap * num_episodes


def test_psrl_posterior_probability_of_playing_an_arm():
    from algorithms.tabular import psrl

    # H = S = 1, A = 2: PSRL plays arm 1 iff its Beta draw is larger. Arm 0 saw
    # rewards summing to 3 in 4 visits, arm 1 to 1 in 2: posteriors Beta(4, 2) and
    # Beta(2, 2) (prior 1): P(X1 > X0) = 0.2857... (exact: by numerical integration).
    learner = psrl(1, 2, 1)
    state = learner.init(jax.random.key(0))
    for a, r in [(0, 1.0), (0, 1.0), (0, 0.0), (0, 1.0), (1, 1.0), (1, 0.0)]:
        tr = Trajectory(
            jnp.zeros(1, jnp.int32), jnp.full(1, a, jnp.int32), jnp.full(1, r)
        )
        state = learner.update(state, (), None, tr)
    keys = jax.random.split(jax.random.key(4), 20_000)
    policies = jax.jit(jax.vmap(lambda k: learner.act(k, state, ())[0]))(keys)
    freq = float(np.mean(np.asarray(policies)[:, 0, 0, 1]))
    x = np.linspace(0, 1, 20_001)
    want = np.trapezoid(
        scipy.stats.beta(2, 2).pdf(x) * scipy.stats.beta(4, 2).cdf(x), x
    )
    # Binomial standard error <= 0.0036 at n = 20000: 5 sigma = 0.018.
    assert freq == pytest.approx(want, abs=0.018)
    assert 0.2 < want < 0.4
