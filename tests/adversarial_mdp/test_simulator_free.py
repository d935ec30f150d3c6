"""The regularised empirical inverse covariance (Dai et al. 2023's alternative to
Matrix Geometric Resampling): NumPy reference, its second-order bias bound, and the
convergence of both estimators to the inverse covariance in expectation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.adversarial_mdp.mgr import (
    empirical_inverse_bias_bound,
    empirical_inverse_covariance,
    matrix_geometric_resampling,
    mgr_expectation,
)


def _distribution(seed, num_features=8, dim=3):
    """A finite feature distribution with ``||x|| <= 1``: its table, probabilities,
    covariance and fourth moment ``E||X||^4`` (float64 NumPy)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(num_features, dim))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    features *= rng.uniform(0.5, 1.0, size=(num_features, 1))
    probs = rng.dirichlet(np.full(num_features, 5.0))
    covariance = features.T @ (probs[:, None] * features)
    fourth = float(np.sum(probs * np.sum(features**2, axis=1) ** 2))
    return features, probs, covariance, fourth


def _sampler(features, probs):
    table, p = jnp.asarray(features), jnp.asarray(probs)

    def sample_fn(key):
        return table[jax.random.choice(key, table.shape[0], p=p)]

    return sample_fn


def test_empirical_inverse_matches_numpy_on_the_same_samples():
    with jax.enable_x64(True):
        features, probs, _, _ = _distribution(0)
        sample_fn = _sampler(features, probs)
        key, gamma, n = jax.random.key(3), 0.05, 7
        estimate = np.asarray(
            jax.jit(
                lambda k: empirical_inverse_covariance(
                    k, sample_fn, 3, regularization=gamma, num_samples=n
                )
            )(key)
        )
        samples = np.asarray(jax.jit(jax.vmap(sample_fn))(jax.random.split(key, n)))
        expected = np.linalg.inv(samples.T @ samples / n + gamma * np.eye(3))
        np.testing.assert_allclose(estimate, expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(estimate, estimate.T, atol=0)
        assert np.linalg.eigvalsh(estimate).max() <= 1 / gamma + 1e-12


def test_empirical_inverse_rejects_bad_arguments():
    sample_fn = _sampler(*_distribution(0)[:2])
    with pytest.raises(ValueError):
        empirical_inverse_covariance(
            jax.random.key(0), sample_fn, 3, regularization=-1.0, num_samples=4
        )
    with pytest.raises(ValueError):
        empirical_inverse_covariance(
            jax.random.key(0), sample_fn, 3, regularization=0.1, num_samples=0
        )


def _leading_bias(features, probs, covariance, gamma, n):
    """``(1/N) E[B^-1 (xx^T - Sigma) B^-1 (xx^T - Sigma) B^-1]``, with
    ``B = Sigma + gamma I``: the exact second-order term of the empirical inverse's
    bias."""
    target = np.linalg.inv(covariance + gamma * np.eye(covariance.shape[0]))
    lead = np.zeros_like(covariance)
    for x, p in zip(features, probs, strict=True):
        d = np.outer(x, x) - covariance
        lead += p * target @ d @ target @ d @ target
    return lead / n


def _monte_carlo(estimator, reps, **kwargs):
    keys = jax.random.split(jax.random.key(11), reps)
    return np.asarray(jax.jit(jax.vmap(lambda k: estimator(k, **kwargs)))(keys))


def test_empirical_inverse_bias_is_within_its_second_order_bound():
    """E[Sigma_hat^+] - (Sigma + gamma I)^{-1}, estimated from 20,000 estimates with N =
    20 samples each, is (a) within the bound E||D||^2 / (gamma lambda_min(B)^2) and
    (b) equal to its leading term E[B^-1 D B^-1 D B^-1] (computed exactly on the finite
    distribution) up to 25% plus Monte-Carlo error. (b) fails for an estimator with a
    first-order error (a 1/(N-1) normalisation, a missing gamma) and for one with no
    bias (e.g. an exact inverse), since the leading term is ~25 standard errors."""
    with jax.enable_x64(True):
        features, probs, covariance, fourth = _distribution(1)
        gamma, n, reps = 0.1, 20, 20_000
        estimates = _monte_carlo(
            empirical_inverse_covariance,
            reps,
            sample_fn=_sampler(features, probs),
            dim=3,
            regularization=gamma,
            num_samples=n,
        )
        target = np.linalg.inv(covariance + gamma * np.eye(3))
        bias = estimates.mean(0) - target
        # Monte-Carlo error of the mean: 5 standard errors per entry (CLT; a 6e-7
        # two-sided chance per entry), summed in Frobenius norm as an operator bound.
        error = np.linalg.norm(5 * estimates.std(0) / np.sqrt(reps))
        bound = float(empirical_inverse_bias_bound(covariance, fourth, gamma, n))
        assert np.linalg.norm(bias, 2) <= bound + error
        lead = _leading_bias(features, probs, covariance, gamma, n)
        assert np.linalg.norm(lead, 2) > 4 * error  # the bias is resolvable here
        assert np.linalg.norm(bias - lead, 2) <= 0.25 * np.linalg.norm(lead, 2) + error


@pytest.mark.slow
def test_both_estimators_converge_to_the_inverse_covariance_in_expectation():
    """MGR (beta = 1/2, M = 200) and the empirical inverse (gamma = 1e-4, N = 400) over
    16,000 estimates each: the mean is within its predicted distance of Sigma^{-1}
    plus 5 standard errors, and within 3% (MGR, whose variance does not fall with M)
    and 2% (empirical inverse) of ||Sigma^{-1}||. MGR's mean is also equal
    to its exact expectation (the truncated Neumann series); an estimator of the
    inverse of anything else (e.g. of Sigma + 0.05 I, 4% away) fails the 2% check."""
    with jax.enable_x64(True):
        features, probs, covariance, fourth = _distribution(2)
        sample_fn = _sampler(features, probs)
        inverse = np.linalg.inv(covariance)
        scale = np.linalg.norm(inverse, 2)
        reps = 16_000
        beta, m = 0.5, 200
        mgr = _monte_carlo(
            matrix_geometric_resampling,
            reps,
            sample_fn=sample_fn,
            dim=3,
            beta=beta,
            num_samples=m,
        )
        mgr_error = np.linalg.norm(5 * mgr.std(0) / np.sqrt(reps))
        mgr_exact = np.asarray(mgr_expectation(jnp.asarray(covariance), beta, m))
        assert np.linalg.norm(mgr.mean(0) - mgr_exact, 2) <= mgr_error
        mgr_bias = np.linalg.norm(mgr_exact - inverse, 2)
        assert np.linalg.norm(mgr.mean(0) - inverse, 2) <= mgr_bias + mgr_error
        assert mgr_bias + mgr_error < 0.03 * scale

        gamma, n = 1e-4, 400
        emp = _monte_carlo(
            empirical_inverse_covariance,
            reps,
            sample_fn=sample_fn,
            dim=3,
            regularization=gamma,
            num_samples=n,
        )
        emp_error = np.linalg.norm(5 * emp.std(0) / np.sqrt(reps))
        regularised = np.linalg.inv(covariance + gamma * np.eye(3))
        # ||(Sigma + gamma I)^-1 - Sigma^-1|| = gamma / (l (l + gamma)), l = lambda_min
        smallest = np.linalg.eigvalsh(covariance)[0]
        shrink = gamma / (smallest * (smallest + gamma))
        np.testing.assert_allclose(np.linalg.norm(regularised - inverse, 2), shrink)
        # The remaining sampling bias is its second-order term plus terms smaller by
        # a factor ~ 1 / (N lambda_min) ~ 1/20: 1.25 x the exact leading term covers it.
        lead = np.linalg.norm(_leading_bias(features, probs, covariance, gamma, n), 2)
        distance = np.linalg.norm(emp.mean(0) - inverse, 2)
        assert distance <= shrink + 1.25 * lead + emp_error
        assert distance < 0.02 * scale


# --------------------------------------------------------------------------------------
# Simulator-free adversarial linear MDPs: the environment and the two epoch learners.
# --------------------------------------------------------------------------------------

import itertools  # noqa: E402

from algorithms.adversarial_mdp import simulator_free as sf  # noqa: E402
from algorithms.adversarial_mdp.occupancy import occupancy_measure  # noqa: E402
from envs.adversarial_linear_mdp import (  # noqa: E402
    LinearMDPObservation,
    adversarial_linear_mdp,
    linear_mdp_params,
)
from envs.adversarial_mdp import (  # noqa: E402
    StochasticLossParams,
    linear_q_weights,
)
from experiments.runner import run  # noqa: E402
from tests.helpers import check_learner_contract  # noqa: E402

TINY = dict(num_states=2, num_actions=2, horizon=2, feature_dim=3)


def _tiny_env(losses="drifting", feedback="bandit", **options):
    return adversarial_linear_mdp(
        TINY["num_states"],
        TINY["num_actions"],
        TINY["horizon"],
        TINY["feature_dim"],
        losses=losses,
        feedback=feedback,
        **options,
    )


def _np_policy_value(transitions, losses, policy):
    """Expected total loss from state 0, by a plain backward loop (float64)."""
    horizon, num_states, _, _ = transitions.shape
    value = np.zeros(num_states)
    for h in reversed(range(horizon)):
        q = losses[h] + (transitions[h] @ value if h < horizon - 1 else 0.0)
        value = np.sum(policy[h] * q, axis=-1)
    return value[0]


def test_comparator_equals_brute_force_over_deterministic_policies():
    """20 episodes of a fixed stochastic policy on a drifting linear MDP (full
    feedback, to read the loss tables): the env's summed regret equals sum_k
    V^pi(l_k) - min over all A^(S H) = 16 deterministic policies of sum_k V^det(l_k),
    computed by plain NumPy loops."""
    with jax.enable_x64(True):
        env = _tiny_env(feedback="full", period=7.0, amplitude=0.3)
        params = env.sample_params(jax.random.key(5))
        rng = np.random.default_rng(0)
        policy = rng.dirichlet(np.ones(2), size=(2, 2))
        step = jax.jit(env.step)
        state, obs = env.reset(jax.random.key(0), params)
        assert isinstance(obs, LinearMDPObservation)
        total, tables = 0.0, []
        for k in range(20):
            state, obs, feedback, info = step(
                jax.random.key(k), state, jnp.asarray(policy), params
            )
            total += float(info.regret)
            tables.append(np.asarray(feedback.loss_table))
        transitions = np.asarray(params.transitions)
        played = sum(_np_policy_value(transitions, t, policy) for t in tables)
        best = np.inf
        for choice in itertools.product(range(2), repeat=4):
            det = np.eye(2)[np.asarray(choice).reshape(2, 2)]
            best = min(best, sum(_np_policy_value(transitions, t, det) for t in tables))
        np.testing.assert_allclose(total, played - best, rtol=1e-9, atol=1e-9)
        assert played - best > 0  # the stochastic policy is not optimal here


def test_observation_is_the_features_only():
    """No simulator: the observation carries the features and nothing else (the
    bandit feedback is checked by the slow contract test on this env)."""
    env = _tiny_env()
    params = env.sample_params(jax.random.key(0))
    _, obs = env.reset(jax.random.key(0), params)
    assert obs._fields == ("features",)
    np.testing.assert_array_equal(obs.features, params.losses.features)
    assert env.name == "adversarial_linear_mdp_drifting_bandit"


def test_bad_inputs_raise_clear_errors():
    features = np.full((2, 2, 2, 3), 1 / 3)
    latent = np.full((2, 3, 2), 0.5)
    weights = StochasticLossParams(np.full((2, 1, 3), 0.5))
    params = linear_mdp_params(features, latent, weights, losses="stochastic")
    env = _tiny_env(losses="stochastic", params=params)
    assert env.sample_params is None and env.params is params
    with pytest.raises(ValueError, match="sum to 1"):
        linear_mdp_params(features * 2, latent, weights, losses="stochastic")
    with pytest.raises(ValueError, match="latent"):
        linear_mdp_params(features, latent[:, :2], weights, losses="stochastic")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bad = StochasticLossParams(np.full((2, 1, 3), 1.5))
        linear_mdp_params(features, latent, bad, losses="stochastic")
    with pytest.raises(ValueError, match="shape"):
        adversarial_linear_mdp(3, 2, 2, 3, losses="stochastic", params=params)
    with pytest.raises(ValueError, match="loss sequence"):
        adversarial_linear_mdp(2, 2, 2, 3, losses="nope")
    with pytest.raises(ValueError, match="epoch_length"):
        sf.simulator_free_po(2, 2, 2, 3, epoch_length=1)
    with pytest.raises(ValueError):
        sf.simulator_free_mgr_po(2, 2, 2, 3, ridge=0.0)
    with pytest.raises(ValueError):
        sf.simulator_free_po(2, 2, 2, 3, exploration=1.5)
    with pytest.raises(ValueError, match="unknown"):
        sf.simulator_free_parameters("nope", 2, 2, 3, 100)
    learner = sf.simulator_free_po(2, 2, 2, 4)  # d = 4 on a d = 3 instance
    with pytest.raises(ValueError, match="expects features"):
        learner.act(jax.random.key(0), learner.init(jax.random.key(0)), obs_of(params))


def obs_of(params):
    return LinearMDPObservation(params.losses.features)


def test_mgr_step_and_epoch_estimates_match_numpy():
    """The incremental MGR chain and the epoch's Q / transition estimates against
    plain NumPy loops on random inputs (float64)."""
    with jax.enable_x64(True):
        rng = np.random.default_rng(1)
        horizon, dim, beta, ridge = 2, 3, 0.4, 0.2
        phis = rng.dirichlet(np.ones(dim), size=(5, horizon))
        chain = np.broadcast_to(np.eye(dim), (horizon, dim, dim))
        moment = np.zeros((horizon, dim, dim))
        c, m = jnp.asarray(chain), jnp.asarray(moment)
        for t in range(5):
            c, m = sf.mgr_step(c, m, jnp.asarray(phis[t]), beta, ridge)
        for h in range(horizon):
            product, total = np.eye(dim), np.zeros((dim, dim))
            for t in range(5):
                factor = (1 - beta * ridge) * np.eye(dim) - beta * np.outer(
                    phis[t, h], phis[t, h]
                )
                product = product @ factor
                total += product
            np.testing.assert_allclose(m[h], total, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(
                sf.mgr_epoch_inverse(m, beta)[h], beta * (np.eye(dim) + total)
            )
        # empirical inverse: (moment / n + gamma I)^{-1}
        second = np.einsum("thd,the->hde", phis, phis)
        inverse = np.asarray(sf.empirical_epoch_inverse(jnp.asarray(second), 5, ridge))
        for h in range(horizon):
            np.testing.assert_allclose(
                inverse[h],
                np.linalg.inv(second[h] / 5 + ridge * np.eye(dim)),
                rtol=1e-10,
            )
        # epoch estimates
        features = rng.dirichlet(np.ones(dim), size=(horizon, 2, 2))
        g = rng.uniform(size=(horizon, dim))
        big_g = rng.uniform(size=(horizon, dim, 2))
        big_g[0, :, 1] = -5.0  # negative mass is clipped
        q_hat, p_hat = sf.epoch_estimates(
            jnp.asarray(features),
            jnp.asarray(inverse),
            jnp.asarray(g),
            jnp.asarray(big_g),
            4,
        )
        for h, s, a in itertools.product(range(horizon), range(2), range(2)):
            phi = features[h, s, a]
            np.testing.assert_allclose(q_hat[h, s, a], phi @ inverse[h] @ g[h] / 4)
            raw = np.maximum(phi @ inverse[h] @ big_g[h] / 4, 0)
            expected = raw / raw.sum() if raw.sum() > 0 else np.full(2, 0.5)
            np.testing.assert_allclose(p_hat[h, s, a], expected, rtol=1e-10)


def _one_epoch_estimates(learner, env, params, num_episodes, reps):
    """Q_hat after one epoch (bonus 0, so the cumulative table IS Q_hat), for
    ``reps`` independent epochs."""

    def one(key):
        key_env, key_play = jax.random.split(key)
        env_state, obs = env.reset(key_env, params)
        state = learner.init(key_env)

        def body(carry, k):
            env_state, state, obs = carry
            k_act, k_env = jax.random.split(k)
            action, state = learner.act(k_act, state, obs)
            env_state, obs, feedback, _ = env.step(k_env, env_state, action, params)
            state = learner.update(state, obs, action, feedback)
            return (env_state, state, obs), None

        (_, state, _), _ = jax.lax.scan(
            body, (env_state, state, obs), jax.random.split(key_play, num_episodes)
        )
        return state.cumulative

    return np.asarray(jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(7), reps)))


