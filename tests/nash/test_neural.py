"""Neural Nash-MD, INPO, DNO and DNO-Prct on contextual preference games.

With one-hot prompt features, a linear layer without bias and SGD, the network's
weight row of prompt ``c`` IS the (unnormalised) logit vector of ``pi(.|c)``, so each
neural update can be checked against the tabular learner of ``algorithms.nash`` (the
exact minimiser of the regression) or against a NumPy loop of the SGD steps.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import expit, logsumexp

from algorithms.nash import dno, make_contextual_learner, nash_md, per_context
from algorithms.nash import online_mirror_descent as omd
from algorithms.nash.contextual import neural_policy
from algorithms.nash.preference import PolicyState
from envs.games import (
    GameFeedback,
    GameObs,
    Play,
    bradley_terry_matrix,
    contextual_game_env,
    contextual_game_params,
    contextual_preference_params,
)
from tests.nash.test_contextual import scan_rounds


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


C, N, ETA, BETA = 3, 4, 0.5, 0.2


def _linear(method, **kw):
    return neural_policy(
        C, N, method=method, hidden=(), use_bias=False, optimizer="sgd", **kw
    )


def _game(seed=4, beta=BETA):
    params = contextual_preference_params(jax.random.key(seed), C, N, beta)
    return params, contextual_game_env(params)


def _tabular_step(learner, logits, params, c, query, g):
    """One update of a tabular learner of ``algorithms.nash`` from ``logits``."""
    mu = params.mu[c]
    state = PolicyState(jnp.asarray(logits), jnp.zeros((), jnp.int32))
    pi, q = jnp.exp(jnp.asarray(logits)), jnp.asarray(query)
    fb = GameFeedback(jnp.asarray(g), jnp.asarray(g))
    new = learner.update(state, GameObs(params.beta, mu, mu), Play(pi, pi, q, q), fb)
    return np.asarray(new.logits)


def test_linear_onehot_nash_md_is_tabular_nash_md():
    """lr n/2, one SGD step on Var_u(log pi - target): the exact minimiser, i.e. the
    tabular Nash-MD step (mixture query, mixture + eta g target), to round-off."""
    params, env = _game()
    learner = _linear("nash_md", eta=ETA, learning_rate=N / 2, inner_steps=1)
    a_nn, _, _, _, i_nn = scan_rounds(learner, env, params, 60)
    tab = per_context(nash_md(N, eta=ETA), C)
    a_tab, _, _, _, i_tab = scan_rounds(tab, env, params, 60)
    np.testing.assert_allclose(a_nn.x, a_tab.x, atol=1e-10)
    np.testing.assert_allclose(a_nn.qx, a_tab.qx, atol=1e-10)  # the mixture query
    np.testing.assert_allclose(i_nn.duality_gap, i_tab.duality_gap, atol=1e-10)


def test_linear_onehot_inpo_first_step_against_numpy():
    """One SGD step of lr a on INPO's pair loss 1/2 E_{y,y'~pi_t}[(h - eta dg)^2]:
    in the logits z of the drawn prompt the gradient is
    ``2 pi_t * (d - <pi_t, d>)``, ``d = log pi_t - tau`` (tau the OMD target)."""
    params, env = _game()
    a = 0.7
    learner = _linear("inpo", eta=ETA, learning_rate=a, inner_steps=1)
    T = 40
    actions, _, contexts, fb, _ = scan_rounds(learner, env, params, T)
    log_mu, beta = np.log(np.asarray(params.mu)), float(params.beta)
    z = np.log(actions.x[0])
    for t in range(T):
        np.testing.assert_allclose(actions.x[t], np.exp(z), atol=1e-10)
        c = contexts[t]
        np.testing.assert_allclose(actions.qx[t], np.exp(z[c]), atol=1e-10)
        g = np.asarray(params.P[c]) @ np.exp(z[c])
        np.testing.assert_allclose(fb.row[t], g, atol=1e-12)
        w = np.exp(z[c])
        tau = (1 - ETA * beta) * z[c] + ETA * beta * log_mu[c] + ETA * g
        dvec = z[c] - tau
        z = z.copy()
        z[c] = z[c] - a * 2 * w * (dvec - w @ dvec)
        z[c] -= logsumexp(z[c])


@pytest.mark.slow
def test_linear_onehot_inpo_minimiser_is_tabular_omd():
    """Many SGD steps on INPO's loss land on its minimiser, the tabular OMD (=INPO)
    step: GD on Var_{pi_t}(z - tau) contracts each direction by
    ``|1 - 2 a lambda|`` with lambda in (0, max pi_t]; a = 1.5 and pi_t <= 0.6 here
    give <= 0.8 per step, 0.8^150 ~ 3e-15."""
    params, env = _game()
    learner = _linear("inpo", eta=ETA, learning_rate=1.5, inner_steps=150)
    a_nn, _, _, _, i_nn = scan_rounds(learner, env, params, 40)
    assert a_nn.x.max() < 0.6  # the contraction bound above needs pi_t <= 0.6
    a_tab, _, _, _, i_tab = scan_rounds(
        per_context(omd(N, eta=ETA), C), env, params, 40
    )
    np.testing.assert_allclose(a_nn.x, a_tab.x, atol=1e-9)
    np.testing.assert_allclose(i_nn.duality_gap, i_tab.duality_gap, atol=1e-9)


@pytest.mark.slow  # ~8 s each on a contended CPU; the fast suite covers DNO below
@pytest.mark.parametrize("smoothing", [True, False])
def test_linear_onehot_dno_minimiser_is_tabular_step_on_sampled_responses(smoothing):
    """DNO's soft-label regression (Algorithm 1) on all pairs of K on-policy samples:
    its minimiser moves only the sampled responses' logits U, to the tabular target
    on U: the logit differences within U are those of the tabular Nash-MD step
    (``smoothing``: mixture reference and query) or of the tabular DNO step
    (``pi_t exp(eta g)``, no smoothing), the other logits stay. The logistic loss
    (mean over the 3 pairs, argument u / eta, eta = 1/2) has Hessian in the logits
    ``(4 / 3) sum_pairs sigma' (e_i - e_j)(e_i - e_j)^T`` with sigma' in
    [0.19, 0.25] near the optimum (|r_i - r_j| <= 1); its nonzero eigenvalues lie in
    [0.79, 4/3] for every pattern of 3 samples, so lr 0.6 contracts by <= 0.53 per
    step: 100 steps are exact to round-off."""
    params, env = _game()
    learner = _linear(
        "dno",
        eta=ETA,
        learning_rate=0.6,
        inner_steps=100,
        num_samples=3,
        smoothing=smoothing,
    )
    T = 30
    actions, acted, contexts, fb, _ = scan_rounds(learner, env, params, T)
    tab = nash_md(N, eta=ETA) if smoothing else dno(N, kl_strength=1 / ETA)
    for t in range(T - 1):
        c = contexts[t]
        z = np.log(actions.x[t, c])
        target = _tabular_step(tab, z, params, c, actions.qx[t], fb.row[t])
        if smoothing:  # the query is the mixture pi_t^{1 - eta beta} mu^{eta beta}
            mix = (1 - ETA * float(params.beta)) * z + ETA * float(params.beta) * (
                np.log(np.asarray(params.mu[c]))
            )
            np.testing.assert_allclose(
                actions.qx[t], np.exp(mix - logsumexp(mix)), atol=1e-10
            )
        else:
            np.testing.assert_allclose(actions.qx[t], actions.x[t, c], atol=1e-10)
        U = np.unique(acted.samples[t])
        new = z.copy()
        shift = target[U] - z[U]
        new[U] = z[U] + shift - shift.mean()  # the pair gradients sum to zero on U
        new -= logsumexp(new)
        np.testing.assert_allclose(np.log(actions.x[t + 1, c]), new, atol=1e-7)
        others = [k for k in range(C) if k != c]
        np.testing.assert_array_equal(actions.x[t + 1, others], actions.x[t, others])


@pytest.mark.slow
def test_dno_samples_are_on_policy():
    """The K responses DNO draws in act are distributed as pi_t(.|c): pooled
    frequencies over the first round's samples across 4000 seeds (std per entry
    <= sqrt(0.25 / 32000) = 0.0028; 5 sigma = 0.014)."""
    params, env = _game()
    learner = _linear("dno", eta=ETA, num_samples=8, smoothing=False)
    _, obs = env.reset(jax.random.key(0), params)
    state = learner.init(jax.random.key(1))
    # a non-uniform iterate: set the weight row of the drawn prompt
    kernel = jnp.zeros((C, N)).at[obs.context].set(jnp.asarray([1.0, 0.0, -1.0, 0.5]))
    state = state._replace(params={"params": {"Dense_0": {"kernel": kernel}}})
    keys = jax.random.split(jax.random.key(2), 4000)
    samples = jax.vmap(lambda k: learner.act(k, state, obs)[1].samples)(keys)
    freq = np.bincount(np.asarray(samples).ravel(), minlength=N) / samples.size
    pi = np.asarray(jax.nn.softmax(kernel[obs.context]))
    np.testing.assert_allclose(freq, pi, atol=0.014)


def test_linear_onehot_dno_prct_step_against_numpy():
    """DNO-Prct (Algorithm 2): on-policy samples, (winner, loser) pairs with a win-rate
    margin, DPO loss with the smoothed previous iterate as reference; one SGD step
    of lr a against a NumPy loop of the gradient
    ``sum_kept -(s/eta) sigma(-s u/eta) (e_i - e_j) / #kept``."""
    params, env = _game()
    a, margin = 0.3, 0.05
    learner = _linear(
        "dno_prct",
        eta=ETA,
        learning_rate=a,
        inner_steps=1,
        num_samples=4,
        margin=margin,
    )
    T = 40
    actions, acted, contexts, fb, _ = scan_rounds(learner, env, params, T)
    log_mu, beta = np.log(np.asarray(params.mu)), float(params.beta)
    P = np.asarray(params.P)
    z = np.log(actions.x[0])
    kept_total = 0
    for t in range(T):
        np.testing.assert_allclose(actions.x[t], np.exp(z), atol=1e-10)
        c = contexts[t]
        ref = (1 - ETA * beta) * z[c] + ETA * beta * log_mu[c]
        ref -= logsumexp(ref)
        g = P[c] @ np.exp(ref)  # win rates against the smoothed iterate
        np.testing.assert_allclose(fb.row[t], g, atol=1e-12)
        ratio = z[c] - ref
        s = acted.samples[t]
        grad, kept = np.zeros(N), 0
        for i in range(4):
            for j in range(i + 1, 4):
                dr = g[s[i]] - g[s[j]]
                if abs(dr) > margin:
                    kept += 1
                    sign = np.sign(dr)
                    u = ratio[s[i]] - ratio[s[j]]
                    coef = -(sign / ETA) * expit(-sign * u / ETA)
                    grad[s[i]] += coef
                    grad[s[j]] -= coef
        kept_total += kept
        z = z.copy()
        z[c] = z[c] - a * grad / max(kept, 1)
        z[c] -= logsumexp(z[c])
    assert kept_total > 20  # the margin filter kept pairs in most rounds


