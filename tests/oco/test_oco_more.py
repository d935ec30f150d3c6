"""p-norm OMD, FTRL on exact losses, the Hedge / ONS optax wrappers and sleeping
experts: closed forms, NumPy / SciPy references and per-run regret bounds."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import optimize

from algorithms.oco import (
    ftl,
    ftrl_exact,
    ftrl_quadratic,
    ftrl_squared_loss,
    hedge,
    ogd,
    ons,
    pnorm_omd,
    sleeping_hedge,
)
from algorithms.oco.optax_wrappers import hedge_transform, ons_transform
from algorithms.oco.pnorm import (
    default_p,
    dual_exponent,
    pnorm,
    pnorm_link,
    pnorm_regret_bound,
)
from envs import oco, oco_sleeping
from tests.oco.oco_helpers import play_obs
from tests.oco.test_oco import play


def ball_argmin(fun, dim, radius):
    """``argmin_{||x|| <= radius} fun(x)`` by SciPy's SLSQP from the origin."""
    return optimize.minimize(
        fun,
        np.zeros(dim),
        constraints=[{"type": "ineq", "fun": lambda x: radius**2 - x @ x}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 500},
    ).x


# --------------------------------------------------------------------------------------
# p-norm online mirror descent.
# --------------------------------------------------------------------------------------


def test_pnorm_link_closed_form_and_round_trip():
    """nabla(||x||_q^2/2) from its formula and by autodiff; nabla psi* inverts it;
    ||nabla psi(x)||_p = ||x||_q (Hölder duality); no overflow at large scales."""
    rng = np.random.default_rng(0)
    link_fn = jax.jit(pnorm_link, static_argnums=1)
    with jax.enable_x64(True):
        for d in (3, 50):
            p = default_p(d) if d > 3 else 3.0
            q = dual_exponent(p)
            for scale in (1e-3, 1.0, 1e3):
                x = rng.normal(size=d) * scale
                link = np.asarray(link_fn(jnp.asarray(x), q))
                norm_q = np.sum(np.abs(x) ** q) ** (1 / q)
                formula = np.sign(x) * np.abs(x) ** (q - 1) / norm_q ** (q - 2)
                np.testing.assert_allclose(link, formula, rtol=1e-10)
                auto = jax.grad(
                    lambda v, q=q: 0.5 * jnp.sum(jnp.abs(v) ** q) ** (2 / q)
                )
                if scale == 1.0:
                    np.testing.assert_allclose(link, auto(jnp.asarray(x)), rtol=1e-9)
                np.testing.assert_allclose(
                    float(pnorm(jnp.asarray(link), p)), norm_q, rtol=1e-10
                )
                back = np.asarray(link_fn(jnp.asarray(link), p))
                np.testing.assert_allclose(back, x, rtol=1e-9, atol=1e-12 * scale)
        # Large entries with p = 2 ln d ~ 14: |x|^{p-1} overflows float32 naively.
        big = jnp.asarray(np.full(1000, 1e30))
        assert np.all(np.isfinite(np.asarray(pnorm_link(big, default_p(1000)))))
        assert np.all(np.asarray(pnorm_link(jnp.zeros(4), 3.0)) == 0)


def test_pnorm_omd_is_ogd_at_p_two():
    """p = q = 2: the link is the identity and the Bregman projection onto the
    Euclidean ball is the Euclidean one: projected OGD with the same step."""
    with jax.enable_x64(True):
        env = oco.sea_model(3, sigma=0.5, adversarial=0.4)
        dom = oco.Domain("ball", 3)
        a, _, _ = play(pnorm_omd(dom, step_size=0.3, p=2.0), env, 30)
        b, _, _ = play(ogd(dom, schedule="constant", step_size=0.3), env, 30)
        np.testing.assert_allclose(a, b, atol=1e-12)
        assert np.max(np.linalg.norm(a, axis=1)) > 0.99  # the projection was active