def _truth(params, policy, ridge):
    """Sigma_h = E_pi[phi phi^T], the fourth moment E||phi||^4, and Sigma_h w^pi_h
    for the mean loss weights (float64 NumPy)."""
    features = np.asarray(params.losses.features)
    q = np.asarray(occupancy_measure(params.transitions, params.initial, policy))
    covariance = np.einsum("hsa,hsad,hsae->hde", q, features, features)
    fourth = np.einsum("hsa,hsa->h", q, np.sum(features**2, -1) ** 2)
    horizon, _, _, dim = features.shape
    theta = jnp.asarray(params.losses.weights.means).reshape(horizon, dim)
    weights = np.asarray(linear_q_weights(params.losses, theta, policy))
    target = np.einsum("hde,he->hd", covariance, weights)  # Sigma w = E[phi L]
    return features, covariance, fourth, target


def test_mgr_loss_estimator_has_its_exact_expectation():
    """One epoch of W = 40 episodes (n = m = 20) of the MGR learner under the uniform
    policy, 4,000 independent epochs on a tiny stochastic linear MDP: the mean of
    Q_hat equals phi^T E[Sigma_hat^+] Sigma w^pi, E[Sigma_hat^+] = beta sum_{t <= n}
    (I - beta (Sigma + gamma I))^t exactly (the covariance and loss halves are
    independent), within 5 standard errors per entry (CLT; a 6e-7 two-sided chance
    per entry, 8 entries)."""
    with jax.enable_x64(True):
        env = _tiny_env(losses="stochastic")
        params = env.sample_params(jax.random.key(3))
        ridge, beta = 0.2, 0.4
        learner = sf.simulator_free_mgr_po(
            2, 2, 2, 3, epoch_length=40, ridge=ridge, bonus_scale=0.0, beta=beta
        )
        estimates = _one_epoch_estimates(learner, env, params, 40, 4000)
        policy = jnp.full((2, 2, 2), 0.5)
        features, covariance, _, target = _truth(params, policy, ridge)
        mean_inverse = np.stack(
            [
                np.asarray(
                    mgr_expectation(jnp.asarray(c + ridge * np.eye(3)), beta, 20)
                )
                for c in covariance
            ]
        )
        expected = np.einsum("hsad,hde,he->hsa", features, mean_inverse, target)
        error = 5 * estimates.std(0) / np.sqrt(estimates.shape[0])
        assert np.all(np.abs(estimates.mean(0) - expected) <= error), (
            estimates.mean(0),
            expected,
        )
        # MGR's and the ridge's bias make this expectation differ from the true Q by
        # more than the Monte-Carlo error here: an estimator of Q itself would fail
        truth = np.einsum(
            "hsad,hde,he->hsa", features, np.linalg.inv(covariance), target
        )
        assert np.max(np.abs(expected - truth)) > 0.01


