"""Tests for the linear-Q adversarial MDPs: the env's Q-linearity and simulator, the
estimators' expectations by Monte Carlo, the log-barrier FTRL step against a NumPy
root solve, the bonus and the learner update against plain NumPy loops, and (slow)
sublinear regret."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq, minimize

from algorithms.adversarial_mdp import linear_q as lq
from algorithms.adversarial_mdp.mgr import mgr_expectation
from algorithms.adversarial_mdp.occupancy import occupancy_measure
from algorithms.adversarial_mdp.policy_optimization import policy_q_values
from envs.adversarial_mdp import (
    AdversarialMDPFeedback,
    LinearQObservation,
    adversarial_mdp,
    drifting_losses,
    linear_q_mdp,
    linear_q_weights,
    simulate,
)
from envs.tabular_mdp import TabularMDPParams, simulate_episode
from experiments.runner import run

S, A, H, D = 3, 3, 3, 4


def _instance(seed, num_actions=A, losses="drifting"):
    env = linear_q_mdp(S, num_actions, H, D, losses=losses)
    params = env.sample_params(jax.random.key(seed))
    obs = LinearQObservation(params.losses.features, params.transitions, params.initial)
    return env, params, obs


def _random_policy(seed, num_actions=A):
    logits = jax.random.normal(jax.random.key(seed), (H, S, num_actions))
    return jax.nn.softmax(logits, axis=-1)


def _theta(params, episode):
    theta, _ = drifting_losses(None, params.losses.weights, jnp.asarray(episode))
    return theta.reshape(H, D)


# --------------------------------------------------------------------------------------
# The environment.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_q_functions_are_linear_in_the_features(seed):
    """phi^T w^pi equals backward induction on the loss table for random policies."""
    with jax.enable_x64(True):
        _, params, _ = _instance(seed)
        for episode in (0, 17):
            theta = _theta(params, episode)
            policy = _random_policy(seed + episode)
            w = jax.jit(linear_q_weights)(params.losses, theta, policy)
            losses = jnp.einsum("hsad,hd->hsa", params.losses.features, theta)
            q = jax.jit(policy_q_values)(params.transitions, losses, policy)
            linear = jnp.einsum("hsad,hd->hsa", params.losses.features, w)
            np.testing.assert_allclose(linear, q, atol=1e-12)
        # the instance is a valid layered MDP with losses in [0, 1]
        np.testing.assert_allclose(params.transitions.sum(-1), 1.0, atol=1e-12)
        assert np.all(losses >= 0) and np.all(losses <= 1)


@pytest.mark.slow
def test_env_bandit_feedback_and_linear_losses():
    env, params, _ = _instance(3)
    state, obs = env.reset(jax.random.key(0), params)
    assert isinstance(obs, LinearQObservation)
    policy = _random_policy(4)
    _, _, feedback, info = jax.jit(env.step)(jax.random.key(1), state, policy, params)
    assert feedback.loss_table is None
    theta = _theta(params, 0)
    features = params.losses.features
    expected = features[jnp.arange(H), feedback.states, feedback.actions] @ theta.T
    np.testing.assert_allclose(feedback.losses, jnp.diagonal(expected), rtol=1e-5)
    assert np.isfinite(info.regret)


def test_env_rejects_bad_linear_arguments():
    with pytest.raises(ValueError, match="feature_dim"):
        linear_q_mdp(2, 2, 2, 1)
    with pytest.raises(ValueError, match="random"):
        adversarial_mdp(2, 2, 2, feature_dim=3, transitions=np.ones((2, 2, 2, 2)) / 2)
    with pytest.raises(ValueError, match="feature_concentration"):
        linear_q_mdp(2, 2, 2, 2, feature_concentration=0.0)


def test_simulator_frequencies_match_the_occupancy_measure():
    """Visit frequencies of 20,000 simulated episodes match q^pi: each entry's
    standard error is at most sqrt(0.25 / 20000) = 0.0035; 0.02 is > 5 of them."""
    _, params, obs = _instance(5)
    policy = _random_policy(6)
    rollouts = jax.jit(simulate, static_argnames="num_rollouts")(
        jax.random.key(7), obs, policy, num_rollouts=20_000
    )
    visits = (
        jax.nn.one_hot(rollouts.states, S)[..., None]
        * jax.nn.one_hot(rollouts.actions, A)[..., None, :]
    ).mean(0)
    q = occupancy_measure(params.transitions, params.initial, policy)
    np.testing.assert_allclose(visits, q, atol=0.02)
    features = params.losses.features[
        jnp.arange(H), rollouts.states[0], rollouts.actions[0]
    ]
    np.testing.assert_allclose(rollouts.features[0], features)


# --------------------------------------------------------------------------------------
# Estimators.
# --------------------------------------------------------------------------------------


def _exact_covariance(params, policy):
    q = occupancy_measure(params.transitions, params.initial, policy)
    phi = params.losses.features
    return jnp.einsum("hsa,hsad,hsae->hde", q, phi, phi)


@pytest.mark.parametrize("ridge", [0.0, pytest.param(0.3, marks=pytest.mark.slow)])
def test_q_estimate_expectation_by_monte_carlo(ridge):
    """E[Q_hat] = phi^T (gamma I + Sigma)^{-1} Sigma w^pi (= Q^pi for gamma = 0),
    checked on 40,000 episodes per entry within 5 standard errors (+1e-3): a
    correct estimator fails with probability < 1e-4 over the 27 entries; a missing
    loss-to-go or a wrong covariance shifts the mean by far more."""
    with jax.enable_x64(True):
        _, params, obs = _instance(8)
        policy = _random_policy(9)
        theta = _theta(params, 3)
        losses = jnp.einsum("hsad,hd->hsa", params.losses.features, theta)
        covariance = _exact_covariance(params, policy)
        # Layer 0 has one reachable state (A = 3 < d = 4 features): Sigma_0 is
        # singular, so gamma = 0 uses the pseudo-inverse; E[Q_hat] = Q^pi holds where
        # phi lies in the range of Sigma (every reachable pair).
        inverse = jnp.linalg.pinv(covariance + ridge * jnp.eye(D)[None])
        mdp = TabularMDPParams(params.transitions, losses, params.initial)

        def one(key):
            trajectory = simulate_episode(key, mdp, policy)
            feedback = AdversarialMDPFeedback(
                trajectory.states, trajectory.actions, trajectory.rewards, None
            )
            return lq.linear_q_estimates(obs.features, inverse, feedback)

        samples = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(10), 40_000))
        mean = samples.mean(0)
        stderr = samples.std(0) / math.sqrt(samples.shape[0])
        w = linear_q_weights(params.losses, theta, policy)
        expected_w = jnp.einsum("hde,hef,hf->hd", inverse, covariance, w)
        expected = jnp.einsum("hsad,hd->hsa", params.losses.features, expected_w)
        assert np.all(np.abs(mean - expected) <= 5 * stderr + 1e-3)
        if ridge == 0.0:
            q = policy_q_values(params.transitions, losses, policy)
            np.testing.assert_allclose(expected[1:], q[1:], atol=1e-9)
            np.testing.assert_allclose(expected[0, 0], q[0, 0], atol=1e-9)


def test_empirical_inverse_covariance_matches_numpy():
    with jax.enable_x64(True):
        features = jax.random.dirichlet(jax.random.key(0), jnp.ones(D), (7, H))
        got = lq.empirical_inverse_covariance(features, 0.1)
        x = np.asarray(features)
        for h in range(H):
            cov = sum(np.outer(x[n, h], x[n, h]) for n in range(7)) / 7
            np.testing.assert_allclose(got[h], np.linalg.inv(cov + 0.1 * np.eye(D)))


@pytest.mark.slow
def test_mgr_inverse_covariance_mean():
    """The MGR estimate's mean over 4,000 draws equals beta sum_j (I - beta (gamma I +
    Sigma))^j (the ridge folded into the samples); tolerance 5 standard errors
    + 1e-3 per entry."""
    with jax.enable_x64(True):
        _, params, obs = _instance(11)
        policy = _random_policy(12)
        ridge, beta, num_samples = 0.2, 0.5, 12
        draws = jax.jit(
            jax.vmap(
                lambda k: lq.mgr_inverse_covariance(
                    k, obs, policy, ridge, num_samples=num_samples, beta=beta
                )
            )
        )(jax.random.split(jax.random.key(13), 4_000))
        mean, stderr = draws.mean(0), draws.std(0) / math.sqrt(draws.shape[0])
        covariance = _exact_covariance(params, policy) + ridge * jnp.eye(D)[None]
        for h in range(H):
            expected = mgr_expectation(covariance[h], beta, num_samples)
            assert np.all(np.abs(mean[h] - expected) <= 5 * stderr[h] + 1e-3)


def test_magnitude_reduced_estimate_closed_form():
    q_hat = jnp.asarray([[[3.0, -40.0, 1.0]]])
    policy = jnp.asarray([[[0.5, 0.25, 0.25]]])
    centre = 0.5 * 3.0 - 0.25 * 40.0 + 0.25 * 1.0  # -8.25
    got = lq.magnitude_reduced_estimates(q_hat, policy, 0.1)  # floor centre - 10
    np.testing.assert_allclose(got, [[[3.0, centre - 10.0, 1.0]]], rtol=1e-6)
    # a large eta truncates more; no truncation needed when all are above the floor
    got = lq.magnitude_reduced_estimates(q_hat, policy, 1e-3)
    np.testing.assert_allclose(got, q_hat, rtol=1e-6)


def test_linear_dilated_bonus_matches_numpy_loop():
    with jax.enable_x64(True):
        _, params, obs = _instance(14)
        policy = np.asarray(_random_policy(15))
        raw = np.asarray(jax.random.normal(jax.random.key(16), (H, D, D)))
        inverse = raw @ raw.transpose(0, 2, 1) + np.eye(D)[None]
        beta = 0.3
        got = lq.linear_dilated_bonus(
            obs.features, inverse, policy, obs.transitions, beta
        )
        phi, p = np.asarray(obs.features), np.asarray(obs.transitions)
        expected = np.zeros((H, S, A))
        value_next = np.zeros(S)
        for h in reversed(range(H)):
            for s in range(S):
                norms = [phi[h, s, a] @ inverse[h] @ phi[h, s, a] for a in range(A)]
                mean_norm = sum(policy[h, s, a] * norms[a] for a in range(A))
                for a in range(A):
                    dilated = (1 + 1 / H) * sum(
                        p[h, s, a, t] * value_next[t] for t in range(S)
                    )
                    expected[h, s, a] = beta * (norms[a] + mean_norm) + dilated
            value_next = np.array(
                [
                    sum(policy[h, s, a] * expected[h, s, a] for a in range(A))
                    for s in range(S)
                ]
            )
        np.testing.assert_allclose(got, expected, rtol=1e-10)


# --------------------------------------------------------------------------------------
# The log-barrier FTRL step.
# --------------------------------------------------------------------------------------


def _log_barrier_reference(cumulative, eta):
    """argmin <p, C> + (1/eta) sum -ln p_a over the simplex, from the KKT conditions
    p_a = 1 / (eta (C_a + lam)), solved for lam by Brent's method to 1e-14."""
    c = np.asarray(cumulative, dtype=np.float64)

    def excess(lam):
        return np.sum(1.0 / (eta * (c + lam))) - 1.0

    low = -c.min() + 1e-15 / eta
    lam = brentq(excess, low + 1e-12 / eta, -c.min() + len(c) / eta, xtol=1e-14)
    return 1.0 / (eta * (c + lam))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_log_barrier_policy_matches_numpy_root_solve(seed):
    with jax.enable_x64(True):
        rng = np.random.default_rng(seed)
        num_actions = [2, 3, 8, 32][seed]
        cumulative = rng.normal(scale=[1.0, 50.0, 1e3, 1e4][seed], size=num_actions)
        eta = [0.5, 0.1, 0.01, 1.0][seed]
        got = np.asarray(lq.log_barrier_policy(jnp.asarray(cumulative), eta))
        expected = _log_barrier_reference(cumulative, eta)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-14)

        # and it minimises the FTRL objective (SLSQP cannot do better)
        def objective(p):
            return p @ cumulative - np.sum(np.log(np.maximum(p, 1e-300))) / eta

        result = minimize(
            objective,
            np.full(num_actions, 1.0 / num_actions),
            method="SLSQP",
            bounds=[(1e-12, 1.0)] * num_actions,
            constraints={"type": "eq", "fun": lambda p: p.sum() - 1.0},
            options={"ftol": 1e-14, "maxiter": 500},
        )
        if result.success:  # SLSQP is unreliable on the badly scaled cases
            assert objective(got) <= result.fun + 1e-6 * max(1.0, abs(result.fun))