def test_pnorm_omd_matches_numpy_reference():
    with jax.enable_x64(True):
        d, eta, radius = 20, 0.05, 0.3
        p = default_p(d)
        q = p / (p - 1)
        env = oco.sea_model(d, sigma=1.0, adversarial=0.5, noise="sphere")
        actions, _, fbs = play(
            pnorm_omd(oco.Domain("ball", d), step_size=eta, radius=radius), env, 25
        )

        def grad_half_sq(v, r):
            n = np.sum(np.abs(v) ** r) ** (1 / r)
            return (
                np.zeros_like(v)
                if n == 0
                else np.sign(v) * np.abs(v) ** (r - 1) / n ** (r - 2)
            )

        x = np.zeros(d)
        for t, fb in enumerate(fbs):
            np.testing.assert_allclose(actions[t], x, atol=1e-10)
            y = grad_half_sq(grad_half_sq(x, q) - eta * np.asarray(fb.grad), p)
            nq = np.sum(np.abs(y) ** q) ** (1 / q)
            x = y * min(1.0, radius / nq)
        norms = np.sum(np.abs(actions) ** q, axis=1) ** (1 / q)
        assert np.all(norms <= radius + 1e-9) and np.max(norms) > 0.99 * radius


def test_pnorm_regret_bound_on_every_run():
    """Regret against the best u in the q-ball (exactly R ||G_T||_p for linear losses)
    never exceeds ``R^2/(2 eta) + eta (p-1)/2 sum ||g_t||_p^2`` (Orabona 2019, Ch. 6).
    The losses: d = 100, i.i.d. signs with coordinate 0 biased to -1 w.p. 0.7
    (a sparse best comparator). The bound is worst-case, so it must hold on all 64
    seeds; with the tuned eta it is tight within a factor 10, and the learner beats
    the one that ignores the gradients (x_t = 0: regret R ||G_T||_p ~ 0.4 T) by a
    factor 2 (measured: 53 against 160 and a bound of ~90)."""
    d, horizon, radius = 100, 400, 1.0
    p = default_p(d)
    eta = radius / (d ** (1 / p) * np.sqrt((p - 1) * horizon))
    learner = pnorm_omd(oco.Domain("ball", d), step_size=eta, radius=radius)

    def one_run(key):
        k1, k2 = jax.random.split(key)
        signs = jnp.where(jax.random.uniform(k1, (horizon, d)) < 0.5, 1.0, -1.0)
        first = jnp.where(jax.random.uniform(k2, (horizon,)) < 0.7, -1.0, 1.0)
        grads = signs.at[:, 0].set(first)

        def body(state, g):
            fb = oco.OCOFeedback(jnp.dot(g, state.x), g, None)
            return learner.update(state, (), state.x, fb), jnp.dot(g, state.x)

        _, losses = jax.lax.scan(body, learner.init(None), grads)
        return grads, jnp.sum(losses)

    grads, loss = jax.jit(jax.vmap(one_run))(jax.random.split(jax.random.key(3), 64))
    grads, loss = np.asarray(grads, np.float64), np.asarray(loss, np.float64)
    cum = grads.sum(1)
    regret = loss + radius * np.sum(np.abs(cum) ** p, axis=1) ** (1 / p)
    bounds = np.array([pnorm_regret_bound(radius, eta, g, p) for g in grads])
    assert np.all(regret <= bounds)
    assert np.mean(regret) > 0.1 * np.mean(bounds)
    zero_learner = radius * np.sum(np.abs(cum) ** p, axis=1) ** (1 / p)
    assert np.mean(regret) < 0.5 * np.mean(zero_learner)


# --------------------------------------------------------------------------------------
# FTRL on exact losses.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ball", pytest.param("box", marks=pytest.mark.slow)])
def test_ftrl_quadratic_closed_form_and_exact_solver(kind):
    """x_{t+1} = Pi_K((sum lambda c + x_1/eta) / (sum lambda + 1/eta)), by hand; the
    buffered fixed-iteration solver reaches the same point (for unit curvature the
    averaged objective's smoothness is exactly 1 + 1/(eta t): one step is exact)."""
    with jax.enable_x64(True):
        env = oco.iid_quadratic(2, mean=[0.9, -0.8], noise=0.6, domain_kind=kind)
        dom = oco.Domain(kind, 2)
        for eta in (None, 0.5):
            actions, _, fbs = play(ftrl_quadratic(dom, step_size=eta), env, 15)
            inv = 0.0 if eta is None else 1 / eta
            w, s = 0.0, np.zeros(2)
            for t, fb in enumerate(fbs):
                if t > 0 or eta is not None:
                    m = s / (w + inv)
                    ref = np.asarray(oco.project(dom, jnp.asarray(m)))
                else:
                    ref = np.zeros(2)
                np.testing.assert_allclose(actions[t], ref, atol=1e-12)
                w += float(fb.loss_params.curvature)
                s += float(fb.loss_params.curvature) * np.asarray(fb.loss_params.center)
            value = oco.LOSS_FAMILIES["quadratic"]().value
            example = oco.QuadraticLoss(jnp.zeros(2), jnp.zeros(()))
            exact = ftrl_exact(dom, value, example, 15, step_size=eta, inner_steps=3)
            b, _, _ = play(exact, env, 15)
            np.testing.assert_allclose(b, actions, atol=1e-10)