def test_empirical_loss_estimator_is_within_its_bias_bound():
    """The same for the empirical-inverse learner: E[Q_hat] is within ||phi|| ||Sigma
    w|| times the second-order bias bound (mgr.empirical_inverse_bias_bound) plus 5
    standard errors of phi^T (Sigma + gamma I)^{-1} Sigma w^pi."""
    with jax.enable_x64(True):
        env = _tiny_env(losses="stochastic")
        params = env.sample_params(jax.random.key(3))
        ridge = 0.2
        learner = sf.simulator_free_po(
            2, 2, 2, 3, epoch_length=40, ridge=ridge, bonus_scale=0.0
        )
        estimates = _one_epoch_estimates(learner, env, params, 40, 4000)
        policy = jnp.full((2, 2, 2), 0.5)
        features, covariance, fourth, target = _truth(params, policy, ridge)
        expected = np.einsum(
            "hsad,hde,he->hsa",
            features,
            np.linalg.inv(covariance + ridge * np.eye(3)),
            target,
        )
        error = 5 * estimates.std(0) / np.sqrt(estimates.shape[0])
        for h in range(2):
            bound = float(
                empirical_inverse_bias_bound(covariance[h], fourth[h], ridge, 20)
            )
            slack = (
                bound * np.linalg.norm(features[h], axis=-1) * np.linalg.norm(target[h])
            )
            assert np.all(
                np.abs(estimates.mean(0)[h] - expected[h]) <= slack + error[h]
            )


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["simulator_free_po", "simulator_free_mgr_po", "uniform_policy"]
)
def test_contract_on_the_simulator_free_env(name):
    env = _tiny_env(losses="switching")
    if name == "uniform_policy":
        learner = sf.uniform_policy(2, 2, 2)
    else:
        learner = getattr(sf, name)(2, 2, 2, 3, epoch_length=4)
    params = env.sample_params(jax.random.key(0))
    actions = check_learner_contract(
        learner,
        env,
        num_rounds=9,  # crosses two epoch ends
        run_rounds=12,
        num_seeds=2,
        params=params,
    )
    state, _ = env.reset(jax.random.key(0), params)
    policy = jnp.asarray(actions[0])
    _, _, feedback, _ = jax.jit(env.step)(jax.random.key(1), state, policy, params)
    assert feedback.loss_table is None  # bandit feedback: visited losses only
    assert feedback.losses.shape == (2,)
    assert np.all(actions >= 0)
    np.testing.assert_allclose(actions.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["simulator_free_po", "simulator_free_mgr_po"])
