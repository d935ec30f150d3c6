"""Latent MDPs: the exact comparator, the env's regret, the learners' contract and a
statistical check of sublinear regret."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.tabular.latent import (
    LATENT_ALGORITHMS,
    latent_bernstein_bonus,
    latent_ucb,
)
from envs.latent_mdp import (
    best_markov_policy,
    deterministic_policies,
    latent_mdp,
    latent_policy_value,
    random_latent_mdp,
    sample_latent_mdp_params,
)
from experiments.runner import run
from tests.helpers import check_learner_contract


def _numpy_value(P, r, nu, w, actions):
    """sum_m w_m nu_m . V^pi_m by plain loops (float64); actions [H, S] ints."""
    M, H, S, A, _ = P.shape
    total = 0.0
    for m in range(M):
        v = np.zeros(S)
        for h in reversed(range(H)):
            v = np.array(
                [
                    r[m, h, s, actions[h, s]] + P[m, h, s, actions[h, s]] @ v
                    for s in range(S)
                ]
            )
        total += w[m] * nu[m] @ v
    return total


def _tiny_instance(seed=0):
    with jax.enable_x64(True):
        params = sample_latent_mdp_params(jax.random.key(seed), 2, 2, 2, 3)
        return jax.tree.map(np.asarray, params)


def test_comparator_matches_numpy_brute_force():
    P, r, nu, w = _tiny_instance()
    best_np = max(
        _numpy_value(P, r, nu, w, np.asarray(a).reshape(3, 2))
        for a in itertools.product(range(2), repeat=6)
    )
    with jax.enable_x64(True):
        params = jax.tree.map(jnp.asarray, (P, r, nu, w))
        params = type(sample_latent_mdp_params(jax.random.key(0), 2, 2, 2, 3))(*params)
        value, policy = jax.jit(best_markov_policy)(params)
        np.testing.assert_allclose(float(value), best_np, rtol=1e-12)
        np.testing.assert_allclose(
            float(latent_policy_value(params, policy)), best_np, rtol=1e-12
        )
        # No stochastic Markov policy beats it (the value is multilinear in the
        # decision rules): 200 random ones.
        rng = np.random.default_rng(0)
        policies = jnp.asarray(rng.dirichlet(np.ones(2), size=(200, 3, 2)))
        values = jax.jit(jax.vmap(lambda p: latent_policy_value(params, p)))(policies)
        assert np.all(np.asarray(values) <= best_np + 1e-12)


def test_env_regret_of_optimal_policy_is_zero_and_uniform_known():
    P, r, nu, w = _tiny_instance(3)
    env = latent_mdp(P, r, nu, w, horizon=3)
    reset, step = jax.jit(env.reset), jax.jit(env.step)
    state, _ = reset(jax.random.key(0), env.params)
    _, best = best_markov_policy(env.params)
    _, _, feedback, info = step(jax.random.key(1), state, best, env.params)
    assert abs(float(info.regret)) < 1e-6
    assert feedback.states.shape == (3,) and 0 <= int(feedback.context) < 2
    uniform = jnp.full((3, 2, 2), 0.5)
    _, _, _, info = step(jax.random.key(1), state, uniform, env.params)
    expected = float(state.optimal_value) - np.mean(
        [
            _numpy_value(P, r, nu, w, np.asarray(a).reshape(3, 2))
            for a in itertools.product(range(2), repeat=6)
        ]
    )  # V(uniform) = mean over deterministic policies (multilinearity)
    np.testing.assert_allclose(float(info.regret), expected, rtol=1e-4, atol=1e-6)


def test_context_frequencies_follow_weights():
    # 4,000 episodes: the empirical frequency of context 0 is within 5 standard
    # deviations (sqrt(w (1 - w) / n) <= 0.008) of w_0.
    P, r, nu, w = _tiny_instance(5)
    env = latent_mdp(P, r, nu, w, horizon=3)
    state, _ = env.reset(jax.random.key(0), env.params)
    policy = jnp.full((3, 2, 2), 0.5)
    step = jax.jit(
        jax.vmap(lambda k: env.step(k, state, policy, env.params)[2].context)
    )
    contexts = np.asarray(step(jax.random.split(jax.random.key(2), 4000)))
    assert abs(np.mean(contexts == 0) - w[0]) < 5 * np.sqrt(w[0] * (1 - w[0]) / 4000)


def test_validation():
    P, r, nu, w = _tiny_instance()
    with pytest.raises(ValueError, match="weights"):
        latent_mdp(P, r, nu, w * 2, horizon=3)
    with pytest.raises(ValueError, match="rewards"):
        latent_mdp(P, r + 2, nu, w, horizon=3)
    with pytest.raises(ValueError, match="distribution"):
        latent_mdp(P * 2, r, nu, w, horizon=3)
    with pytest.raises(ValueError, match="exceed"):
        deterministic_policies(5, 4, 6)
    with pytest.raises(ValueError, match="exceed"):
        latent_ucb(2, 5, 4, 6, 10)


def test_bernstein_bonus_closed_form():
    visits = jnp.asarray([[4.0, 0.0]])
    p_hat = jnp.asarray([[[0.5, 0.5], [0.0, 0.0]]])
    value_next = jnp.asarray([0.0, 1.0])
    b = np.asarray(latent_bernstein_bonus(visits, p_hat, value_next, 2.0, 0.5))
    # variance 0.25: 0.5 (sqrt(0.25 * 2 / 4) + 2 / 4); unvisited: +inf.
    np.testing.assert_allclose(b[0, 0], 0.5 * (np.sqrt(0.125) + 0.5), rtol=1e-6)
    assert np.isinf(b[0, 1])


# The eager (disable_jit) rollout evaluates every Markov policy op by op (the env's
# comparator at reset, latent_ucb's planning): the learning algorithms run with the
# slow suite; the uniform policy checks the env side of the contract in the fast one.
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=[pytest.mark.slow] if n != "uniform" else [])
        for n in LATENT_ALGORITHMS
    ],
)
def test_contract(name):
    env = random_latent_mdp(2, 2, 2, 2)
    params = env.sample_params(jax.random.key(1))
    learner = LATENT_ALGORITHMS[name](2, 2, 2, 2, 20)
    policies = check_learner_contract(
        learner, env.with_params(params), num_rounds=3, run_rounds=20, num_seeds=2
    )
    assert policies.shape == (3, 2, 2, 2)
    np.testing.assert_allclose(policies.sum(-1), 1.0, atol=1e-6)


@pytest.mark.slow
def test_latent_ucb_regret_sublinear():
    # M = 2, S = 2, A = 2, H = 3 random latent MDPs (one per seed), K = 400, 16 seeds.
    # Sublinear: the regret of the last 200 episodes is below half that of the first
    # 200 (measured ratio ~0.2) and far below the uniform policy's (a linear baseline).
    # Thresholds at about twice the measured values; per-seed regrets are bounded by
    # 1 per episode, so 16 seeds put the mean within a few hundredths.
    env = random_latent_mdp(2, 2, 2, 3)
    record = np.array([200, 400])
    kwargs = dict(key=jax.random.key(0), num_seeds=16, record=record)
    ours = np.asarray(run(latent_ucb(2, 2, 2, 3, 400), env, 400, **kwargs).regret)
    uniform = np.asarray(
        run(LATENT_ALGORITHMS["uniform"](2, 2, 2, 3, 400), env, 400, **kwargs).regret
    )
    first, second = ours[:, 0].mean(), (ours[:, 1] - ours[:, 0]).mean()
    assert second < 0.5 * first, (first, second)
    assert ours[:, 1].mean() < 0.5 * uniform[:, 1].mean(), (
        ours.mean(0),
        uniform.mean(0),
    )
