"""Closed forms, slow NumPy references and error handling for envs/oco and
algorithms/oco (float64 where a closed form is compared)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import optimize

from algorithms.oco import (
    adagrad,
    adahedge,
    ftl,
    ftrl,
    hedge,
    kt_coin_betting,
    kt_experts,
    log_barrier_argmin,
    ogd,
    ons,
)
from algorithms.oco.optax_wrappers import adagrad_transform, kt_transform, ogd_transform
from envs import oco


def play(learner, env, num_rounds, seed=0, params=None):
    """A jitted Python loop (keys as in tests.helpers.rollout); returns actions [T, d],
    per-round info (stacked) and the feedback stream."""
    params = env.params if params is None else params
    key = jax.random.key(seed)
    state = learner.init(key)
    env_state, obs = env.reset(key, params)
    act, step, update = jax.jit(learner.act), jax.jit(env.step), jax.jit(learner.update)
    actions, infos, feedbacks = [], [], []
    for t in range(num_rounds):
        action, state = act(jax.random.fold_in(key, t), state, obs)
        env_state, obs, fb, info = step(
            jax.random.fold_in(key, 10_000 + t), env_state, action, params
        )
        state = update(state, (), action, fb)
        actions.append(np.asarray(action))
        infos.append(info)
        feedbacks.append(fb)
    infos = jax.tree.map(lambda *x: np.stack(x), *infos)
    return np.stack(actions), infos, feedbacks


# --------------------------------------------------------------------------------------
# Projections and the hindsight solvers.
# --------------------------------------------------------------------------------------


def simplex_projection_by_sort(v):
    """Held, Wolfe, Crowder (1974) / Duchi et al. (2008): sort, threshold."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    k = np.arange(1, len(v) + 1)
    rho = np.max(k[u - (css - 1) / k > 0])
    theta = (css[rho - 1] - 1) / rho
    return np.maximum(v - theta, 0)


def test_projections_match_their_definitions():
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        for _ in range(20):
            v = rng.normal(size=5) * 3
            np.testing.assert_allclose(
                oco.project(oco.Domain("simplex", 5), jnp.asarray(v)),
                simplex_projection_by_sort(v),
                atol=1e-12,
            )
            ball = oco.project(oco.Domain("ball", 5, 2.0), jnp.asarray(v))
            np.testing.assert_allclose(
                ball, v * min(1, 2 / np.linalg.norm(v)), atol=1e-12
            )
            box = oco.project(oco.Domain("box", 5, 0.5), jnp.asarray(v))
            np.testing.assert_allclose(box, np.clip(v, -0.5, 0.5), atol=1e-12)
        # The H-norm projection onto a ball against a constrained SciPy solve.
        m = rng.normal(size=(3, 3))
        h = m @ m.T + 0.1 * np.eye(3)
        y = np.array([2.0, -1.5, 1.0])
        w, q = np.linalg.eigh(h)
        got = np.asarray(
            oco.project_ball_in_norm(jnp.asarray(w), jnp.asarray(q), y, 1.0)
        )
        ref = optimize.minimize(
            lambda x: (x - y) @ h @ (x - y),
            np.zeros(3),
            constraints=[{"type": "ineq", "fun": lambda x: 1 - x @ x}],
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 500},
        ).x
        np.testing.assert_allclose(got, ref, atol=1e-5)


def _hindsight_reference(env, feedbacks, objective, x0, constraint):
    return optimize.minimize(
        objective,
        x0,
        constraints=[constraint],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    ).fun