def test_regret_per_episode_falls_with_k(name):
    """Each learner tuned to K = 1,000 and to K = 8,000 (simulator_free_parameters),
    on the same 24 random instances (H = 2, S = 3, A = 3, d = 3, stochastic losses
    with a gap): regret / K falls, by more than 3 standard errors of the paired
    per-instance difference (CLT; a learner whose regret is linear, e.g. the uniform
    policy, has a zero mean difference), and at K = 8,000 it is below the uniform
    policy's."""
    shape = (3, 3, 2, 3)  # S, A, H, d
    env = adversarial_linear_mdp(*shape, losses="stochastic", feature_concentration=0.3)
    per_episode = []
    for k in (1_000, 8_000):
        tuning = sf.simulator_free_parameters(name, 3, 2, 3, k)
        learner = getattr(sf, name)(*shape, **tuning)
        result = run(learner, env, k, key=jax.random.key(4), num_seeds=24, record=[k])
        per_episode.append(np.asarray(result.final_regret) / k)
    uniform = run(
        sf.uniform_policy(3, 3, 2),
        env,
        8_000,
        key=jax.random.key(4),
        num_seeds=24,
        record=[8_000],
    )
    drop = per_episode[0] - per_episode[1]
    assert drop.mean() > 3 * drop.std(ddof=1) / np.sqrt(drop.size), per_episode
    assert per_episode[1].mean() < np.mean(uniform.final_regret) / 8_000
