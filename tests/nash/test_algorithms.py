"""Nash learners: closed-form steps, convergence within their theorems' iterations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.nash import (
    egpo,
    hedge,
    magnetic_mirror_descent,
    make_learner,
    nash_md,
    online_ipo_gradient,
    online_mirror_descent,
    regret_matching,
)
from envs.games import (
    GameFeedback,
    GameObs,
    kl,
    preference_game,
    random_preference_matrix,
    rps_matrix,
)


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def scan_run(learner, env, num_rounds, seed=0):
    """All per-round infos of one run (a jitted lax.scan; keys as in the runner)."""
    params = env.params

    @jax.jit
    def go(key):
        k_init, k_reset, k_env, k_learner = jax.random.split(key, 4)
        env_state, obs = env.reset(k_reset, params)
        state = learner.init(k_init)

        def body(carry, t):
            env_state, obs, state = carry
            action, state = learner.act(jax.random.fold_in(k_learner, t), state, obs)
            env_state, obs2, fb, info = env.step(
                jax.random.fold_in(k_env, t), env_state, action, params
            )
            state = learner.update(state, obs, action, fb)
            return (env_state, obs2, state), info

        _, infos = jax.lax.scan(body, (env_state, obs, state), jnp.arange(num_rounds))
        return infos

    return jax.tree.map(np.asarray, go(jax.random.key(seed)))


def _game(seed=0, n=5, beta=0.1):
    P = np.asarray(random_preference_matrix(jax.random.key(seed), n))
    mu = np.asarray(jax.random.dirichlet(jax.random.key(50 + seed), jnp.ones(n)))
    return preference_game(P, beta=beta, mu=mu), P, mu


def _obs(mu, beta):
    return GameObs(jnp.asarray(beta), jnp.asarray(mu), jnp.asarray(mu))


def test_one_step_closed_forms():
    env, P, mu = _game()
    beta, eta = 0.1, 0.3
    obs = _obs(mu, beta)
    rng = np.random.default_rng(0)
    pi = rng.dirichlet(np.ones(5))
    logits = jnp.log(pi)

    def norm(v):
        v = np.exp(v - v.max())
        return v / v.sum()

    # Nash-MD: mixture pi^{1-eta beta} mu^{eta beta}, then mix * exp(eta P mix).
    learner = nash_md(5, eta=eta)
    state = learner.init(jax.random.key(0))._replace(logits=logits)
    action, _ = learner.act(jax.random.key(1), state, obs)
    mix = norm((1 - eta * beta) * np.log(pi) + eta * beta * np.log(mu))
    np.testing.assert_allclose(action.qx, mix, atol=1e-12)
    new = learner.update(state, obs, action, GameFeedback(P @ mix, P.T @ mix))
    np.testing.assert_allclose(
        np.exp(new.logits), norm(np.log(mix) + eta * P @ mix), atol=1e-12
    )
    # OMD / online IPO 1 / INPO.
    learner = online_mirror_descent(5, eta=eta)
    new = learner.update(state, obs, None, GameFeedback(P @ pi, P.T @ pi))
    expect = norm(
        (1 - eta * beta) * np.log(pi) + eta * beta * np.log(mu) + eta * P @ pi
    )
    np.testing.assert_allclose(np.exp(new.logits), expect, atol=1e-12)
    # MMD: (log pi + eta beta log mu + eta g) / (1 + eta beta).
    learner = magnetic_mirror_descent(5, eta=eta)
    new = learner.update(state, obs, None, GameFeedback(P @ pi, P.T @ pi))
    expect = norm(
        (np.log(pi) + eta * beta * np.log(mu) + eta * P @ pi) / (1 + eta * beta)
    )
    np.testing.assert_allclose(np.exp(new.logits), expect, atol=1e-12)


def test_online_ipo_gradient_is_the_ipo_loss_gradient():
    env, P, mu = _game()
    beta, eta = 0.1, 0.7
    rng = np.random.default_rng(1)
    theta = jnp.asarray(rng.normal(size=5))
    pi_t = jax.nn.softmax(theta)

    def ipo_loss(th):
        # (beta / 2) E_{y, y' ~ pi_t}[(h(y, y') - (P(y > y') - 1/2) / beta)^2]
        r = jax.nn.log_softmax(th) - jnp.log(mu)
        h = r[:, None] - r[None, :]
        target = (P - 0.5) / beta
        return 0.5 * beta * jnp.sum(pi_t[:, None] * pi_t[None, :] * (h - target) ** 2)

    grad = jax.grad(ipo_loss)(theta)
    learner = online_ipo_gradient(5, eta=eta)
    state = learner.init(jax.random.key(0))._replace(logits=jax.nn.log_softmax(theta))
    new = learner.update(
        state, _obs(mu, beta), None, GameFeedback(P @ pi_t, P.T @ pi_t)
    )
    expected = jax.nn.log_softmax(theta - eta * grad)
    np.testing.assert_allclose(new.logits, expected, atol=1e-12)


def test_nash_md_decreasing_step_rate():
    # KL(pi*, pi_t) <= 8 / (beta^2 (t + 1)) (see nash_md's docstring), t >= 1.
    beta = 1.0
    env, P, mu = _game(seed=2, beta=beta)
    infos = scan_run(nash_md(5, decreasing=True), env, 400)
    # info at round t evaluates pi_{t-1} (the policy played before the update).
    t = np.arange(1, 400)
    kls = infos.kl_to_nash[1:]
    assert np.all(kls <= 8.0 / (beta**2 * (t + 1)))
    assert kls[-1] < 1e-3


@pytest.mark.parametrize("beta", [0.1, pytest.param(0.03, marks=pytest.mark.slow)])
def test_egpo_linear_rate(beta):
    # KL(pi*, pi_T) <= (1 - eta beta)^T KL(pi*, pi_0) (EGPO Thm 1 / Cen et al. Thm 1),
    # eta = 1 / (beta + 1) <= 1 / (beta + 2 max|P - 1/2|).
    eta = 1.0 / (beta + 1.0)
    env, P, mu = _game(seed=3, n=10, beta=beta)
    iters = 400
    infos = scan_run(egpo(10, eta=eta), env, 2 * iters)
    kls = infos.kl_to_nash[::2]  # one entry per iteration: pi_0, pi_1, ...
    bound = (1 - eta * beta) ** np.arange(iters) * kls[0]
    assert np.all(kls <= bound * (1 + 1e-9) + 1e-14)
    assert kls[-1] < 1e-4 * kls[0]
    assert infos.duality_gap[-1] < 1e-4


def test_mwu_last_iterate_cycles_omwu_converges():
    # Unregularised weighted RPS (unique interior equilibrium): Hedge self-play moves
    # away from the equilibrium (KL grows), its average converges; OMWU's last iterate
    # converges (Daskalakis and Panageas 2019).
    env = preference_game(rps_matrix(0.5, 1.0, 0.8))
    mwu = scan_run(make_learner("mwu", 3), env, 4000)
    omwu = scan_run(make_learner("omwu", 3), env, 4000)
    assert omwu.duality_gap[-1] < 1e-6
    assert mwu.duality_gap[-500:].min() > 0.05
    assert mwu.kl_to_nash[-1] > mwu.kl_to_nash[10]  # spirals outwards
    assert mwu.avg_gap[-1] < 0.05  # average iterate converges (no-regret)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["extragradient", "mirror_prox", "ogda", "halpern", "regret_matching_plus"]
)
def test_last_or_average_iterate_converges(name):
    env = preference_game(rps_matrix(0.5, 1.0, 0.8))
    infos = scan_run(make_learner(name, 3), env, 6000)
    gap = infos.avg_gap[-1] if name == "regret_matching_plus" else infos.duality_gap[-1]
    assert gap < 0.01


def test_experts_closed_forms():
    rewards = np.random.default_rng(2).uniform(size=(5, 4))
    learner = hedge(4, eta=0.3)
    state = learner.init(jax.random.key(0))
    for r in rewards:
        x, state = learner.act(jax.random.key(1), state, ())
        state = learner.update(state, (), x, jnp.asarray(r))
    x, _ = learner.act(jax.random.key(1), state, ())
    w = np.exp(0.3 * rewards.sum(0))
    np.testing.assert_allclose(x, w / w.sum(), atol=1e-12)
    # Regret matching: x ∝ [sum_t (g_t - <x_t, g_t>)]_+, computed by a NumPy loop.
    learner = regret_matching(4)
    state = learner.init(jax.random.key(0))
    R = np.zeros(4)
    for r in rewards:
        x, state = learner.act(jax.random.key(1), state, ())
        pos = np.maximum(R, 0)
        ref = pos / pos.sum() if pos.sum() > 0 else np.full(4, 0.25)
        np.testing.assert_allclose(x, ref, atol=1e-12)
        R += r - ref @ r
        state = learner.update(state, (), x, jnp.asarray(r))


@pytest.mark.slow
def test_sampled_egpo_matches_exact_in_expectation():
    # One EGPO half-step from the same state: with sampled feedback the logit update
    # is linear in g, so its mean over 2,000 seeds equals the exact update;
    # per-coordinate std of g-hat <= 0.5/sqrt(16), so the mean's error is
    # <= eta * 0.125 / sqrt(2000) ~ 1.4e-3 (1 sd); 6 sd tolerance.
    beta, eta = 0.1, 0.5
    P = np.asarray(random_preference_matrix(jax.random.key(5), 6))
    mu = np.full(6, 1 / 6)
    exact = preference_game(P, beta=beta)
    sampled = preference_game(P, beta=beta, feedback="sampled", batch_size=16)
    learner = egpo(6, eta=eta)
    p = exact.params
    obs = _obs(mu, beta)
    state = learner.init(jax.random.key(0))
    action, _ = learner.act(jax.random.key(0), state, obs)
    env_state, _ = exact.reset(jax.random.key(0), p)

    def half(key, env):
        fb = env.step(key, env_state, action, p)[2]
        return learner.update(state, obs, action, fb).half

    ref = half(jax.random.key(0), exact)
    keys = jax.random.split(jax.random.key(1), 2000)
    means = jax.jit(jax.vmap(lambda k: half(k, sampled)))(keys)
    # Compare unnormalised logits: remove the mean of each (normalisation constant).
    centred = means - means.mean(-1, keepdims=True)
    np.testing.assert_allclose(centred.mean(0), ref - ref.mean(), atol=6 * 1.4e-3)


def test_kl_helper():
    p = jnp.asarray([0.5, 0.5, 0.0])
    q = jnp.asarray([0.25, 0.25, 0.5])
    assert float(kl(p, q)) == pytest.approx(np.log(2))