@pytest.mark.parametrize(
    "name",
    [
        "quadratic",
        pytest.param("regression", marks=pytest.mark.slow),
        pytest.param("logistic", marks=pytest.mark.slow),
        "portfolio",
    ],
)
def test_hindsight_minimum_matches_scipy(name):
    """The telescoped regret's comparator min_x F_T(x) against a SciPy solve over the
    stored losses (and a quadratic in closed form: the projected mean centre)."""
    with jax.enable_x64(True):
        env = {
            "quadratic": lambda: oco.iid_quadratic(2, mean=[0.9, 0.6], noise=0.3),
            "regression": lambda: oco.online_regression(3, radius=0.5),
            "logistic": lambda: oco.logistic_pool(3, radius=1.0),
            "portfolio": lambda: oco.portfolio_pool(3),
        }[name]()
        dim = env.reset(None, env.params)[0].best_point.shape[0]
        domain = oco.Domain("simplex" if name == "portfolio" else "ball", dim)
        x0 = np.asarray(oco.center(domain))
        _, infos, fbs = play(
            ftl(domain) if name == "portfolio" else ogd(domain), env, 60
        )
        thetas = [jax.tree.map(np.asarray, fb.loss_params) for fb in fbs]
        radius = {"regression": 0.5, "logistic": 1.0}.get(name, 1.0)
        if name == "quadratic":
            fun = lambda x: sum(0.5 * np.sum((x - th.center) ** 2) for th in thetas)  # noqa: E731
        elif name == "regression":
            fun = lambda x: sum(
                0.5 * (th.features @ x - th.label) ** 2 for th in thetas
            )  # noqa: E731
        elif name == "logistic":
            fun = lambda x: sum(
                np.logaddexp(0, -th.label * th.features @ x) for th in thetas
            )  # noqa: E731
        else:
            fun = lambda x: -sum(np.log(th.features @ x) for th in thetas)  # noqa: E731
        if name == "portfolio":
            cons = {"type": "eq", "fun": lambda x: np.sum(x) - 1}
            ref = optimize.minimize(
                fun,
                x0,
                bounds=[(1e-12, 1)] * dim,
                constraints=[cons],
                method="SLSQP",
                options={"ftol": 1e-14, "maxiter": 1000},
            ).fun
        else:
            cons = {"type": "ineq", "fun": lambda x: radius**2 - x @ x}
            ref = _hindsight_reference(env, fbs, fun, x0, cons)
        # cumulative regret = sum of losses - min F_T.
        total_loss = float(np.sum(infos.loss))
        got_min = total_loss - float(np.sum(infos.regret))
        assert got_min >= ref - 1e-6  # a feasible value can't beat the optimum
        # Solver gap after 60 warm-started rounds (3 iterations each): tiny.
        np.testing.assert_allclose(got_min, ref, rtol=1e-5, atol=1e-5)
        if name == "quadratic":
            centres = np.stack([th.center for th in thetas])
            mean = centres.mean(0)
            x_star = mean * min(1, 1 / np.linalg.norm(mean))
            closed = 0.5 * np.sum((centres - x_star) ** 2)
            np.testing.assert_allclose(got_min, closed, rtol=1e-10)


# --------------------------------------------------------------------------------------
# Exact sequences and closed forms.
# --------------------------------------------------------------------------------------


def test_ftl_linear_regret_on_alternating_sequence():
    """Orabona (2019) Section 7.2: FTL pays 1 on every round after the first, and the
    best fixed point pays -1/2: Regret_T = T - 1 + 1/2."""
    with jax.enable_x64(True):
        env = oco.alternating_linear(1)
        domain = oco.Domain("box", 1)
        for num_rounds in (7, 20):
            _, infos, _ = play(ftl(domain), env, num_rounds)
            assert np.sum(infos.regret) == pytest.approx(
                num_rounds - 1 + 0.5, abs=1e-12
            )
        # OGD (D/(G sqrt t) steps) is sublinear here (Hazan Thm 3.1).
        _, infos, _ = play(ogd(domain), env, 200)
        assert np.sum(infos.regret) <= 1.5 * 2 * np.sqrt(200)


def test_ogd_exact_iterates_on_1d_quadratic():
    """x_{t+1} = clip(x_t - eta_t (x_t - c_t)) with eta_t = 1/(lambda t), by hand."""
    with jax.enable_x64(True):
        env = oco.iid_quadratic(1, mean=[0.4], noise=0.7, domain_kind="box")
        domain = oco.Domain("box", 1)
        actions, infos, fbs = play(ogd(domain, schedule="strongly_convex"), env, 15)
        x, ref = 0.0, []
        for t, fb in enumerate(fbs, start=1):
            ref.append(x)
            c = float(fb.loss_params.center[0])
            x = float(np.clip(x - (x - c) / t, -1, 1))
        np.testing.assert_allclose(actions[:, 0], ref, atol=1e-12)
        # With 1/t steps and an interior running mean, x_{t+1} is that mean.
        centres = np.array([float(fb.loss_params.center[0]) for fb in fbs])
        inside = np.all(np.abs(np.cumsum(centres) / np.arange(1, 16)) < 1)
        if inside:
            np.testing.assert_allclose(x, centres.mean(), atol=1e-12)