def test_log_barrier_policy_rows_and_invariance():
    cumulative = jax.random.normal(jax.random.key(0), (H, S, A)) * 100
    p = lq.log_barrier_policy(cumulative, 0.05)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-6)
    # FTRL is invariant to a per-state shift of the cumulative losses
    np.testing.assert_allclose(
        lq.log_barrier_policy(cumulative + 7.0, 0.05), p, rtol=1e-5, atol=1e-7
    )


# --------------------------------------------------------------------------------------
# The learners.
# --------------------------------------------------------------------------------------


def test_update_matches_numpy_recomputation():
    """Two episodes of log_barrier_ftrl: the cumulative table equals a NumPy
    recomputation from the stored covariance estimates and the feedback."""
    with jax.enable_x64(True):
        env, params, _ = _instance(20)
        learner = lq.log_barrier_ftrl(
            S, A, H, D, learning_rate=0.2, ridge=0.05, bonus_scale=0.1, num_rollouts=8
        )
        act, update = jax.jit(learner.act), jax.jit(learner.update)
        state = learner.init(jax.random.key(0))
        env_state, obs = env.reset(jax.random.key(1), params)
        expected = np.zeros((H, S, A))
        phi, p = np.asarray(obs.features), np.asarray(obs.transitions)
        for k in range(2):
            policy, state = act(jax.random.key(10 + k), state, obs)
            np.testing.assert_allclose(
                policy, lq.log_barrier_policy(jnp.asarray(expected), 0.2), rtol=1e-9
            )
            env_state, obs, feedback, _ = env.step(
                jax.random.key(20 + k), env_state, policy, params
            )
            inverse = np.asarray(state.inverse_covariance)
            losses = np.asarray(feedback.losses)
            to_go = np.cumsum(losses[::-1])[::-1]
            for h in range(H):
                x = phi[h, feedback.states[h], feedback.actions[h]]
                theta = inverse[h] @ x * to_go[h]
                expected[h] += phi[h] @ theta
            expected -= np.asarray(
                lq.linear_dilated_bonus(phi, inverse, np.asarray(policy), p, 0.1)
            )
            state = update(state, obs, policy, feedback)
            np.testing.assert_allclose(state.cumulative, expected, rtol=1e-9)