@pytest.mark.slow  # CI time (~9 s of CPU)
def test_linear_onehot_converge_to_regularised_equilibrium():
    """Default tuning (lr 1, 20 SGD steps) on a linear one-hot policy, 600 rounds
    (200 visits per prompt). INPO inherits tabular OMD's contraction to the
    regularised equilibrium (1 - eta beta = 0.9 per visit: 0.9^200 ~ 7e-10; the
    inner regression contracts by <= 1 - 2 pi_min per step): gap < 1e-8. Nash-MD
    with a constant step converges to its own fixed point, whose gap is O(eta) (its
    win rates are against the mixture): the neural Nash-MD and the smoothed DNO (K = 8
    samples, only the sampled responses fitted each round, the same fixed point) end
    within 1% of the tabular Nash-MD's final gap (measured 6.6e-5, agreement to 4
    digits), far below the start (1e-1); a wrong target or sign misses both."""
    params, env = _game()
    _, _, _, _, tab = scan_rounds(per_context(nash_md(N, eta=ETA), C), env, params, 600)
    biased = tab.duality_gap[-1]
    assert 1e-6 < biased < 1e-3  # the constant-step bias is visible at this scale
    for method in ("inpo", "nash_md", "dno"):
        learner = _linear(method, eta=ETA, learning_rate=1.0, inner_steps=20)
        _, _, _, _, infos = scan_rounds(learner, env, params, 600)
        gaps = infos.duality_gap
        assert gaps[0] > 1e-2
        if method == "inpo":
            assert gaps[-1] < 1e-8, gaps[-1]
            assert infos.kl_to_nash[-1] < 1e-8
        else:
            np.testing.assert_allclose(gaps[-1], biased, rtol=1e-2, err_msg=method)


