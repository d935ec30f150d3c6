"""Contextual preference games and their learners (tabular per prompt, flax MLP)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp

from algorithms.nash import (
    make_learner,
    nash_md_pg,
    online_mirror_descent,
)
from algorithms.nash.contextual import neural_policy, per_context
from envs.games import (
    Play,
    check_preference_matrix,
    contextual_bt_mixture_matrices,
    contextual_duality_gap,
    contextual_game_env,
    contextual_game_params,
    contextual_preference_game,
    contextual_preference_params,
    nash_residual,
    random_preference_matrix,
)


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def scan_rounds(learner, env, params, num_rounds, seed=0):
    """Per-round (action, learner state after act, prompt, feedback, info) of one
    run (keys as in the runner)."""

    @jax.jit
    def go(key):
        k_init, k_reset, k_env, k_learner = jax.random.split(key, 4)
        env_state, obs = env.reset(k_reset, params)
        state = learner.init(k_init)

        def body(carry, t):
            env_state, obs, state = carry
            action, state = learner.act(jax.random.fold_in(k_learner, t), state, obs)
            acted = state
            env_state, obs2, fb, info = env.step(
                jax.random.fold_in(k_env, t), env_state, action, params
            )
            state = learner.update(state, obs, action, fb)
            return (env_state, obs2, state), (action, acted, obs.context, fb, info)

        _, out = jax.lax.scan(body, (env_state, obs, state), jnp.arange(num_rounds))
        return out

    return jax.tree.map(np.asarray, go(jax.random.key(seed)))


def scan_actions(learner, env, params, num_rounds, seed=0):
    """Per-round actions, infos, prompts and feedback of one run."""
    action, _, context, fb, info = scan_rounds(learner, env, params, num_rounds, seed)
    return action, info, context, fb


def _np_gap(P, x, y, mu, beta):
    """The regularised duality gap by evaluating J at the softmax best responses."""

    def J(c, a, b):
        kl_a = np.sum(a * np.log(a / mu[c]))
        kl_b = np.sum(b * np.log(b / mu[c]))
        return a @ P[c] @ b - beta * kl_a + beta * kl_b

    gaps = []
    for c in range(P.shape[0]):
        br_x = np.log(mu[c]) + P[c] @ y[c] / beta
        br_x = np.exp(br_x - logsumexp(br_x))
        br_y = np.log(mu[c]) - P[c].T @ x[c] / beta
        br_y = np.exp(br_y - logsumexp(br_y))
        gaps.append(J(c, br_x, y[c]) - J(c, x[c], br_y))
    return np.asarray(gaps)


@pytest.mark.parametrize(
    "kind,features", [("random", "onehot"), ("bt_mixture", "gaussian")]
)
def test_generated_games_and_equilibria(kind, features):
    C, n = 3, 4  # one shape for the whole module: one Newton compile
    params = contextual_preference_params(
        jax.random.key(3), C, n, 0.1, kind=kind, features=features, feature_dim=3
    )
    assert params.P.shape == (C, n, n) and params.pi_star.shape == (C, n)
    assert params.features.shape == ((C, C) if features == "onehot" else (C, 3))
    for c in range(C):
        check_preference_matrix(np.asarray(params.P[c]))
        res = nash_residual(
            params.P[c],
            params.pi_star[c],
            params.pi_star[c],
            params.mu[c],
            params.mu[c],
            params.beta,
        )
        assert res < 1e-10  # the regularised fixed-point equation
    pi = params.pi_star
    assert abs(float(contextual_duality_gap(params, pi, pi))) < 1e-12
    other = jax.nn.softmax(jax.random.normal(jax.random.key(1), (C, n)))
    assert float(contextual_duality_gap(params, other, other)) > 1e-3


def test_bt_mixture_has_intransitive_prompts():
    """Three equally weighted BT raters: valid preference matrices, and some prompts
    have no Condorcet winner (a response beating every other one) while most do."""
    P, phi = contextual_bt_mixture_matrices(jax.random.key(0), 200, 10)
    P = np.asarray(P)
    assert phi.shape == (200, 4)
    for c in range(0, 200, 20):
        check_preference_matrix(P[c])
    beats_all = ((P > 0.5) | np.eye(10, dtype=bool)).all(axis=2).any(axis=1)
    # ~20% intransitive prompts (measured 17-25% over feature draws); 200 prompts
    assert 10 < (~beats_all).sum() < 100


def test_gap_matches_numpy_objective():
    """rho-weighted gap = sum_c rho_c [J_c(BR(y_c), y_c) - J_c(x_c, BR(x_c))]."""
    rng = np.random.default_rng(0)
    C, n, beta = 3, 4, 0.3
    P = np.stack(
        [np.asarray(random_preference_matrix(jax.random.key(c), n)) for c in range(C)]
    )
    rho = np.array([0.5, 0.3, 0.2])
    mu = rng.dirichlet(np.ones(n), size=C)
    params = contextual_game_params(P, beta=beta, rho=rho, mu=mu)
    x = rng.dirichlet(np.ones(n), size=C)
    y = rng.dirichlet(np.ones(n), size=C)
    expected = rho @ _np_gap(P, x, y, mu, beta)
    got = float(contextual_duality_gap(params, jnp.asarray(x), jnp.asarray(y)))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_prompt_draws_and_exact_feedback():
    rho = np.array([0.6, 0.3, 0.1])
    P = np.stack(
        [np.asarray(random_preference_matrix(jax.random.key(c), 4)) for c in range(3)]
    )
    params = contextual_game_params(P, beta=0.1, rho=rho)
    env = contextual_game_env(params)
    learner = per_context(online_mirror_descent(4, eta=0.5), 3)
    T = 6000
    actions, infos, contexts, fb = scan_actions(learner, env, params, T)
    freq = np.bincount(contexts, minlength=3) / T
    # std of a frequency <= sqrt(0.25 / T) = 0.0065; 5 sigma
    np.testing.assert_allclose(freq, rho, atol=0.033)
    rows = np.einsum("tij,tj->ti", P[contexts], actions.qy)
    np.testing.assert_allclose(fb.row, rows, atol=1e-12)
    t = 3  # early: the gap is still large
    exact = contextual_duality_gap(
        params, jnp.asarray(actions.x[t]), jnp.asarray(actions.y[t])
    )
    np.testing.assert_allclose(infos.regret[t], float(exact), rtol=1e-10)
    assert infos.duality_gap[-1] < 1e-8  # per-prompt OMD has converged


def test_contextual_player_regrets_telescope_to_hindsight_regret():
    # Sum of row_regret increments = sum_c rho_c max_x sum_t [x^T P_c y_{t,c}
    # - beta KL(x || mu_c)] - sum_t u_t(x_t) (best fixed policy table, per prompt in
    # closed form), likewise for the column player; their sum is bounded by the
    # cumulative duality gap (J(x*, y_t) - J(x_t, y*) <= gap_t for any fixed x*, y*).
    C, n, T, beta = 3, 4, 7, 0.2
    rho = np.array([0.5, 0.3, 0.2])
    rng = np.random.default_rng(5)
    with jax.enable_x64(True):
        P = np.stack(
            [
                np.asarray(random_preference_matrix(jax.random.key(c), n))
                for c in range(C)
            ]
        )
        mu = rng.dirichlet(3.0 * np.ones(n), C)  # a different reference per prompt
        params = contextual_game_params(P, beta=beta, rho=rho, mu=mu)
        env = contextual_game_env(params)
        xs = rng.dirichlet(np.ones(n), (T, C))
        ys = rng.dirichlet(np.ones(n), (T, C))
        state, _ = env.reset(jax.random.key(0), params)
        row = col = gap = 0.0
        for t in range(T):
            play = Play(jnp.asarray(xs[t]), jnp.asarray(ys[t]), xs[t, 0], ys[t, 0])
            state, _, _, info = env.step(jax.random.key(t), state, play, params)
            row, col = row + float(info.row_regret), col + float(info.col_regret)
            gap += float(info.regret)

    def kl_np(p, c):
        return float(np.sum(p * np.log(p / mu[c])))

    def best(scores, c):  # max_p <p, scores> - beta T KL(p || mu_c), closed form
        temperature = beta * T
        return temperature * np.log(np.sum(mu[c] * np.exp(scores / temperature)))

    best_row = sum(rho[c] * best(P[c] @ ys[:, c].sum(0), c) for c in range(C))
    best_col = sum(rho[c] * best(-(P[c].T @ xs[:, c].sum(0)), c) for c in range(C))
    got_row = sum(
        rho[c] * (xs[t, c] @ P[c] @ ys[t, c] - beta * kl_np(xs[t, c], c))
        for t in range(T)
        for c in range(C)
    )
    got_col = sum(
        rho[c] * (-(xs[t, c] @ P[c] @ ys[t, c]) - beta * kl_np(ys[t, c], c))
        for t in range(T)
        for c in range(C)
    )
    assert row == pytest.approx(best_row - got_row, abs=1e-10)
    assert col == pytest.approx(best_col - got_col, abs=1e-10)
    assert row > 0 and col > 0  # random tables are far from any best response
    assert row + col <= gap + 1e-10


@pytest.mark.slow  # CI time (~8 s of CPU, Monte-Carlo)
def test_sampled_feedback_is_unbiased():
    params = contextual_preference_params(jax.random.key(2), 3, 4, 0.1)
    env = contextual_game_env(params, feedback="sampled", batch_size=8)
    q = jnp.asarray([0.1, 0.2, 0.3, 0.4])
    x = jnp.full((3, 4), 0.25)
    state, _ = env.reset(jax.random.key(0), params)
    state = state._replace(context=jnp.asarray(1, jnp.int32))
    keys = jax.random.split(jax.random.key(5), 4000)
    rows = jax.vmap(lambda k: env.step(k, state, Play(x, x, q, q), params)[2].row)(keys)
    # each entry: mean of 8 Bernoullis, std <= 0.18; over 4000 draws std <= 0.0028
    np.testing.assert_allclose(rows.mean(0), params.P[1] @ q, atol=0.015)


def test_invalid_inputs():
    P = np.stack(
        [np.asarray(random_preference_matrix(jax.random.key(c), 3)) for c in range(2)]
    )
    with pytest.raises(ValueError, match="beta"):
        contextual_game_params(P, beta=0.0)
    bad = P.copy()
    bad[0, 0, 1] += 0.1
    with pytest.raises(ValueError, match="P \\+ P\\^T"):
        contextual_game_params(bad, beta=0.1)
    with pytest.raises(ValueError, match="rho"):
        contextual_game_params(P, beta=0.1, rho=[1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="simplex"):
        contextual_game_params(P, beta=0.1, rho=[0.7, 0.7])
    with pytest.raises(ValueError, match="kind"):
        contextual_preference_game(2, 3, beta=0.1, kind="nope")
    with pytest.raises(ValueError, match="beta"):
        contextual_preference_game(2, 3, beta=-1.0)
    with pytest.raises(ValueError, match="method"):
        neural_policy(2, 3, method="nope")
    with pytest.raises(ValueError, match="optimizer"):
        neural_policy(2, 3, optimizer="rmsprop")


# One-hot prompts + a linear layer without bias + SGD: the network's weight rows ARE
# the tabular logits, so the neural learners must reproduce the tabular updates.
C, N, ETA = 3, 4, 0.5


def _linear(method, **kw):
    return neural_policy(
        C, N, method=method, hidden=(), use_bias=False, optimizer="sgd", **kw
    )


@pytest.mark.parametrize(
    "neural,tabular",
    [
        # lr = n / 2: one step on the online IPO loss is the exact OMD step
        (
            lambda: _linear(
                "online_ipo_1", eta=ETA, learning_rate=N / 2, inner_steps=1
            ),
            lambda: online_mirror_descent(N, eta=ETA),
        ),
        # lr = eta: one step on -(<pi, g> - beta KL) is the tabular PG step
        (
            lambda: _linear(
                "nash_md_pg", learning_rate=2.0, inner_steps=1, mixture=0.125
            ),
            lambda: nash_md_pg(N, eta=2.0, mixture=0.125),
        ),
    ],
    ids=["omd", "nash_md_pg"],
)
def test_linear_onehot_network_reproduces_tabular(neural, tabular):
    params = contextual_preference_params(jax.random.key(4), C, N, 0.2)
    env = contextual_game_env(params)
    a_nn, i_nn, _, _ = scan_actions(neural(), env, params, 60)
    a_tab, i_tab, _, _ = scan_actions(per_context(tabular(), C), env, params, 60)
    np.testing.assert_allclose(a_nn.x, a_tab.x, atol=1e-10)
    np.testing.assert_allclose(a_nn.qx, a_tab.qx, atol=1e-10)
    np.testing.assert_allclose(i_nn.duality_gap, i_tab.duality_gap, atol=1e-10)


def test_linear_onehot_omd_converges_with_more_inner_steps():
    """A smaller SGD step with several inner steps still lands on the OMD target
    (the loss is quadratic: error (1 - 2 lr / n)^K), so the run converges to the
    regularised equilibrium like tabular OMD (contraction 1 - eta beta per visit)."""
    params = contextual_preference_params(jax.random.key(6), C, N, 0.2)
    env = contextual_game_env(params)
    learner = _linear("online_ipo_1", eta=ETA, learning_rate=1.0, inner_steps=30)
    _, infos, _, _ = scan_actions(learner, env, params, 900)
    # (1 - 0.1)^300 visits per prompt ~ 2e-14; 1 - 2/4 = 0.5, 0.5^30 ~ 1e-9 inner error
    assert infos.duality_gap[-1] < 1e-7
    assert infos.kl_to_nash[-1] < 1e-7


def test_tabular_wrapper_keeps_a_phase_per_prompt():
    params = contextual_preference_params(jax.random.key(7), C, N, 0.2)
    env = contextual_game_env(params)
    learner = per_context(make_learner("egpo", N), C)
    actions, infos, contexts, _ = scan_actions(learner, env, params, 40)
    # the evaluated table of an undrawn prompt does not move
    for t in range(1, 40):
        others = [c for c in range(C) if c != contexts[t - 1]]
        np.testing.assert_array_equal(actions.x[t, others], actions.x[t - 1, others])


def test_linear_onehot_egpo_against_numpy_loop():
    """Neural EGPO with one phase for all prompts (round 1 on prompt c, round 2 on the
    prompt c' drawn next: a stochastic extragradient step) against a NumPy loop of
    the same tabular updates, with the prompts of the run."""
    params = contextual_preference_params(jax.random.key(4), C, N, 0.2)
    env = contextual_game_env(params)
    learner = _linear("egpo", eta=ETA, learning_rate=N / 2, inner_steps=1)
    T = 40
    actions, _, contexts, _ = scan_actions(learner, env, params, T)
    P, beta = np.asarray(params.P), float(params.beta)
    log_mu = np.log(np.asarray(params.mu))

    def md(logits, c, g):  # EGPO's OMD step for prompt c
        z = (1 - ETA * beta) * logits[c] + ETA * beta * log_mu[c] + ETA * g
        return z - logsumexp(z)

    logits = np.full((C, N), -np.log(N))
    half = logits.copy()
    for t in range(T):
        c = contexts[t]
        query = np.exp(logits[c] if t % 2 == 0 else half[c])
        np.testing.assert_allclose(actions.x[t], np.exp(logits), atol=1e-10)
        np.testing.assert_allclose(actions.qx[t], query, atol=1e-10)
        g = P[c] @ query
        if t % 2 == 0:
            half = logits.copy()
            half[c] = md(logits, c, g)
        else:
            logits = logits.copy()
            logits[c] = md(logits, c, g)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["egpo", "online_ipo_1", "nash_md_pg"])
def test_mlp_policy_converges_towards_the_regularised_equilibrium(method):
    """A tanh MLP (default tuning) on gaussian-feature BT-mixture games: over 4 games
    the gap after 2,000 rounds is below 15% of the initial gap in every game (measured
    up to 6.4% for EGPO, whose iteration takes two rounds, less for OMD / Nash-MD-PG;
    a learner that does not learn stays at 100%, a diverging one is NaN)."""
    from algorithms.nash import make_contextual_learner

    for seed in range(4):
        params = contextual_preference_params(
            jax.random.key(seed), 8, 10, 0.1, kind="bt_mixture", features="gaussian"
        )
        env = contextual_game_env(params)
        learner = make_contextual_learner(method, 8, 4, 10, policy="mlp")
        _, infos, _, _ = scan_actions(learner, env, params, 2000, seed=seed)
        gaps = infos.duality_gap
        assert np.all(np.isfinite(gaps))
        assert gaps[-1] < 0.15 * gaps[0], (seed, gaps[0], gaps[-1])