def test_factories_validate():
    with pytest.raises(ValueError, match="learning_rate"):
        lq.log_barrier_ftrl(2, 2, 2, 2, learning_rate=0.0)
    with pytest.raises(ValueError, match="ridge"):
        lq.magnitude_reduced_ftrl(2, 2, 2, 2, ridge=-1.0)
    with pytest.raises(ValueError, match="num_mgr_samples"):
        lq.linear_q_po(2, 2, 2, 2, num_mgr_samples=0)
    with pytest.raises(ValueError, match="unknown"):
        lq.linear_q_parameters("nope", 2, 2, 2, 10)


def test_learner_rejects_wrong_feature_shape():
    env, params, _ = _instance(21)
    learner = lq.magnitude_reduced_ftrl(S, A, H, D + 1)
    _, obs = env.reset(jax.random.key(0), params)
    with pytest.raises(ValueError, match="features"):
        learner.act(jax.random.key(1), learner.init(jax.random.key(2)), obs)


# Predicted exponents of K: sqrt(K) for the source paper's two algorithms, K^{2/3}
# for the Luo-Wei-Lee baseline.
SLOPES = {"log_barrier_ftrl": 0.5, "magnitude_reduced_ftrl": 0.5, "linear_q_po": 2 / 3}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOPES))
def test_linear_q_regret_is_sublinear(name):
    """The anytime regret of a run tuned to K = 2,000 at K = 250 and 2,000, 16 random
    linear-Q instances of the switching sequence (H = 3, S = 3, A = 3, d = 4): the
    slope between them is below the predicted exponent + 0.25 and regret / K falls.
    A learner with linear regret (slope 1) fails both; with 16 instances the slope's
    standard error is a few hundredths. (One program per learner: both points come
    from the same run.)"""
    env = linear_q_mdp(S, A, H, D, losses="switching")
    learner = getattr(lq, name)(
        S, A, H, D, **lq.linear_q_parameters(name, A, H, D, 2000)
    )
    result = run(
        learner,
        env,
        2000,
        key=jax.random.key(2),
        num_seeds=16,
        record=[250, 2000],
        progress=False,
    )
    finals = np.mean(result.regret, axis=0)
    slope = math.log(finals[1] / finals[0]) / math.log(8)
    assert finals[0] > 0
    assert slope < SLOPES[name] + 0.25, (finals, slope)
    assert finals[1] / 2000 < finals[0] / 250
