"""Adversarial bandits: EXP3 / EXP3-IX / Tsallis-INF distributions against NumPy
references fed the same actions and rewards, the Tsallis-INF normalisation, numerical
stability at extreme losses, and regret on an oblivious loss sequence."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.bandits.adversarial import (
    exp3,
    exp3_ix,
    exp3_ix_parameters,
    exp3_learning_rate,
    exp3_probabilities,
    tsallis_inf,
    tsallis_inf_weights,
)
from algorithms.core import Learner

# A hand-made sequence of (action, reward) pairs, K = 4.
SEQUENCE = [
    (0, 1.0),
    (2, 0.0),
    (2, 0.5),
    (1, 0.0),
    (3, 0.9),
    (0, 0.2),
    (2, 1.0),
    (1, 0.3),
    (1, 0.0),
    (3, 0.0),
    (0, 0.6),
    (2, 0.1),
]


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()


def _feed(learner: Learner, sequence):
    """States after each hand-set (action, reward) pair, starting from init."""
    update = jax.jit(learner.update)
    state = learner.init(jax.random.key(0))
    states = [state]
    for action, reward in sequence:
        state = update(state, (), jnp.int32(action), jnp.float32(reward))
        states.append(state)
    return states


def _sample_categorical_reference(key, probs: np.ndarray) -> int:
    """The inverse-CDF draw of algorithms.core.sample_categorical, with its uniform."""
    u = float(jax.random.uniform(key, (), jnp.float32))
    cdf = np.cumsum(probs.astype(np.float32))
    return min(int(np.sum(cdf < np.float32(u) * cdf[-1])), probs.size - 1)


# --------------------------------------------------------------------------------------
# EXP3.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("learning_rate, gamma", [(0.3, 0.0), (0.7, 0.2), (None, 0.0)])
def test_exp3_probabilities_match_numpy_reference(learning_rate, gamma):
    num_arms = 4
    states = _feed(exp3(num_arms, learning_rate=learning_rate, gamma=gamma), SEQUENCE)
    # Reference, float64: cumulative importance-weighted losses (not shifted), and
    # P_t = (1 - gamma) softmax(-eta_t L_{t-1}) + gamma / K.
    cumulative = np.zeros(num_arms)
    probs = np.full(num_arms, 1.0 / num_arms)
    np.testing.assert_allclose(states[0].probs, probs)
    for t, ((action, reward), state) in enumerate(
        zip(SEQUENCE, states[1:], strict=True), start=1
    ):
        cumulative[action] += (1.0 - reward) / probs[action]
        eta = (
            np.sqrt(np.log(num_arms) / ((t + 1) * num_arms))
            if learning_rate is None
            else learning_rate
        )
        probs = (1 - gamma) * _softmax(-eta * cumulative) + gamma / num_arms
        np.testing.assert_allclose(state.probs, probs, rtol=2e-5, atol=1e-7)
        np.testing.assert_allclose(
            state.loss_estimates, cumulative - cumulative.min(), rtol=1e-5, atol=1e-5
        )
        assert int(state.num_rounds) == t


def test_exp3_act_draws_from_its_distribution():
    learner = exp3(4, learning_rate=0.5)
    state = _feed(learner, SEQUENCE)[-1]
    probs = np.asarray(state.probs)
    for seed in range(30):
        key = jax.random.key(seed)
        action, same = learner.act(key, state, ())
        assert int(action) == _sample_categorical_reference(key, probs)
        assert same is state


def test_exp3_probabilities_stable_at_huge_losses():
    losses = jnp.asarray([1e7, 1e7 + 3.0, 3e7, 1e7], jnp.float32)
    probs = np.asarray(exp3_probabilities(losses, 0.5, 0.0))
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(probs[1] / probs[0], np.exp(-1.5), rtol=1e-5)
    assert probs[2] == 0.0  # underflows cleanly, no NaN
    # Through update: a pull of an arm whose probability underflowed to 0 (possible
    # with a zero uniform) gives a finite estimate and a valid distribution.
    learner = exp3(4, learning_rate=0.5)
    state = learner.init(jax.random.key(0))._replace(
        loss_estimates=losses - 1e7, probs=jnp.asarray(probs)
    )
    for action, reward in [(2, 0.0), (2, 1.0), (0, 0.0), (1, 0.3)]:
        state = learner.update(state, (), jnp.int32(action), jnp.float32(reward))
        for leaf in (state.loss_estimates, state.probs):
            assert np.all(np.isfinite(np.asarray(leaf)))
        np.testing.assert_allclose(float(jnp.sum(state.probs)), 1.0, rtol=1e-6)


def test_exp3_learning_rate_is_traceable():
    def final_probs(eta):
        # Every numeric hyperparameter traced (a concrete one would be validated inside
        # the trace by algorithms.core's checks).
        learner = exp3(4, learning_rate=eta, gamma=0.0 * eta)
        return _feed_scan(learner)

    def _feed_scan(learner):
        def step(state, pair):
            action, reward = pair
            return learner.update(state, (), action, reward), None

        actions = jnp.asarray([a for a, _ in SEQUENCE], jnp.int32)
        rewards = jnp.asarray([r for _, r in SEQUENCE], jnp.float32)
        state, _ = jax.lax.scan(
            step, learner.init(jax.random.key(0)), (actions, rewards)
        )
        return state.probs

    etas = jnp.asarray([0.1, 0.3])
    batched = jax.jit(jax.vmap(final_probs))(etas)
    for i, eta in enumerate([0.1, 0.3]):
        np.testing.assert_allclose(
            batched[i], _feed(exp3(4, learning_rate=eta), SEQUENCE)[-1].probs, rtol=1e-6
        )
    np.testing.assert_allclose(
        float(exp3_learning_rate(1000, 4)), np.sqrt(2 * np.log(4) / 4000), rtol=1e-6
    )
    eta, gamma = exp3_ix_parameters(1000, 4)
    np.testing.assert_allclose(
        [float(eta), float(gamma)],
        [np.sqrt(2 * np.log(4) / 4000), np.sqrt(2 * np.log(4) / 4000) / 2],
        rtol=1e-6,
    )


# --------------------------------------------------------------------------------------
# EXP3-IX.
# --------------------------------------------------------------------------------------


def test_exp3_ix_implicit_exploration_estimate():
    learner = exp3_ix(3, learning_rate=0.4, gamma=0.05)
    probs = jnp.asarray([0.2, 0.5, 0.3])
    state = learner.init(jax.random.key(0))._replace(
        loss_estimates=jnp.asarray([0.0, 2.0, 5.0]), probs=probs
    )
    new = learner.update(state, (), jnp.int32(1), jnp.float32(0.25))
    # l / (p + gamma) = 0.75 / 0.55 added to arm 1 only; minimum still 0.
    np.testing.assert_allclose(
        new.loss_estimates, [0.0, 2.0 + 0.75 / 0.55, 5.0], rtol=1e-6
    )
    new = learner.update(state, (), jnp.int32(0), jnp.float32(0.0))
    # Arm 0 (the leader) gets 1 / 0.25 = 4: the shifted estimates are [2, 0, 3].
    np.testing.assert_allclose(new.loss_estimates, [2.0, 0.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(
        new.probs, _softmax(-0.4 * np.array([2.0, 0.0, 3.0])), rtol=1e-6
    )


def test_exp3_ix_probabilities_match_numpy_reference():
    num_arms, eta, gamma = 4, 0.35, 0.1
    states = _feed(exp3_ix(num_arms, learning_rate=eta, gamma=gamma), SEQUENCE)
    cumulative = np.zeros(num_arms)
    probs = np.full(num_arms, 1.0 / num_arms)
    for (action, reward), state in zip(SEQUENCE, states[1:], strict=True):
        cumulative[action] += (1.0 - reward) / (probs[action] + gamma)
        probs = _softmax(-eta * cumulative)
        np.testing.assert_allclose(state.probs, probs, rtol=2e-5, atol=1e-7)


# --------------------------------------------------------------------------------------
# Tsallis-INF.
# --------------------------------------------------------------------------------------


def _reference_tsallis_weights(cumulative: np.ndarray, eta: float) -> np.ndarray:
    """float64 bisection (200 steps) on x in [min L - 2 sqrt(K) / eta, min L - 2 / eta]
    for sum_i 4 / (eta (L_i - x))^2 = 1."""
    lo = cumulative.min() - 2 * np.sqrt(cumulative.size) / eta
    hi = cumulative.min() - 2 / eta
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.sum(4 / (eta * (cumulative - mid)) ** 2) < 1:
            lo = mid
        else:
            hi = mid
    return 4 / (eta * (cumulative - 0.5 * (lo + hi))) ** 2


EXTREME_LOSSES = {
    "zeros": np.zeros(5),
    "ties_and_gap": np.array([0.0, 0.0, 0.0, 1e6, 1e6]),
    "one_huge_gap": np.array([3.0, 1e6, 1e6, 1e6, 1e6]),
    "spread": np.array([0.0, 1.0, 1e2, 1e4, 1e6]),
    "large_near_ties": np.array([1e6, 1e6 + 1.0, 1e6 + 2.0, 1e6, 1e6 + 0.5]),
    "many_arms": np.geomspace(1e-3, 1e6, 1000),
}


@pytest.mark.parametrize("name", list(EXTREME_LOSSES))
@pytest.mark.parametrize("eta", [4.0, 4.0 / np.sqrt(1e6), 1e-6])
def test_tsallis_weights_float32_sum_to_one_and_are_finite(name, eta):
    losses = jnp.asarray(EXTREME_LOSSES[name], jnp.float32)
    weights, normalizer = tsallis_inf_weights(losses, eta)
    weights = np.asarray(weights)
    assert np.all(np.isfinite(weights)) and np.all(weights >= 0)
    assert abs(weights.sum() - 1.0) < 1e-5
    assert np.isfinite(float(normalizer)) and float(normalizer) < float(losses.min())
    # Weights decrease in the loss (ties equal).
    order = np.argsort(EXTREME_LOSSES[name], kind="stable")
    assert np.all(np.diff(weights[order]) <= 1e-7)
    # Against the float64 reference (float32 rounding of the losses themselves is the
    # limit: eta * ulp(1e6) = 0.06 * eta in the gaps).
    reference = _reference_tsallis_weights(np.asarray(losses, np.float64), eta)
    np.testing.assert_allclose(weights, reference, atol=2e-4)


@pytest.mark.parametrize("name", list(EXTREME_LOSSES))
@pytest.mark.parametrize("eta", [4.0, 4.0 / np.sqrt(1e6), 1e-6])
def test_tsallis_normaliser_solves_the_equation_in_float64(name, eta):
    losses = EXTREME_LOSSES[name]
    with jax.enable_x64(True):
        weights, normalizer = tsallis_inf_weights(jnp.asarray(losses, jnp.float64), eta)
        weights, x = np.asarray(weights), float(normalizer)
    assert x < losses.min()
    unnormalised = 4.0 / (eta * (losses - x)) ** 2
    assert abs(unnormalised.sum() - 1.0) < 1e-6, unnormalised.sum()
    np.testing.assert_allclose(weights, unnormalised / unnormalised.sum(), rtol=1e-10)
    np.testing.assert_allclose(
        weights, _reference_tsallis_weights(losses, eta), atol=1e-9
    )
    order = np.argsort(losses, kind="stable")
    assert np.all(np.diff(weights[order]) <= 0)


@pytest.mark.parametrize("reduced_variance", [True, False])
def test_tsallis_inf_few_rounds_against_numpy_reference(reduced_variance):
    num_arms = 4
    scale = 4.0 if reduced_variance else 2.0
    learner = tsallis_inf(num_arms, reduced_variance=reduced_variance)
    states = _feed(learner, SEQUENCE)
    cumulative = np.zeros(num_arms)
    w = np.full(num_arms, 1.0 / num_arms)
    for t, ((action, reward), state) in enumerate(
        zip(SEQUENCE, states[1:], strict=True), start=1
    ):
        eta = scale / np.sqrt(t)
        # (RV): B_i = 1/2 [w_i >= eta^2]; estimate B_i + 1[i = I](l - B_i) / w_i.
        baseline = 0.5 * (w >= eta**2) if reduced_variance else np.zeros(num_arms)
        estimate = baseline.copy()
        estimate[action] += ((1.0 - reward) - baseline[action]) / w[action]
        cumulative += estimate
        w = _reference_tsallis_weights(cumulative, scale / np.sqrt(t + 1))
        np.testing.assert_allclose(state.probs, w, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(
            state.loss_estimates, cumulative - cumulative.min(), rtol=1e-5, atol=1e-4
        )


def test_tsallis_inf_rv_baseline_switches_on_at_eta_squared():
    # At round t = 16, eta = 4 / sqrt(16) = 1: B_i = 1/2 needs w_i >= 1, which no arm of
    # a 4-arm uniform distribution has; at round 100, eta^2 = 0.16 <= 1/4 = w_i.
    learner = tsallis_inf(4)
    for rounds_done, baseline in [(15, 0.0), (99, 0.5)]:
        state = learner.init(jax.random.key(0))._replace(
            num_rounds=jnp.int32(rounds_done)
        )
        new = learner.update(state, (), jnp.int32(0), jnp.float32(1.0))  # loss 0
        raw = np.full(4, baseline)
        raw[0] += (0.0 - baseline) / 0.25
        np.testing.assert_allclose(new.loss_estimates, raw - raw.min(), atol=1e-6)


# --------------------------------------------------------------------------------------
# Long runs and regret on an oblivious adversarial sequence (statistical).
# --------------------------------------------------------------------------------------


def _loss_table(num_rounds: int, num_arms: int = 5, seed: int = 0) -> np.ndarray:
    """Oblivious Bernoulli losses with a switching local leader: arm 0 has mean loss 0.3
    throughout; arm j >= 1 has mean 0.05 during phase j of K - 1 equal phases and 0.85
    otherwise. Arm 0 is the best fixed arm (total ~0.3 T vs ~0.65 T), but each phase
    has a locally better arm."""
    rng = np.random.default_rng(seed)
    phase = np.minimum(
        np.arange(num_rounds) * (num_arms - 1) // num_rounds, num_arms - 2
    )
    means = np.full((num_rounds, num_arms), 0.85)
    means[:, 0] = 0.3
    means[np.arange(num_rounds), phase + 1] = 0.05
    return (rng.random((num_rounds, num_arms)) < means).astype(np.float32)


def _regret_on_table(learner: Learner, table: np.ndarray, num_seeds: int) -> np.ndarray:
    from envs.adversarial_bandits import oblivious_bandit_from_fn
    from experiments.runner import run

    num_rounds, num_arms = table.shape
    env = oblivious_bandit_from_fn(
        lambda params, t: params[t], num_arms, params=jnp.asarray(table)
    )
    result = run(
        learner,
        env,
        num_rounds,
        key=jax.random.key(3),
        num_seeds=num_seeds,
        record=[num_rounds],
    )
    return np.asarray(result.final_regret, np.float64)


@pytest.mark.slow
def test_adversarial_regret_below_theory_bounds():
    num_rounds, num_arms, num_seeds = 5000, 5, 100
    table = _loss_table(num_rounds, num_arms)
    totals = table.sum(axis=0)
    assert np.argmin(totals) == 0
    uniform_regret = table.mean(axis=1).sum() - totals.min()
    T, K = num_rounds, num_arms
    eta, gamma = exp3_ix_parameters(T, K)
    cases = {
        # Lattimore and Szepesvari (2020), Theorem 11.2.
        "exp3": (
            exp3(K, learning_rate=exp3_learning_rate(T, K)),
            np.sqrt(2 * T * K * np.log(K)),
        ),
        # Neu (2015), Theorem 1, integrated over delta: the bound a + b ln(2 / delta)
        # holding w.p. 1 - delta gives E[R] <= a + b (ln 2 + 1).
        "exp3_ix": (
            exp3_ix(K, learning_rate=eta, gamma=gamma),
            2 * np.sqrt(2 * K * T * np.log(K))
            + (np.sqrt(2 * K * T / np.log(K)) + 1) * (np.log(2) + 1),
        ),
        # Zimmert and Seldin (2021), Theorem 1 (RV), with the constant of its proof.
        "tsallis_inf": (tsallis_inf(K), 2 * np.sqrt(K * T) + 14 * K * np.log(T) + 16),
    }
    for name, (learner, bound) in cases.items():
        # The test is informative: playing uniformly at random violates every bound.
        assert uniform_regret > bound, (name, uniform_regret, bound)
        regret = _regret_on_table(learner, table, num_seeds)
        # The bounds are on the expected regret; the mean over seeds plus 3 standard
        # errors must lie below.
        upper = regret.mean() + 3 * regret.std(ddof=1) / np.sqrt(num_seeds)
        assert upper < bound, (name, regret.mean(), bound)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["exp3", "exp3_ix", "tsallis_inf"])
def test_no_nan_after_a_million_rounds(name):
    num_arms, num_rounds = 3, 1_000_000
    learner = {
        "exp3": exp3(num_arms),
        "exp3_ix": exp3_ix(num_arms, learning_rate=0.01, gamma=0.005),
        "tsallis_inf": tsallis_inf(num_arms),
    }[name]
    means = jnp.asarray([0.2, 0.5, 0.9])  # mean losses

    def step(state, t):
        k_act, k_env = jax.random.split(jax.random.fold_in(jax.random.key(0), t))
        action, state = learner.act(k_act, state, ())
        loss = (jax.random.uniform(k_env) < means[action]).astype(jnp.float32)
        return learner.update(state, (), action, 1.0 - loss), action == 0

    state, best = jax.jit(lambda s: jax.lax.scan(step, s, jnp.arange(num_rounds)))(
        learner.init(jax.random.key(0))
    )
    for leaf in (state.loss_estimates, state.probs):
        assert np.all(np.isfinite(np.asarray(leaf)))
    np.testing.assert_allclose(float(jnp.sum(state.probs)), 1.0, rtol=1e-5)
    assert float(jnp.mean(best[-100_000:])) > 0.9  # it has found the best arm
