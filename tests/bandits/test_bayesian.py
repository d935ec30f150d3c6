"""Bayesian bandits: the fixed-cost Beta sampler's law, conjugate posteriors, Bayes-UCB
quantiles against a float64 reference, a few rounds against NumPy, and regret."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sps
from scipy import integrate, stats

from algorithms.bandits.bayesian import (
    bayes_ucb,
    beta_sample,
    beta_upper_quantile,
    gaussian_posterior,
    gaussian_thompson_sampling,
    log_gamma_sample,
    thompson_sampling,
)
from envs.threefry import threefry2x32 as _threefry2x32

# Kolmogorov-Smirnov critical value at level alpha = 1e-4 for the asymptotic Kolmogorov
# law: P(sqrt(n) D_n > c) ~ 2 exp(-2 c^2) = alpha, so c = sqrt(ln(2 / alpha) / 2)
# = 2.2255 (the next term of the series, -2 exp(-8 c^2), is ~1e-17; at n = 200,000 the
# finite-n correction is far smaller than the test's margin).
KS_ALPHA = 1e-4
KS_C = float(np.sqrt(np.log(2.0 / KS_ALPHA) / 2.0))
NUM_DRAWS = 200_000
_beta_sample = jax.jit(beta_sample)  # eager dispatch of its ~60 ops is slow in loops


def _ks_statistic(samples: np.ndarray, cdf) -> float:
    """sup_x |F_n(x) - F(x)| for continuous F, from the sorted sample."""
    x = np.sort(np.asarray(samples, np.float64))
    f = cdf(x)
    n = x.size
    above = np.arange(1, n + 1) / n - f
    below = f - np.arange(n) / n
    return float(max(above.max(), below.max()))


def _beta_moments(a: float, b: float) -> tuple[float, float, float]:
    """Mean, variance and fourth central moment of Beta(a, b)."""
    mean = a / (a + b)
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    excess_kurtosis = (
        6
        * ((a - b) ** 2 * (a + b + 1) - a * b * (a + b + 2))
        / (a * b * (a + b + 2) * (a + b + 3))
    )
    return mean, var, (excess_kurtosis + 3) * var**2


# --------------------------------------------------------------------------------------
# The fixed-cost sampler.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [(1.0, 1.0), (1.0, 50.0), (50.0, 1.0), (300.0, 700.0), (0.5, 0.5), (2e5, 6e5)],
)
def test_beta_sample_matches_beta_law(a, b):
    n = NUM_DRAWS
    draws = _beta_sample(jax.random.key(7), jnp.full((n,), a), jnp.full((n,), b))
    draws = np.asarray(draws, np.float64)
    assert np.all((draws >= 0) & (draws <= 1))
    mean, var, fourth = _beta_moments(a, b)
    # Sample mean and variance are asymptotically normal with standard errors
    # sqrt(var / n) and sqrt((mu_4 - var^2) / n); 6 standard errors: a correct sampler
    # fails with probability ~2e-9 per check.
    assert abs(draws.mean() - mean) < 6 * np.sqrt(var / n)
    assert abs(draws.var() - var) < 6 * np.sqrt((fourth - var**2) / n)
    # Against the exact CDF, computed in float64 by SciPy.
    ks = _ks_statistic(draws, lambda x: sps.betainc(a, b, x))
    assert ks < KS_C / np.sqrt(n), (ks * np.sqrt(n), KS_C)


@pytest.mark.parametrize("shape", [0.05, 0.5, 1.0, 7.5, 1e6])
def test_log_gamma_sample_matches_gamma_law(shape):
    # In log space, so that shapes < 1 (whose Gamma draws underflow float32 with
    # probability ~1% at 0.05) are checked too: P(log G <= y) = P(a, e^y).
    n = NUM_DRAWS
    log_draws = log_gamma_sample(jax.random.key(3), jnp.full((n,), shape))
    log_draws = np.asarray(log_draws, np.float64)
    assert np.all(np.isfinite(log_draws))
    ks = _ks_statistic(log_draws, lambda y: sps.gammainc(shape, np.exp(y)))
    assert ks < KS_C / np.sqrt(n), (ks * np.sqrt(n), KS_C)
    if shape >= 1:  # the mean and variance of G itself (a fails for 0.05: underflow)
        draws = np.exp(log_draws)
        assert abs(draws.mean() - shape) < 6 * np.sqrt(shape / n)
        # Var of the sample variance of Gamma(a): (mu_4 - a^2) / n, mu_4 = 3a^2 + 6a.
        assert abs(draws.var() - shape) < 6 * np.sqrt((2 * shape**2 + 6 * shape) / n)


def test_beta_sample_is_finite_on_extreme_shapes():
    a = jnp.asarray([1e-3, 1e-3, 1e7, 1e7, 1.0, 1e-30])
    b = jnp.asarray([1e-3, 1e7, 1e-3, 1e7, 1e-30, 1.0])
    for seed in range(20):
        draws = np.asarray(_beta_sample(jax.random.key(seed), a, b))
        assert np.all(np.isfinite(draws)) and np.all((draws >= 0) & (draws <= 1))
    # Beta(1e7, 1e7) concentrates at 1/2 with standard deviation 1.1e-4.
    draws = _beta_sample(
        jax.random.key(0), jnp.full((1000,), 1e7), jnp.full((1000,), 1e7)
    )
    assert abs(float(jnp.mean(draws)) - 0.5) < 6 * 1.1e-4 / np.sqrt(1000)


def test_beta_sample_float64():
    # Under x64 each uniform takes 52 random bits from two Threefry words.
    n, a, b = 100_000, 2.0, 5.0
    with jax.enable_x64(True):
        draws = jax.jit(beta_sample)(
            jax.random.key(11), jnp.full((n,), a, jnp.float64), jnp.full((n,), b)
        )
        assert draws.dtype == jnp.float64
        draws = np.asarray(draws)
    mean, var, _ = _beta_moments(a, b)
    assert abs(draws.mean() - mean) < 6 * np.sqrt(var / n)
    ks = _ks_statistic(draws, lambda x: sps.betainc(a, b, x))
    assert ks < KS_C / np.sqrt(n), (ks * np.sqrt(n), KS_C)


def test_threefry_known_answer_vectors():
    # Random123's known-answer vectors for Threefry-2x32 with 20 rounds (also used by
    # JAX's own tests): (key, counter) -> output.
    vectors = [
        ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
        ((0xFFFFFFFF,) * 2, (0xFFFFFFFF,) * 2, (0x1CB996FC, 0xBB002BE7)),
        ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
    ]
    for key, counter, expected in vectors:
        words = _threefry2x32(*(jnp.uint32(v) for v in key + counter))
        assert tuple(int(w) for w in words) == expected


def test_beta_sample_keys_are_consumed():
    a, b = jnp.full((4,), 2.0), jnp.full((4,), 3.0)
    same = _beta_sample(jax.random.key(1), a, b), _beta_sample(jax.random.key(1), a, b)
    np.testing.assert_array_equal(*same)
    other = _beta_sample(jax.random.key(2), a, b)
    assert not np.any(np.asarray(other) == np.asarray(same[0]))


# --------------------------------------------------------------------------------------
# Beta-Bernoulli Thompson sampling.
# --------------------------------------------------------------------------------------

ACTIONS = [0, 2, 2, 1, 0, 2, 3, 2]
REWARDS = [1.0, 0.0, 1.0, 1.0, 0.25, 1.7, 0.0, -0.5]  # fractional; last two clipped


def test_thompson_posterior_is_prior_plus_successes_and_failures():
    learner = thompson_sampling(4, prior_alpha=2.0, prior_beta=3.0)
    state = learner.init(jax.random.key(0))
    for action, reward in zip(ACTIONS, REWARDS, strict=True):
        state = learner.update(state, (), jnp.int32(action), jnp.float32(reward))
    successes, failures = np.zeros(4), np.zeros(4)
    for action, reward in zip(ACTIONS, REWARDS, strict=True):
        r = min(max(reward, 0.0), 1.0)
        successes[action] += r
        failures[action] += 1.0 - r
    np.testing.assert_allclose(state.alpha, 2.0 + successes, rtol=1e-6)
    np.testing.assert_allclose(state.beta, 3.0 + failures, rtol=1e-6)
    np.testing.assert_allclose(state.alpha, [3.25, 3.0, 4.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(state.beta, [3.75, 3.0, 5.0, 4.0], rtol=1e-6)


def test_thompson_act_is_argmax_of_posterior_draws():
    learner = thompson_sampling(4)
    state = learner.init(jax.random.key(0))._replace(
        alpha=jnp.asarray([3.0, 1.0, 7.0, 2.0]), beta=jnp.asarray([2.0, 1.0, 9.0, 5.0])
    )
    act = jax.jit(learner.act)
    for seed in range(10):
        key = jax.random.key(seed)
        action, new_state = act(key, state, ())
        draws = _beta_sample(key, state.alpha, state.beta)
        assert int(action) == int(np.argmax(np.asarray(draws)))
        assert action.dtype == jnp.int32
        np.testing.assert_array_equal(new_state.alpha, state.alpha)


def test_thompson_action_probability_matches_posterior():
    # Two arms with posteriors Beta(3, 2) and Beta(2, 3): TS pulls arm 0 with
    # probability P(theta_0 > theta_1) = int f_{3,2}(x) F_{2,3}(x) dx (by quadrature).
    exact, _ = integrate.quad(
        lambda x: stats.beta.pdf(x, 3, 2) * stats.beta.cdf(x, 2, 3), 0, 1
    )
    learner = thompson_sampling(2)
    state = learner.init(jax.random.key(0))._replace(
        alpha=jnp.asarray([3.0, 2.0]), beta=jnp.asarray([2.0, 3.0])
    )
    n = 40_000
    keys = jax.random.split(jax.random.key(5), n)
    actions = jax.jit(jax.vmap(lambda k: learner.act(k, state, ())[0]))(keys)
    frequency = float(np.mean(np.asarray(actions) == 0))
    # Binomial standard error; 6 of them.
    assert abs(frequency - exact) < 6 * np.sqrt(exact * (1 - exact) / n)


def test_thompson_few_rounds_against_numpy_reference():
    # The reference keeps its own float64 posterior and pulls the argmax of the same
    # draws (beta_sample with the round's key, the sampler being tested above).
    num_arms, num_rounds = 3, 12
    means = np.array([0.2, 0.5, 0.8])
    rng = np.random.default_rng(0)
    reward_table = (rng.random((num_rounds, num_arms)) < means).astype(np.float32)
    learner = thompson_sampling(num_arms, prior_alpha=1.5, prior_beta=0.5)
    act, update = jax.jit(learner.act), jax.jit(learner.update)
    state = learner.init(jax.random.key(0))
    alpha, beta = np.full(num_arms, 1.5), np.full(num_arms, 0.5)
    for t in range(num_rounds):
        key = jax.random.key(100 + t)
        action, state = act(key, state, ())
        draws = np.asarray(_beta_sample(key, jnp.asarray(alpha), jnp.asarray(beta)))
        assert int(action) == int(np.argmax(draws))
        reward = reward_table[t, int(action)]
        state = update(state, (), action, reward)
        alpha[int(action)] += reward
        beta[int(action)] += 1.0 - reward
        np.testing.assert_allclose(state.alpha, alpha, rtol=1e-6)
        np.testing.assert_allclose(state.beta, beta, rtol=1e-6)


def test_thompson_prior_is_traceable():
    # Every numeric hyperparameter traced (a concrete one would be validated inside the
    # trace by algorithms.core's checks).
    def first_alpha(prior):
        learner = thompson_sampling(3, prior_alpha=prior, prior_beta=prior + 1.0)
        state = learner.init(jax.random.key(0))
        state = learner.update(state, (), jnp.int32(1), jnp.float32(1.0))
        return state.alpha

    out = jax.jit(jax.vmap(first_alpha))(jnp.asarray([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(out, [[0.5, 1.5, 0.5], [1, 2, 1], [2, 3, 2]])
    with pytest.raises(ValueError):
        thompson_sampling(3, prior_alpha=0.0)


# --------------------------------------------------------------------------------------
# Gaussian Thompson sampling.
# --------------------------------------------------------------------------------------


def test_gaussian_posterior_matches_sequential_conjugate_updates():
    prior_mean, prior_var, noise_var = 0.3, 2.0, 0.5
    learner = gaussian_thompson_sampling(
        3, prior_mean=prior_mean, prior_var=prior_var, noise_var=noise_var
    )
    state = learner.init(jax.random.key(0))
    rewards = [(0, 1.2), (2, -0.4), (0, 0.7), (0, 2.1), (1, 0.05), (2, 3.3)]
    # Reference: one observation at a time, in float64: precision += 1 / noise_var,
    # mean = (old_precision * old_mean + r / noise_var) / precision.
    precision = np.full(3, 1.0 / prior_var)
    mean = np.full(3, prior_mean)
    for action, reward in rewards:
        state = learner.update(state, (), jnp.int32(action), jnp.float32(reward))
        new_precision = precision[action] + 1.0 / noise_var
        mean[action] = (precision[action] * mean[action] + reward / noise_var) / (
            new_precision
        )
        precision[action] = new_precision
    post_mean, post_var = gaussian_posterior(
        state.counts,
        state.sums,
        prior_mean=prior_mean,
        prior_var=prior_var,
        noise_var=noise_var,
    )
    np.testing.assert_allclose(post_mean, mean, rtol=1e-5)
    np.testing.assert_allclose(post_var, 1.0 / precision, rtol=1e-6)
    # Closed form for arm 0 (3 observations summing to 4.0).
    closed_var = 1.0 / (1 / 2.0 + 3 / 0.5)
    np.testing.assert_allclose(post_var[0], closed_var, rtol=1e-6)
    np.testing.assert_allclose(
        post_mean[0], closed_var * (0.3 / 2.0 + 4.0 / 0.5), rtol=1e-6
    )


def test_gaussian_thompson_act_uses_posterior_draws():
    learner = gaussian_thompson_sampling(4, prior_var=1.0, noise_var=1.0)
    state = learner.init(jax.random.key(0))._replace(
        counts=jnp.asarray([3.0, 0.0, 10.0, 1.0]), sums=jnp.asarray([1.5, 0, 6.0, 0.9])
    )
    # Agrawal and Goyal's form: N(S / (N + 1), 1 / (N + 1)).
    mean = np.array([1.5 / 4, 0.0, 6.0 / 11, 0.9 / 2])
    std = np.sqrt(1.0 / np.array([4.0, 1.0, 11.0, 2.0]))
    for seed in range(10):
        key = jax.random.key(seed)
        action, _ = learner.act(key, state, ())
        noise = np.asarray(jax.random.normal(key, (4,)))
        assert int(action) == int(np.argmax(mean + std * noise))


# --------------------------------------------------------------------------------------
# Bayes-UCB.
# --------------------------------------------------------------------------------------


def _reference_upper_quantile(a: float, b: float, tail: float) -> float:
    """float64 bisection (200 steps) on SciPy's complemented CDF 1 - I_x(a, b)."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if sps.betaincc(a, b, mid) > tail:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