def test_ftl_on_strongly_convex_losses_meets_its_bound_and_linearised_ftl_does_not():
    """Strong FTRL lemma: Regret_t <= sum_{s<=t} ||g_s||^2 / (2 lambda s) at every t,
    on every sequence (here 3 seeds of the SEA quadratic stream, lambda = 1). FTL on
    the linearised losses jumps to the boundary and breaks it by far."""
    with jax.enable_x64(True):
        env = oco.sea_model(2, loss="quadratic", sigma=0.8, adversarial=0.5)
        dom = oco.Domain("ball", 2)
        for seed in range(3):
            _, infos, fbs = play(ftrl_quadratic(dom), env, 150, seed=seed)
            g2 = np.array([np.sum(np.asarray(fb.grad) ** 2) for fb in fbs])
            bound = np.cumsum(g2 / (2 * np.arange(1, 151)))
            regret = np.cumsum(infos.regret)
            assert np.all(regret <= bound + 1e-9)
        _, infos, _ = play(ftl(dom), env, 150)
        assert np.sum(infos.regret) > 3 * bound[-1]


@pytest.mark.slow
def test_ftrl_squared_loss_matches_constrained_ridge():
    with jax.enable_x64(True):
        env = oco.online_regression(3, radius=0.3, noise=0.5)
        dom = oco.Domain("ball", 3, 0.3)
        actions, _, fbs = play(ftrl_squared_loss(dom, step_size=2.0), env, 8)
        feats, labels = [], []
        for t, fb in enumerate(fbs):
            if t > 0:
                a, y = np.stack(feats), np.array(labels)
                ref = ball_argmin(
                    lambda x, a=a, y=y: 0.5 * np.sum((a @ x - y) ** 2) + x @ x / 4,
                    3,
                    0.3,
                )
                np.testing.assert_allclose(actions[t], ref, atol=1e-6)
            feats.append(np.asarray(fb.loss_params.features))
            labels.append(float(fb.loss_params.label))
        assert np.linalg.norm(actions[-1]) > 0.299  # the ball constraint is active


@pytest.mark.slow
def test_ftrl_exact_on_logistic_losses_matches_scipy():
    """The fixed-iteration solver (60 projected gradient steps, warm-started) against
    SciPy on the cumulative logistic loss plus ||x||^2 / (2 eta)."""
    with jax.enable_x64(True):
        env = oco.logistic_pool(3, radius=1.0)
        dom = oco.Domain("ball", 3, 1.0)
        feats = np.asarray(env.params.features)
        smooth = float(np.max(np.sum(feats**2, axis=1))) / 4
        value = oco._logistic_value
        example = oco.PoolLoss(jnp.zeros(3), jnp.zeros(()), jnp.zeros((), jnp.int32))

        def value_fn(theta, x):
            return value(theta.features, theta.label, x)

        learner = ftrl_exact(
            dom, value_fn, example, 12, step_size=1.0, smoothness=smooth, inner_steps=60
        )
        actions, _, fbs = play(learner, env, 12)
        rows = []
        for t, fb in enumerate(fbs):
            if t > 0:
                a = np.stack([r[0] for r in rows])
                y = np.array([r[1] for r in rows])
                ref = ball_argmin(
                    lambda x, a=a, y=y: (
                        np.sum(np.logaddexp(0, -y * (a @ x))) + x @ x / 2
                    ),
                    3,
                    1.0,
                )
                np.testing.assert_allclose(actions[t], ref, atol=1e-5)
            rows.append(
                (np.asarray(fb.loss_params.features), float(fb.loss_params.label))
            )