def test_hedge_weights_are_softmax_of_cumulative_losses():
    with jax.enable_x64(True):
        env = oco.experts(5, adversarial=False)
        actions, _, fbs = play(hedge(5, rate="anytime"), env, 12)
        cum = np.zeros(5)
        for t in range(1, 12):
            cum += np.asarray(fbs[t - 1].grad)
            eta = np.sqrt(8 * np.log(5) / t)
            w = np.exp(-eta * (cum - cum.min()))
            np.testing.assert_allclose(actions[t], w / w.sum(), atol=1e-12)


def test_adahedge_matches_numpy_reference():
    """de Rooij et al. (2014), Algorithm 1, as a plain loop."""
    with jax.enable_x64(True):
        env = oco.experts(4, adversarial=True, first_phase=3, growth=1.5)
        actions, _, fbs = play(adahedge(4), env, 30)
        cum, gap = np.zeros(4), 0.0
        for t, fb in enumerate(fbs):
            loss = np.asarray(fb.grad)
            if gap == 0:
                lead = cum == cum.min()
                p = lead / lead.sum()
                m = loss[lead].min()
            else:
                eta = np.log(4) / gap
                w = np.exp(-eta * (cum - cum.min()))
                p = w / w.sum()
                m = -np.log(p @ np.exp(-eta * loss)) / eta
            np.testing.assert_allclose(actions[t], p, atol=1e-10)
            gap += max(p @ loss - m, 0.0)
            cum += loss


def test_ons_matches_numpy_reference():
    """Hazan (2016) Algorithm 12 with the A_t-norm projection by SciPy."""
    with jax.enable_x64(True):
        env = oco.online_regression(2, radius=0.5, noise=0.5)
        domain = oco.Domain("ball", 2, 0.5)
        gamma, eps = 0.5, 0.3
        actions, _, fbs = play(ons(domain, gamma=gamma, epsilon=eps), env, 8)
        x, a_mat = np.zeros(2), eps * np.eye(2)
        for t, fb in enumerate(fbs):
            np.testing.assert_allclose(actions[t], x, atol=2e-6)
            g = np.asarray(fb.grad)
            a_mat = a_mat + np.outer(g, g)
            y = x - np.linalg.solve(a_mat, g) / gamma
            if np.linalg.norm(y) <= 0.5:
                x = y
            else:
                x = optimize.minimize(
                    lambda z, y=y, a=a_mat: (z - y) @ a @ (z - y),
                    np.zeros(2),
                    constraints=[{"type": "ineq", "fun": lambda z: 0.25 - z @ z}],
                    method="SLSQP",
                    options={"ftol": 1e-15, "maxiter": 500},
                ).x


def test_log_barrier_ftrl_matches_constrained_solve():
    with jax.enable_x64(True):
        rng = np.random.default_rng(1)
        for _ in range(5):
            cum, eta = rng.uniform(0, 5, size=4), rng.uniform(0.1, 3)
            got = np.asarray(log_barrier_argmin(jnp.asarray(cum), eta))
            ref = optimize.minimize(
                lambda x, cum=cum, eta=eta: cum @ x - np.sum(np.log(x)) / eta,
                np.full(4, 0.25),
                bounds=[(1e-9, 1)] * 4,
                constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
                method="SLSQP",
                options={"ftol": 1e-15, "maxiter": 500},
            ).x
            np.testing.assert_allclose(got, ref, atol=1e-6)
        # The learner follows the same map of its cumulative gradients.
        env = oco.experts(3, adversarial=True)
        actions, _, fbs = play(
            ftrl(oco.Domain("simplex", 3), regularizer="log_barrier", step_size=0.7),
            env,
            6,
        )
        cum = np.zeros(3)
        for t, fb in enumerate(fbs):
            ref = np.asarray(log_barrier_argmin(jnp.asarray(cum), 0.7))
            np.testing.assert_allclose(actions[t], ref, atol=1e-12)
            x = 1 / (0.7 * (cum + (1 / (0.7 * ref[0]) - cum[0])))
            np.testing.assert_allclose(x, ref, atol=1e-9)  # x_i = 1/(eta (G_i + mu))
            cum += np.asarray(fb.grad)