QUANTILE_CASES = [
    (a, b, tail)
    for a, b in [(1.0, 1.0), (1.0, 30.0), (30.0, 1.0), (12.5, 40.0), (300.0, 700.0)]
    for tail in [0.5, 1e-2, 1e-4, 1e-6]
]


def test_beta_upper_quantile_matches_float64_reference():
    a, b, tail = (
        jnp.asarray(v, jnp.float32) for v in zip(*QUANTILE_CASES, strict=True)
    )
    got = np.asarray(jax.jit(beta_upper_quantile)(a, b, tail))
    want = np.array([_reference_upper_quantile(*case) for case in QUANTILE_CASES])
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    # And SciPy's own inverse survival function agrees with the reference.
    np.testing.assert_allclose(
        want, [stats.beta.isf(t, a_, b_) for a_, b_, t in QUANTILE_CASES], atol=1e-9
    )


def test_beta_upper_quantile_float64_large_posteriors():
    cases = [(1e4, 3e4, 1e-3), (5e5, 5e5, 1e-6), (1.0, 1e5, 1e-5), (2.0, 5.0, 0.9)]
    with jax.enable_x64(True):
        a, b, tail = (jnp.asarray(v, jnp.float64) for v in zip(*cases, strict=True))
        got = np.asarray(beta_upper_quantile(a, b, tail))
    want = [stats.beta.isf(t, a_, b_) for a_, b_, t in cases]
    np.testing.assert_allclose(got, want, atol=1e-9, rtol=0)