@pytest.mark.slow
def test_dno_prct_finds_the_condorcet_winner_of_a_bt_game():
    """Hard labels on a transitive (Bradley-Terry) game push mass onto the top
    response: with beta = 0.01 the regularised equilibrium is close to it, and
    DNO-Prct cuts the gap to < 20% of the uniform start in 600 rounds (measured
    ~2%); a flipped winner/loser sign would raise it."""
    util = np.array([[2.0, 1.0, 0.0, -1.0], [-1.0, 0.0, 2.0, 1.0], [0.0, 2.0, 1.0, -1]])
    P = np.stack([np.asarray(bradley_terry_matrix(u)) for u in util])
    params = contextual_game_params(P, beta=0.01)
    env = contextual_game_env(params)
    learner = _linear("dno_prct", eta=ETA, learning_rate=0.3, inner_steps=10)
    actions, _, _, _, infos = scan_rounds(learner, env, params, 600)
    gaps = infos.duality_gap
    assert gaps[-1] < 0.2 * gaps[0], (gaps[0], gaps[-1])
    top = np.argmax(util, axis=1)
    assert np.all(actions.x[-1, np.arange(C), top] > 0.5)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="num_samples"):
        neural_policy(2, 3, method="dno", num_samples=1)
    with pytest.raises(ValueError, match="margin"):
        neural_policy(2, 3, method="dno_prct", margin=-0.1)
    with pytest.raises(ValueError, match="supports"):
        make_contextual_learner("spo", 3, 3, 3, policy="mlp")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["nash_md", "inpo", "dno"])