# --------------------------------------------------------------------------------------
# optax wrappers for Hedge and ONS.
# --------------------------------------------------------------------------------------


def test_hedge_transform_equals_hedge():
    with jax.enable_x64(True):
        env = oco.experts(5, adversarial=True, first_phase=3)
        actions, _, fbs = play(hedge(5, rate="anytime"), env, 20)
        tx = hedge_transform()
        params = jnp.full(5, 0.2)
        state = tx.init(params)
        for t, fb in enumerate(fbs):
            np.testing.assert_allclose(actions[t], params, atol=1e-12)
            updates, state = tx.update(fb.grad, state, params)
            params = optax.apply_updates(params, updates)
            assert abs(float(jnp.sum(params)) - 1) < 1e-12 and np.all(params >= 0)
    with pytest.raises(ValueError, match="needs params"):
        hedge_transform().update(jnp.ones(2), hedge_transform().init(jnp.ones(2) / 2))


@pytest.mark.slow
def test_ons_transform_equals_ons():
    """On a ball small enough for the A-norm projection to act."""
    with jax.enable_x64(True):
        env = oco.online_regression(2, radius=0.3, noise=0.5)
        dom = oco.Domain("ball", 2, 0.3)
        actions, _, fbs = play(ons(dom, gamma=0.5, epsilon=0.3), env, 20)
        tx = ons_transform(0.5, 0.3, radius=0.3)
        params = {"w": jnp.zeros(2)}  # a pytree: flattened inside
        state = tx.init(params)
        for t, fb in enumerate(fbs):
            np.testing.assert_allclose(actions[t], params["w"], atol=1e-12)
            updates, state = tx.update({"w": fb.grad}, state, params)
            params = optax.apply_updates(params, updates)
        assert np.max(np.linalg.norm(actions, axis=1)) > 0.29


# --------------------------------------------------------------------------------------
# Sleeping experts.
# --------------------------------------------------------------------------------------


def _sleeping_regrets(actions, feedbacks, masks):
    losses = np.stack([np.asarray(fb.grad) for fb in feedbacks])
    own = np.sum(actions * losses, axis=1, keepdims=True)
    return np.cumsum(masks * (own - losses), axis=0)  # [T, N]


@pytest.mark.parametrize(
    "adversarial", [pytest.param(False, marks=pytest.mark.slow), True]
)
def test_sleeping_hedge_weights_and_per_expert_bound(adversarial):
    """p_t = softmax over the awake set of eta R_{t-1} (closed form from the sleeping
    regrets recomputed in NumPy); the env's cumulative regret is max_i R_{t,i}; and
    R_{T,i} <= ln N / eta + eta T / 8 for every expert on every run."""
    num, horizon = 6, 300
    with jax.enable_x64(True):
        env = oco_sleeping.sleeping_experts(num, adversarial=adversarial, first_phase=5)
        eta = np.sqrt(8 * np.log(num) / horizon)
        actions, infos, fbs, masks = play_obs(
            sleeping_hedge(num, horizon=horizon), env, horizon
        )
        regrets = _sleeping_regrets(actions, fbs, masks)
        prev = np.vstack([np.zeros(num), regrets[:-1]])
        for t in range(horizon):
            w = np.where(masks[t] > 0, np.exp(eta * (prev[t] - prev[t].max())), 0.0)
            np.testing.assert_allclose(actions[t], w / w.sum(), atol=1e-10)
        np.testing.assert_allclose(
            np.cumsum(infos.regret), np.max(regrets, axis=1), atol=1e-9
        )
        np.testing.assert_allclose(np.cumsum(infos.first_expert), regrets[:, 0])
        assert np.all(regrets[-1] <= np.log(num) / eta + eta * horizon / 8)
        assert masks.min(0).max() == 0 and np.all(masks.sum(1) >= 1)  # experts sleep


