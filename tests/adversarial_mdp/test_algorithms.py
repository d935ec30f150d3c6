"""Tests for the adversarial-MDP learners: the KL projection against SciPy, the
estimators' expectations by Monte Carlo, Comp-UOB against closed forms and a linear
program, and the learners' updates against plain NumPy recomputations."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from algorithms.adversarial_mdp.estimators import importance_weighted_losses
from algorithms.adversarial_mdp.occupancy import (
    constraint_residual,
    kl_projection,
    occupancy_measure,
)
from algorithms.adversarial_mdp.policy_optimization import (
    importance_weighted_q,
    policy_q_values,
)
from algorithms.adversarial_mdp.uob_reps import (
    greedy_box_maximum,
    upper_occupancy_bound,
)
from envs.adversarial_mdp import adversarial_mdp, expected_loss
from envs.tabular_mdp import sample_tabular_mdp_params


def _instance(seed, num_states=2, num_actions=2, horizon=2):
    mdp = sample_tabular_mdp_params(
        jax.random.key(seed), num_states, num_actions, horizon
    )
    initial = jax.random.dirichlet(jax.random.key(seed + 7), jnp.ones(num_states))
    return mdp.transitions, initial


@pytest.mark.parametrize("seed", [0, 1])
def test_kl_projection_matches_scipy(seed):
    """The dual Newton solution equals SLSQP on the primal with the flow constraints."""
    with jax.enable_x64(True):
        transitions, initial = _instance(seed, 2, 2, 3)
        shape = (3, 2, 2)
        log_w = jax.random.normal(jax.random.key(seed + 1), shape)
        log_q, _ = jax.jit(kl_projection)(log_w, transitions, initial)
        q = np.exp(np.asarray(log_q))
        np.testing.assert_allclose(
            constraint_residual(q, transitions, initial), 0, atol=1e-10
        )
        w = np.exp(np.asarray(log_w)).ravel()
        p = np.asarray(transitions)
        rho = np.asarray(initial)

        def residual(x):
            return np.asarray(constraint_residual(x.reshape(shape), p, rho)).ravel()

        def objective(x):
            x = np.maximum(x, 1e-300)
            return np.sum(x * np.log(x / w) - x + w)

        def gradient(x):
            return np.log(np.maximum(x, 1e-300) / w)

        start = np.asarray(occupancy_measure(p, rho, np.full(shape, 0.5))).ravel()
        result = minimize(
            objective,
            start,
            jac=gradient,
            method="SLSQP",
            bounds=[(1e-12, None)] * start.size,
            constraints={"type": "eq", "fun": residual},
            options={"ftol": 1e-14, "maxiter": 500},
        )
        assert result.success
        # SLSQP's accuracy is the limit here (ftol 1e-14 on an objective of order 1).
        np.testing.assert_allclose(q.ravel(), result.x, atol=2e-5)
        assert objective(q.ravel()) <= result.fun + 1e-9


def test_projection_of_an_occupancy_is_itself():
    with jax.enable_x64(True):
        transitions, initial = _instance(3, 3, 2, 3)
        policy = jax.random.dirichlet(jax.random.key(4), jnp.ones(2), (3, 3))
        q = occupancy_measure(transitions, initial, policy)
        log_q, _ = jax.jit(kl_projection)(jnp.log(q), transitions, initial)
        np.testing.assert_allclose(np.exp(log_q), q, atol=1e-12)


def _episodes(env, params, policy, num):
    state, obs = env.reset(jax.random.key(0), params)
    keys = jax.random.split(jax.random.key(1), num)
    step = jax.jit(jax.vmap(env.step, in_axes=(0, None, None, None)))
    return step(keys, state, policy, params)


@pytest.mark.slow  # CI time (~12 s of CPU, Monte-Carlo)
def test_importance_weighted_estimators_are_unbiased():
    """E[l_hat] = l and E[Q_hat] = Q^pi (gamma = 0) over 40,000 episodes."""
    num = 40_000
    env = adversarial_mdp(2, 2, 3, losses="switching", feedback="bandit")
    full = adversarial_mdp(2, 2, 3, losses="switching", feedback="full")
    params = env.sample_params(jax.random.key(5))
    policy = jax.random.dirichlet(jax.random.key(6), jnp.ones(2), (3, 2))
    _, _, feedback, _ = _episodes(env, params, policy, num)
    _, _, full_feedback, _ = _episodes(full, params, policy, 1)
    table = np.asarray(full_feedback.loss_table[0], np.float64)  # episode 0's table
    q = occupancy_measure(params.transitions, params.initial, policy)
    l_hat = jax.vmap(importance_weighted_losses, in_axes=(0, None))(feedback, q)
    q_hat = jax.vmap(importance_weighted_q, in_axes=(0, None, None))(feedback, q, 0.0)
    reached = np.asarray(q) > 0
    q_true = np.asarray(policy_q_values(params.transitions, jnp.asarray(table), policy))
    for samples, truth in ((l_hat, table), (q_hat, q_true)):
        samples = np.asarray(samples, np.float64)
        mean, se = samples.mean(0), samples.std(0) / np.sqrt(num)
        # 5 standard errors: a 6e-7 two-sided chance per entry for a correct estimator
        # (CLT); a bias of a few percent (e.g. dividing by the state occupancy only)
        # is 20+ standard errors away.
        assert np.all(np.abs(mean - truth)[reached] <= 5 * se[reached] + 1e-6)
    # the UOB estimator with u >= q is optimistic: E[l_hat] = l q / (u + gamma) <= l
    u_hat = jax.vmap(importance_weighted_losses, in_axes=(0, None, None))(
        feedback, jnp.minimum(2.0 * q, 1.0), 0.01
    )
    assert np.all(np.asarray(u_hat).mean(0) <= table + 1e-3)


def test_upper_occupancy_bound_closed_forms():
    with jax.enable_x64(True):
        transitions, _ = _instance(8, 3, 2, 4)
        policy = jax.random.dirichlet(jax.random.key(9), jnp.ones(2), (4, 3))
        initial = jnp.zeros(3).at[0].set(1.0)
        fn = jax.jit(upper_occupancy_bound)
        # zero radius: the confidence set is {P}, u = q^pi
        u = fn(policy, transitions, jnp.zeros_like(transitions))
        np.testing.assert_allclose(
            u, occupancy_measure(transitions, initial, policy), atol=1e-12
        )
        # infinite radius: every state of layer >= 1 is reachable with probability 1
        u = fn(policy, transitions, jnp.full(transitions.shape, jnp.inf))
        np.testing.assert_allclose(u[1:], policy[1:], atol=1e-12)
        np.testing.assert_allclose(u[0, 0], policy[0, 0], atol=1e-12)
        np.testing.assert_allclose(u[0, 1:], 0.0, atol=1e-12)


def test_greedy_box_maximum_matches_linprog():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.dirichlet(np.ones(5))
        eps = rng.uniform(0, 0.3, 5)
        f = rng.uniform(size=5)
        lower, upper = np.clip(p - eps, 0, 1), np.clip(p + eps, 0, 1)
        result = linprog(
            -f,
            A_eq=np.ones((1, 5)),
            b_eq=[1.0],
            bounds=list(zip(lower, upper, strict=True)),
        )
        with jax.enable_x64(True):
            value = greedy_box_maximum(
                jnp.asarray(f), jnp.asarray(lower), jnp.asarray(upper)
            )
        np.testing.assert_allclose(value, -result.fun, atol=1e-9)


def test_policy_q_values_against_expected_loss():
    with jax.enable_x64(True):
        transitions, initial = _instance(11, 3, 2, 3)
        policy = jax.random.dirichlet(jax.random.key(12), jnp.ones(2), (3, 3))
        losses = jax.random.uniform(jax.random.key(13), (3, 3, 2))
        q = policy_q_values(transitions, losses, policy)
        value = jnp.dot(initial, jnp.sum(policy[0] * q[0], -1))
        np.testing.assert_allclose(
            value, expected_loss(transitions, initial, losses, policy), rtol=1e-12
        )