def test_bayes_ucb_few_rounds_against_numpy_reference():
    num_arms, horizon, c, num_rounds = 3, 1000, 1.0, 10
    rng = np.random.default_rng(1)
    reward_table = (rng.random((num_rounds, num_arms)) < [0.3, 0.5, 0.7]).astype(float)
    learner = bayes_ucb(num_arms, horizon=horizon, c=c)
    act = jax.jit(learner.act)
    state = learner.init(jax.random.key(0))
    alpha, beta = np.ones(num_arms), np.ones(num_arms)
    for t in range(1, num_rounds + 1):
        action, state = act(jax.random.key(t), state, ())
        tail = 1.0 / (t * np.log(horizon) ** c)
        index = np.array(
            [
                _reference_upper_quantile(a, b, tail)
                for a, b in zip(alpha, beta, strict=True)
            ]
        )
        # The pulled arm attains the maximal index (ties broken at random).
        assert index[int(action)] >= index.max() - 1e-5
        reward = reward_table[t - 1, int(action)]
        state = learner.update(state, (), action, reward)
        alpha[int(action)] += reward
        beta[int(action)] += 1.0 - reward
        np.testing.assert_allclose(state.alpha, alpha)
        np.testing.assert_allclose(state.beta, beta)
        assert int(state.num_rounds) == t