def test_sleeping_errors():
    env = oco_sleeping.sleeping_experts(3)
    state, mask = env.reset(jax.random.key(0), env.params)
    asleep = int(np.argmin(np.asarray(mask)))
    if mask[asleep] == 0:
        with pytest.raises(ValueError, match="sleeping experts"):
            env.step(jax.random.key(1), state, jax.nn.one_hot(asleep, 3), env.params)
    learner = sleeping_hedge(3, step_size=0.1)
    with pytest.raises(ValueError, match="awake mask"):
        learner.act(None, learner.init(None), ())
    with pytest.raises(ValueError, match="horizon"):
        sleeping_hedge(3)
    with pytest.raises(ValueError, match="p must be"):
        pnorm_omd(oco.Domain("ball", 3), step_size=0.1, p=1.5)
    with pytest.raises(ValueError, match="radius"):
        pnorm_omd(oco.Domain("ball", 3), step_size=0.1, radius=2.0)
    with pytest.raises(ValueError, match="step_size"):
        ftrl_quadratic(oco.Domain("ball", 3), step_size=-1.0)
    with pytest.raises(ValueError, match="ball"):
        ftrl_squared_loss(oco.Domain("box", 3))


# --------------------------------------------------------------------------------------
# Optimistic FTRL, strongly convex.
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_optimistic_ftrl_strongly_convex_reference_and_bound():
    """x_{t+1} = Pi(mean of x_s - (G_t + g_t)/(lambda t)) by hand; and the optimistic
    FTRL lemma on the lambda(t-1)-strongly convex surrogate sum:
    Regret_T <= ||g_1|| D + sum_{t>=2} ||g_t - g_{t-1}||^2 / (2 lambda (t - 1)),
    checked with a factor 2 of slack (constants derived here, not from the paper) at
    every t on 3 seeds; with no noise and no adversary the regret stays O(1)."""
    from algorithms.oco import optimistic_ftrl_strongly_convex

    with jax.enable_x64(True):
        dom = oco.Domain("ball", 2)
        env = oco.sea_model(2, loss="quadratic", sigma=0.6, adversarial=0.4, period=5)
        learner = optimistic_ftrl_strongly_convex(dom)
        for seed in range(3):
            actions, infos, fbs = play(learner, env, 120, seed=seed)
            g = np.stack([np.asarray(fb.grad) for fb in fbs])
            x, pts, cum = np.zeros(2), np.zeros(2), np.zeros(2)
            for t in range(1, 121):
                np.testing.assert_allclose(actions[t - 1], x, atol=1e-12)
                pts, cum = pts + x, cum + g[t - 1]
                y = pts / t - (cum + g[t - 1]) / t
                x = y * min(1.0, 1.0 / np.linalg.norm(y))
            diff = np.sum((g[1:] - g[:-1]) ** 2, axis=1) / np.arange(1, 120)
            bound = np.linalg.norm(g[0]) * 2 + np.concatenate([[0], np.cumsum(diff)])
            assert np.all(np.cumsum(infos.regret) <= 2 * bound)
        calm = oco.sea_model(2, loss="quadratic", sigma=0.0, adversarial=0.0)
        _, infos, _ = play(learner, calm, 150)
        regret = np.cumsum(infos.regret)
        assert regret[-1] <= 2.0 and abs(regret[-1] - regret[49]) < 1e-6


@pytest.mark.slow
def test_optimistic_ftal_matches_constrained_solve():
    """x_{t+1} = argmin_{||x|| <= R} sum_s l_s(x) + eps ||x||^2/2 + <g_t, x> with
    l_s(x) = <g_s, x> + beta/2 <g_s, x - x_s>^2, by SciPy, on online regression."""
    from algorithms.oco import optimistic_ftal

    with jax.enable_x64(True):
        env = oco.online_regression(2, radius=0.4, noise=0.5)
        dom = oco.Domain("ball", 2, 0.4)
        beta, eps = 0.5, 0.3
        actions, _, fbs = play(optimistic_ftal(dom, beta=beta, epsilon=eps), env, 8)
        grads, points = [], []
        for t, fb in enumerate(fbs):
            if t > 0:
                gs, xs = np.stack(grads), np.stack(points)

                def objective(x, gs=gs, xs=xs):
                    lin = np.sum(gs @ x)
                    quad = beta / 2 * np.sum((np.sum(gs * (x - xs), axis=1)) ** 2)
                    return lin + quad + eps / 2 * x @ x + gs[-1] @ x

                ref = ball_argmin(objective, 2, 0.4)
                np.testing.assert_allclose(actions[t], ref, atol=1e-6)
            grads.append(np.asarray(fb.grad))
            points.append(actions[t])