# --------------------------------------------------------------------------------------
# optax wrappers equal the plain learners.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ogd", "adagrad", "kt"])
def test_optax_wrappers_equal_plain_learners(name):
    with jax.enable_x64(True):
        big = oco.Domain("box" if name == "adagrad" else "ball", 2, 1e6)
        env = oco.sea_model(2, sigma=0.5, adversarial=0.3, radius=1e6)
        if name == "adagrad":
            env = env._replace()  # a box learner plays inside the ball env: same points
        learner, tx = {
            "ogd": (ogd(big, schedule="sqrt", step_size=0.3), ogd_transform(0.3)),
            "adagrad": (
                adagrad(big, step_size=0.3, delta=0.01),
                adagrad_transform(0.3, 0.01),
            ),
            "kt": (kt_coin_betting(2), kt_transform()),
        }[name]
        actions, _, fbs = play(learner, env, 25)
        params = jnp.zeros(2)
        opt_state = tx.init(params)
        for t, fb in enumerate(fbs):
            np.testing.assert_allclose(actions[t], params, atol=1e-10)
            updates, opt_state = tx.update(fb.grad, opt_state, params)
            params = optax.apply_updates(params, updates)


# --------------------------------------------------------------------------------------
# Statistical / worst-case regret bounds.
# --------------------------------------------------------------------------------------


def test_hedge_and_adahedge_meet_their_bounds_on_adversarial_experts():
    """Deterministic sequence: the bounds hold on every run. Anytime Hedge:
    2 sqrt(T ln N / 2) + sqrt(ln N / 8) (Cesa-Bianchi and Lugosi, Theorem 2.3);
    AdaHedge: 2 sqrt(T ln N / 4) + 16/3 ln N + 2 (L* (T - L*)/T <= T/4)."""
    num, horizon = 6, 400
    env = oco.experts(num, adversarial=True)
    for learner, bound in (
        (hedge(num), 2 * np.sqrt(horizon * np.log(num) / 2) + np.sqrt(np.log(num) / 8)),
        (
            adahedge(num),
            2 * np.sqrt(horizon * np.log(num) / 4) + 16 / 3 * np.log(num) + 2,
        ),
    ):
        _, infos, _ = play(learner, env, horizon)
        regret = np.cumsum(infos.regret)
        assert np.all(regret <= bound + 1e-3)
        assert regret[-1] > 0  # the sequence is hard: not a vacuous check


def test_kt_regret_against_comparators():
    """KT: Regret_T(u) <= eps + |u| sqrt(T ln(1 + 24 T^2 u^2 / eps^2)) for all u, on
    +-1 coins with a bias (1-D)."""
    with jax.enable_x64(True):
        env = oco.sea_model(1, sigma=0.0, adversarial=0.6, mean=[-0.3], radius=1e6)
        horizon = 300
        actions, infos, fbs = play(kt_coin_betting(1), env, horizon)
        g = np.array([float(fb.grad[0]) for fb in fbs])
        assert np.max(np.abs(g)) <= 1
        for u in (0.5, 5.0, 50.0):
            regret = np.sum(g * actions[:, 0]) - u * np.sum(g)
            bound = 1 + u * np.sqrt(horizon * np.log(1 + 24 * horizon**2 * u**2))
            assert regret <= bound
        # the bet moves toward +infinity (the mean gradient is -0.3): wealth grows.
        assert actions[-1, 0] > 10


# --------------------------------------------------------------------------------------
# Errors.
# --------------------------------------------------------------------------------------


def test_errors():
    dom = oco.Domain("ball", 2)
    env = oco.sea_model(2)
    state, _ = env.reset(None, env.params)
    with pytest.raises(ValueError, match="must lie in the ball"):
        env.step(jax.random.key(0), state, jnp.array([3.0, 0.0]), env.params)
    with pytest.raises(ValueError, match="must lie in the ball"):
        env.step(jax.random.key(0), state, jnp.array([jnp.nan, 0.0]), env.params)
    with pytest.raises(ValueError, match="step_size"):
        ogd(dom, schedule="constant", step_size=-0.1)
    with pytest.raises(ValueError, match="step_size"):
        hedge(3, rate="fixed", step_size=-1.0)
    with pytest.raises(ValueError, match="step_size"):
        ftrl(dom, step_size=0.0)
    learner = ogd(dom)
    s = learner.init(None)
    bad = oco.OCOFeedback(jnp.zeros(()), jnp.array([jnp.inf, 0.0]), None)
    with pytest.raises(ValueError, match="non-finite gradient"):
        learner.update(s, (), s.x, bad)
    with pytest.raises(ValueError, match="domain kind"):
        oco.make_domain("sphere", 2)
    with pytest.raises(ValueError, match="simplex"):
        ftrl(dom, regularizer="entropy")
    with pytest.raises(ValueError, match="ball"):
        ons(oco.Domain("simplex", 3))