def test_bayes_ucb_first_round_ties_are_random():
    # With c = 0 the level at t = 1 is 0: every quantile is 0 and the pull is uniform.
    learner = bayes_ucb(4, horizon=100)
    state = learner.init(jax.random.key(0))
    keys = jax.random.split(jax.random.key(1), 400)
    actions = np.asarray(
        jax.jit(jax.vmap(lambda k: learner.act(k, state, ())[0]))(keys)
    )
    counts = np.bincount(actions, minlength=4)
    # Multinomial(400, 1/4): each count has sd sqrt(400 * 3/16) = 8.7; 6 sd = 52.
    assert np.all(np.abs(counts - 100) < 52), counts


def test_bayes_ucb_validates_horizon():
    with pytest.raises(ValueError):
        bayes_ucb(3, horizon=1)
    with pytest.raises(ValueError):
        bayes_ucb(3, horizon=100, c=-1.0)


# --------------------------------------------------------------------------------------
# Regret (statistical).
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["thompson", "bayes_ucb"])
def test_regret_below_ucb1_on_bernoulli_instance(name):
    from algorithms.bandits.stochastic import ucb1
    from envs.bandits import bernoulli_bandit
    from experiments.runner import run

    num_arms = 5
    # Bayes-UCB's bisection on betainc is ~30x slower per round than TS.
    num_rounds, num_seeds = (2000, 200) if name == "thompson" else (1000, 100)
    env = bernoulli_bandit([0.5, 0.45, 0.4, 0.3, 0.2])
    learner = {
        "thompson": thompson_sampling(num_arms),
        "bayes_ucb": bayes_ucb(num_arms, horizon=num_rounds),
    }[name]
    key = jax.random.key(42)  # the same key: the same reward draws (paired comparison)
    regret = {
        label: np.asarray(
            run(
                alg, env, num_rounds, key=key, num_seeds=num_seeds, record=[num_rounds]
            ).final_regret
        )
        for label, alg in ((name, learner), ("ucb1", ucb1(num_arms)))
    }
    # UCB1 (alpha = 2) pulls an arm with gap Delta about 2 ln T / Delta^2 times (its
    # bound: 8 ln T / Delta^2); TS and Bayes-UCB about ln T / kl(mu, mu*), i.e.
    # ~0.5 ln T / Delta^2 at these means (Lai-Robbins). Require the mean paired
    # difference to exceed 4 standard errors, and a 40% reduction (measured: 59% for
    # TS at T = 2000, 48% for Bayes-UCB at T = 1000).
    diff = regret["ucb1"] - regret[name]
    se = diff.std(ddof=1) / np.sqrt(num_seeds)
    assert diff.mean() > 4 * se, {k: v.mean() for k, v in regret.items()}
    assert regret[name].mean() < 0.6 * regret["ucb1"].mean()