def test_mlp_converges_towards_the_regularised_equilibrium(method):
    """A tanh MLP (default tuning) on gaussian-feature BT-mixture games (8 prompts x
    10 responses, beta = 0.1): over 4 games the gap after 2,000 rounds is below 10%
    of the initial gap in every game (pilot, 3 games: 1.4% Nash-MD, 1.2% INPO, 2.5%
    DNO; a learner that does not learn stays at 100%, a diverging one is NaN)."""
    for seed in range(4):
        params = contextual_preference_params(
            jax.random.key(seed), 8, 10, 0.1, kind="bt_mixture", features="gaussian"
        )
        env = contextual_game_env(params)
        learner = make_contextual_learner(method, 8, 4, 10, policy="mlp")
        _, _, _, _, infos = scan_rounds(learner, env, params, 2000, seed=seed)
        gaps = infos.duality_gap
        assert np.all(np.isfinite(gaps))
        assert gaps[-1] < 0.1 * gaps[0], (seed, gaps[0], gaps[-1])


def test_inpo_win_rate_loss_equals_bernoulli_label_loss_up_to_a_constant():
    """The identity behind the INPO loss used here: under pairs y, y' ~ pi (product),
    E_lambda[(f(y) - f(y') - eta (lambda - 1/2))^2] with lambda ~ Ber(P(y > y')) and
    (f(y) - f(y') - eta (g(y) - g(y')))^2 with g = P pi differ by a constant that
    does not depend on f (checked for random f, in float64)."""
    rng = np.random.default_rng(0)
    n, eta = 5, 0.7
    upper = np.triu(rng.uniform(size=(n, n)), 1)
    P = upper + np.tril(1 - upper.T, -1) + 0.5 * np.eye(n)
    pi = rng.dirichlet(np.ones(n))
    g = P @ pi
    W = np.outer(pi, pi)

    def gap(f):
        h = f[:, None] - f[None, :]
        bern = (h - eta * (P - 0.5)) ** 2 + eta**2 * P * (1 - P)  # E over lambda
        win = (h - eta * (g[:, None] - g[None, :])) ** 2
        return np.sum(W * bern) - np.sum(W * win)

    consts = [gap(rng.normal(size=n) * 3) for _ in range(5)]
    np.testing.assert_allclose(consts, consts[0], rtol=0, atol=1e-12)
    assert consts[0] > 0  # the label noise and the non-additive part of P