def test_kt_experts_matches_numpy_reference():
    """Orabona and Pál (2016), coin-betting experts with the KT bettor, as a loop."""
    with jax.enable_x64(True):
        env = oco.experts(4, adversarial=True, first_phase=3, growth=1.5)
        actions, _, fbs = play(kt_experts(4), env, 30)
        coin_sum, wealth, bets = np.zeros(4), np.ones(4), np.zeros(4)
        p = np.full(4, 0.25)
        for t, fb in enumerate(fbs, start=1):
            np.testing.assert_allclose(actions[t - 1], p, atol=1e-10)
            loss = np.asarray(fb.grad)
            edge = p @ loss - loss
            coin = np.where(bets > 0, edge, np.maximum(edge, 0))
            wealth = wealth + coin * bets
            coin_sum = coin_sum + coin
            bets = coin_sum / (t + 1) * wealth
            pos = np.maximum(bets, 0)
            p = pos / pos.sum() if pos.sum() > 0 else np.full(4, 0.25)


def test_absolute_loss_hindsight_is_the_median_value():
    """min_x sum_t |x - z_t| (a weighted median) against a brute-force grid."""
    with jax.enable_x64(True):
        env = oco.absolute_loss_1d(target=3.0, spread=1.0, radius=100.0)
        _, infos, fbs = play(ogd(oco.Domain("box", 1, 100.0)), env, 41)
        z = np.array([float(fb.loss_params.features[0]) for fb in fbs])
        grid = np.linspace(0, 6, 6001)
        brute = np.min(np.abs(grid[:, None] - z[None]).sum(1))
        got = float(np.sum(infos.loss) - np.sum(infos.regret))
        np.testing.assert_allclose(got, brute, atol=1e-9)


def test_ader_matches_numpy_reference():
    """Zhang, Lu, Zhou (2018): pool eta_i = 2^{i-1} sqrt(7 D^2 / (2 G^2 T)), prior
    (1 + 1/N) / (i (i + 1)), meta Hedge on <g_t, x_{t,i}>, experts OGD on g_t."""
    from algorithms.oco import ader, ader_step_sizes

    with jax.enable_x64(True):
        dom, horizon = oco.Domain("ball", 2), 50
        etas = ader_step_sizes(dom, horizon)
        num = int(np.ceil(np.log2(np.sqrt(1 + 4 * horizon / 7)))) + 1
        np.testing.assert_allclose(
            etas, 2.0 ** np.arange(num) * np.sqrt(7 * 4 / (2 * horizon))
        )
        env = oco.drifting_quadratic(2, path_length=5.0, num_rounds=horizon)
        actions, _, fbs = play(ader(dom, horizon), env, 12)
        i = np.arange(1, num + 1)
        w = (1 + 1 / num) / (i * (i + 1))
        w = w / w.sum()
        experts = np.zeros((num, 2))
        alpha = np.sqrt(8 / horizon) / 2.0
        for t, fb in enumerate(fbs):
            np.testing.assert_allclose(actions[t], w @ experts, atol=1e-10)
            g = np.asarray(fb.grad)
            w = w * np.exp(-alpha * experts @ g)
            w = w / w.sum()
            experts = experts - etas[:, None] * g
            norms = np.linalg.norm(experts, axis=1, keepdims=True)
            experts = experts * np.minimum(1, 1 / np.maximum(norms, 1e-300))


@pytest.mark.parametrize("name", ["optimistic_omd", "optimistic_ftrl"])
def test_optimistic_methods_have_constant_regret_on_a_constant_loss(name):
    """sigma = Sigma = 0: the hint is exact after round 1, so the regret is O(1)
    (Chen et al. 2023, Theorem 1: O(D sqrt(delta + ||g_1||^2))); OGD's is too here,
    the check is that the optimistic regret does not grow from T = 50 to 150."""
    from algorithms.oco import optimistic_ftrl, optimistic_omd

    with jax.enable_x64(True):
        env = oco.sea_model(2, sigma=0.0, adversarial=0.0, mean=[0.6, -0.3])
        dom = oco.Domain("ball", 2)
        learner = (
            optimistic_omd(dom) if name == "optimistic_omd" else optimistic_ftrl(dom)
        )
        _, infos, _ = play(learner, env, 150)
        regret = np.cumsum(infos.regret)
        assert regret[-1] <= 2 * 2 * 1.0  # D * G * 2
        assert abs(regret[-1] - regret[49]) < 1e-6
