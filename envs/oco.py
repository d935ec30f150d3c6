"""Online convex optimisation: feasible sets, loss streams and their exact regret.

One round is one step: the learner plays a point ``x_t`` of a feasible set (a
distribution for experts), the environment reveals the loss ``f_t`` through
:class:`OCOFeedback` (its value and gradient at ``x_t``, and its parameters ``theta_t``
for learners that use the whole function), and reports :class:`OCOInfo`.

**Static regret, telescoped.** The state carries sufficient statistics of the
cumulative loss ``F_t = sum_{s <= t} f_s`` (a running sum of linear losses, a weighted
Welford mean and spread of quadratic centres, the second moments of regression data,
or counts over a finite pool of logistic / portfolio losses) and the value
``m_t = min_{x in K} F_t(x)``. Round ``t`` reports

.. math::

    r_t = f_t(x_t) - (m_t - m_{t-1}), \\qquad m_0 = 0,

so the runner's cumulative ``regret`` equals ``sum_{s<=t} f_s(x_s) - min_x F_t(x)``, the
regret against the best fixed point in hindsight for the horizon it is read at. ``m_t``
is in closed form for linear losses (a vertex / boundary point), quadratic losses (the
projection of the weighted mean centre; the Hessian is a multiple of the identity, so
the Euclidean projection is exact) and squared-loss regression over a ball (the
trust-region subproblem, by eigen-decomposition and a fixed-iteration bisection on the
multiplier). For logistic and log-loss (portfolio) streams it is computed by a
convergent fixed-iteration solver warm-started from the previous minimiser (projected
Newton / gradient steps, keeping the best candidate);
because the sum telescopes, the cumulative regret at ``t`` is off only by the current
solver gap, never by an accumulation of gaps (tests cross-check against SciPy).

**Dynamic regret.** ``dynamic_regret = f_t(x_t) - min_{x in K} f_t(x)``, regret
against the per-round minimisers (for the drifting stream of path length ``P_T``).

Streams are oblivious: ``theta_t`` is a pure function of the instance ``params``, the
round index and the step key, so every learner sees the same losses on the same seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from envs.adversarial_bandits import PhasedLossParams, phase_index
from envs.core import (
    Env,
    KahanSum,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
    is_concrete,
    kahan_add,
)

Array = jax.Array

# --------------------------------------------------------------------------------------
# Feasible sets.
# --------------------------------------------------------------------------------------

DOMAIN_KINDS = ("simplex", "ball", "box")


class Domain(NamedTuple):
    """A feasible set (static: it fixes the learner's geometry).

    ``simplex``: the probability simplex in R^dim; ``ball``: the Euclidean ball of
    ``radius``; ``box``: the cube ``[-radius, radius]^dim``.
    """

    kind: str
    dim: int
    radius: float = 1.0


def make_domain(kind: str, dim: int, radius: float = 1.0) -> Domain:
    """A validated :class:`Domain`."""
    if kind not in DOMAIN_KINDS:
        raise ValueError(f"domain kind must be one of {DOMAIN_KINDS}, got {kind!r}")
    dim = check_int(dim, "dim")
    radius = float(radius)
    if not radius > 0 or not np.isfinite(radius):
        raise ValueError(f"radius must be a finite number > 0, got {radius}")
    return Domain(kind, dim, radius)


def diameter(domain: Domain) -> float:
    """The Euclidean diameter ``D = max_{x, y in K} ||x - y||``."""
    if domain.kind == "simplex":
        return float(np.sqrt(2.0)) if domain.dim > 1 else 0.0
    if domain.kind == "ball":
        return 2.0 * domain.radius
    return 2.0 * domain.radius * float(np.sqrt(domain.dim))


def center(domain: Domain) -> Array:
    """A canonical interior starting point (uniform distribution / the origin)."""
    if domain.kind == "simplex":
        return jnp.full((domain.dim,), 1.0 / domain.dim, float_dtype())
    return jnp.zeros((domain.dim,), float_dtype())


def project(domain: Domain, x: Array) -> Array:
    """The Euclidean projection onto the domain (``optax.projections``)."""
    if domain.kind == "simplex":
        return optax.projections.projection_simplex(x)
    if domain.kind == "ball":
        return optax.projections.projection_l2_ball(x, domain.radius)
    return optax.projections.projection_box(x, -domain.radius, domain.radius)


def contains(domain: Domain, x, atol: float = 1e-5) -> bool:
    """Whether a concrete point lies in the domain (up to ``atol``)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (domain.dim,) or not np.all(np.isfinite(x)):
        return False
    if domain.kind == "simplex":
        return bool(np.all(x >= -atol) and abs(x.sum() - 1.0) <= atol * domain.dim)
    if domain.kind == "ball":
        return bool(np.linalg.norm(x) <= domain.radius * (1 + atol) + atol)
    return bool(np.all(np.abs(x) <= domain.radius * (1 + atol) + atol))


def check_in_domain(domain: Domain, x, name: str = "action") -> None:
    """ValueError when a concrete ``x`` is outside the domain (traced: no check)."""
    if is_concrete(x) and not contains(domain, x):
        raise ValueError(
            f"{name} must lie in the {domain.kind} domain (dim {domain.dim}, radius "
            f"{domain.radius}), got {np.asarray(x)!r}"
        )


def linear_minimiser(domain: Domain, g: Array) -> Array:
    """``argmin_{x in K} <g, x>``: a vertex of the simplex (lowest index on ties),
    ``-R g / ||g||`` on the ball (the origin when ``g = 0``), ``-R sign(g)`` on the box.
    """
    if domain.kind == "simplex":
        return jax.nn.one_hot(jnp.argmin(g), domain.dim, dtype=g.dtype)
    if domain.kind == "ball":
        norm = jnp.linalg.norm(g)
        return jnp.where(norm > 0, -domain.radius * g / jnp.where(norm > 0, norm, 1), 0)
    return -domain.radius * jnp.sign(g)


def linear_min_value(domain: Domain, g: Array) -> Array:
    """``min_{x in K} <g, x>`` in closed form."""
    if domain.kind == "simplex":
        return jnp.min(g)
    if domain.kind == "ball":
        return -domain.radius * jnp.linalg.norm(g)
    return -domain.radius * jnp.sum(jnp.abs(g))


def project_ball_in_norm(
    eigvals: Array, eigvecs: Array, x: Array, radius: float, iters: int = 60
) -> Array:
    """``argmin_{||y|| <= R} (y - x)^T H (y - x)`` for ``H = Q diag(w) Q^T`` > 0.

    KKT: ``y(mu) = (H + mu I)^{-1} H x`` with ``mu >= 0`` the smallest value making
    ``||y(mu)|| <= R``; ``||y(mu)||`` decreases in ``mu``, so a fixed-iteration
    bisection on ``[0, max(w) ||x|| / R]`` finds it (at the upper end
    ``||y|| <= max(w) ||x|| / (min(w) + mu) <= R``). The returned point is feasible.
    """
    z = eigvecs.T @ x

    def norm_at(mu):
        return jnp.linalg.norm(eigvals * z / (eigvals + mu))

    inside = jnp.linalg.norm(x) <= radius
    hi = jnp.max(eigvals) * jnp.linalg.norm(x) / radius + 1e-12

    def body(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        big = norm_at(mid) > radius
        return jnp.where(big, mid, lo), jnp.where(big, hi, mid)

    _, mu = jax.lax.fori_loop(0, iters, body, (jnp.zeros_like(hi), hi))
    y = eigvecs @ (eigvals * z / (eigvals + mu))
    y = optax.projections.projection_l2_ball(y, radius)  # remove bisection round-off
    return jnp.where(inside, x, y)


# --------------------------------------------------------------------------------------
# Loss families: value, gradient, sufficient statistics and the hindsight minimum.
# --------------------------------------------------------------------------------------


class LinearLoss(NamedTuple):
    """``f(x) = <g, x>``."""

    vector: Array  # [d]


class QuadraticLoss(NamedTuple):
    """``f(x) = (lambda / 2) ||x - c||^2`` (lambda-strongly convex)."""

    center: Array  # [d]
    curvature: Array  # [] lambda > 0


class RegressionLoss(NamedTuple):
    """``f(x) = (1/2) (<a, x> - b)^2`` (squared loss of online linear regression)."""

    features: Array  # [d]
    label: Array  # []


class PoolLoss(NamedTuple):
    """One loss of a finite pool: logistic ``log(1 + exp(-b <a, x>))`` or log-loss
    ``-log <a, x>`` (portfolio, ``a`` the price relatives)."""

    features: Array  # [d]
    label: Array  # [] (+-1 for logistic; unused for the portfolio)
    index: Array  # [] int32 position in the pool


class LossFamily(NamedTuple):
    """Functions of one loss family (static)."""

    name: str
    value: Callable[[Any, Array], Array]
    grad: Callable[[Any, Array], Array]
    stats_init: Callable[[Any, Domain], Any]
    stats_add: Callable[[Any, Any], Any]
    # (stats, previous argmin, params, domain) -> (min value, argmin)
    hindsight: Callable[[Any, Array, Any, Domain], tuple[Array, Array]]
    round_min: Callable[[Any, Domain], Array]  # min_x f_t(x) over the domain


def _zeros_kahan(shape):
    z = jnp.zeros(shape, float_dtype())
    return KahanSum(z, z)


def _linear_family() -> LossFamily:
    def value(theta, x):
        return jnp.dot(theta.vector, x)

    def grad(theta, x):
        return theta.vector

    def stats_init(params, domain):
        return _zeros_kahan((domain.dim,))

    def stats_add(stats, theta):
        return kahan_add(stats, theta.vector)

    def hindsight(stats, warm, params, domain):
        g = stats.value
        return linear_min_value(domain, g), linear_minimiser(domain, g)

    def round_min(theta, domain):
        return linear_min_value(domain, theta.vector)

    return LossFamily(
        "linear", value, grad, stats_init, stats_add, hindsight, round_min
    )


class WelfordStats(NamedTuple):
    """Weighted Welford statistics: ``F(x) = (W ||x - m||^2 + M2) / 2``."""

    weight: Array  # [] W = sum lambda_s
    mean: Array  # [d] weighted mean of the centres
    spread: KahanSum  # [] M2 = sum lambda_s ||c_s - m||^2


def _quadratic_family() -> LossFamily:
    def value(theta, x):
        return 0.5 * theta.curvature * jnp.sum((x - theta.center) ** 2)

    def grad(theta, x):
        return theta.curvature * (x - theta.center)

    def stats_init(params, domain):
        z = jnp.zeros((), float_dtype())
        return WelfordStats(z, jnp.zeros((domain.dim,), float_dtype()), KahanSum(z, z))

    def stats_add(stats, theta):
        # West (1979) weighted update: mean += (w / W) delta; M2 += w delta.(c - mean').
        w = theta.curvature
        weight = stats.weight + w
        delta = theta.center - stats.mean
        mean = stats.mean + (w / weight) * delta
        spread = kahan_add(stats.spread, w * jnp.dot(delta, theta.center - mean))
        return WelfordStats(weight, mean, spread)

    def hindsight(stats, warm, params, domain):
        x = project(domain, stats.mean)
        gap = jnp.sum((x - stats.mean) ** 2)
        return 0.5 * (stats.weight * gap + stats.spread.value), x

    def round_min(theta, domain):
        x = project(domain, theta.center)
        return 0.5 * theta.curvature * jnp.sum((x - theta.center) ** 2)

    return LossFamily(
        "quadratic", value, grad, stats_init, stats_add, hindsight, round_min
    )


class RegressionStats(NamedTuple):
    """``F(x) = x^T A x / 2 - <b, x> + s / 2``."""

    second_moment: KahanSum  # [d, d] A = sum a a^T
    cross: KahanSum  # [d] b = sum y a
    label_square: KahanSum  # [] s = sum y^2


def trust_region_min(a_mat, b_vec, radius, iters: int = 80):
    """``argmin_{||x|| <= R} x^T A x / 2 - <b, x>`` for ``A >= 0`` (the 'easy case').

    ``x(mu) = (A + mu I)^{-1} b``; ``mu = 0`` when that is feasible (pseudo-inverse on a
    singular ``A``), else the bisection root of ``||x(mu)|| = R`` on
    ``[0, ||b|| / R]`` (at the upper end ``||x|| <= ||b|| / mu = R``).
    """
    w, q = jnp.linalg.eigh(a_mat)
    w = jnp.maximum(w, 0.0)
    z = q.T @ b_vec
    tiny = 1e-10 * (1.0 + jnp.max(w))
    free = jnp.where(w > tiny, z / jnp.where(w > tiny, w, 1.0), 0.0)
    free_ok = jnp.linalg.norm(free) <= radius
    hi = jnp.linalg.norm(b_vec) / radius + 1e-12

    def body(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        big = jnp.linalg.norm(z / (w + mid)) > radius
        return jnp.where(big, mid, lo), jnp.where(big, hi, mid)

    _, mu = jax.lax.fori_loop(0, iters, body, (jnp.zeros_like(hi), hi))
    x = jnp.where(free_ok, free, z / (w + mu))
    x = optax.projections.projection_l2_ball(q @ x, radius)
    return x


def _regression_family() -> LossFamily:
    def value(theta, x):
        return 0.5 * (jnp.dot(theta.features, x) - theta.label) ** 2

    def grad(theta, x):
        return (jnp.dot(theta.features, x) - theta.label) * theta.features

    def stats_init(params, domain):
        d = domain.dim
        return RegressionStats(
            _zeros_kahan((d, d)), _zeros_kahan((d,)), _zeros_kahan(())
        )

    def stats_add(stats, theta):
        a, y = theta.features, theta.label
        return RegressionStats(
            kahan_add(stats.second_moment, jnp.outer(a, a)),
            kahan_add(stats.cross, y * a),
            kahan_add(stats.label_square, y * y),
        )

    def hindsight(stats, warm, params, domain):
        if domain.kind != "ball":
            raise ValueError("regression losses are defined on a ball domain")
        a_mat, b_vec = stats.second_moment.value, stats.cross.value
        x = trust_region_min(a_mat, b_vec, domain.radius)
        val = 0.5 * x @ a_mat @ x - b_vec @ x + 0.5 * stats.label_square.value
        return val, x

    def round_min(theta, domain):
        a, y = theta.features, theta.label
        # min over the ball of (<a,x> - y)^2 / 2: <a,x> ranges over [-R|a|, R|a|].
        reach = domain.radius * jnp.linalg.norm(a)
        return 0.5 * jnp.maximum(jnp.abs(y) - reach, 0.0) ** 2

    return LossFamily(
        "regression", value, grad, stats_init, stats_add, hindsight, round_min
    )


class PoolParams(NamedTuple):
    """A finite pool of logistic examples / portfolio price relatives."""

    features: Array  # [K, d]
    labels: Array  # [K] +-1 (logistic) or ones (portfolio)
    probs: Array  # [K] the i.i.d. sampling distribution over the pool


def _logistic_value(a, b, x):
    return jnp.logaddexp(0.0, -b * jnp.dot(a, x))


def _logistic_family(solver_iters: int) -> LossFamily:
    def value(theta, x):
        return _logistic_value(theta.features, theta.label, x)

    def grad(theta, x):
        margin = theta.label * jnp.dot(theta.features, x)
        return -theta.label * jax.nn.sigmoid(-margin) * theta.features

    def stats_init(params, domain):
        return _zeros_kahan(params.features.shape[:1])

    def stats_add(stats, theta):
        k = stats.total.shape[0]
        return kahan_add(stats, jax.nn.one_hot(theta.index, k, dtype=stats.total.dtype))

    def total(counts, params, x):
        return jnp.dot(
            counts,
            jax.vmap(_logistic_value, (0, 0, None))(params.features, params.labels, x),
        )

    def hindsight(stats, warm, params, domain):
        if domain.kind != "ball":
            raise ValueError("logistic losses are defined on a ball domain")
        counts = stats.value
        a = params.features
        lip = 0.25 * jnp.sum(counts * jnp.sum(a * a, axis=1)) + 1e-12

        def newton_step(_, x):
            m = params.labels * (a @ x)
            s = jax.nn.sigmoid(-m)
            g = -(counts * params.labels * s) @ a
            h = (a * (counts * s * (1 - s))[:, None]).T @ a + 1e-9 * lip * jnp.eye(
                a.shape[1]
            )
            newton = project(domain, x - jnp.linalg.solve(h, g))
            gradient = project(domain, x - g / lip)
            fn, fg, fx = (total(counts, params, y) for y in (newton, gradient, x))
            best = jnp.where(fn <= fg, newton, gradient)
            return jnp.where(jnp.minimum(fn, fg) <= fx, best, x)

        x = jax.lax.fori_loop(0, solver_iters, newton_step, warm)
        return total(counts, params, x), x

    def round_min(theta, domain):
        reach = domain.radius * jnp.linalg.norm(theta.features)
        return jnp.logaddexp(0.0, -reach)

    return LossFamily(
        "logistic", value, grad, stats_init, stats_add, hindsight, round_min
    )


def _portfolio_family(solver_iters: int) -> LossFamily:
    def value(theta, x):
        return -jnp.log(jnp.dot(theta.features, x))

    def grad(theta, x):
        return -theta.features / jnp.dot(theta.features, x)

    def stats_init(params, domain):
        return _zeros_kahan(params.features.shape[:1])

    def stats_add(stats, theta):
        k = stats.total.shape[0]
        return kahan_add(stats, jax.nn.one_hot(theta.index, k, dtype=stats.total.dtype))

    def hindsight(stats, warm, params, domain):
        if domain.kind != "simplex":
            raise ValueError("portfolio losses are defined on the simplex")
        counts = stats.value
        r = params.features

        def objective(x):
            return -jnp.dot(counts, jnp.log(jnp.maximum(r @ x, 1e-300)))

        def newton_step(_, x):
            # Damped projected Newton and normalised projected gradient candidates
            # (a coarse line search); keep the best of them and x (monotone).
            rx = r @ x
            g = -(counts / rx) @ r
            h = (r * (counts / rx**2)[:, None]).T @ r
            scale = jnp.trace(h) + 1e-30
            h = h + 1e-9 * scale * jnp.eye(x.shape[0])
            newton = jnp.linalg.solve(h, g)
            centred = g - jnp.mean(g)
            unit = centred / jnp.maximum(jnp.linalg.norm(centred), 1e-30)
            candidates = jnp.stack(
                [project(domain, x - s * newton) for s in (1.0, 0.25, 0.05)]
                + [project(domain, x - c * unit) for c in (0.5, 0.1, 0.02, 0.004)]
                + [x]
            )
            values = jax.vmap(objective)(candidates)
            values = jnp.where(jnp.isfinite(values), values, jnp.inf)
            return candidates[jnp.argmin(values)]

        x = jax.lax.fori_loop(0, solver_iters, newton_step, warm)
        return objective(x), x

    def round_min(theta, domain):
        return -jnp.log(jnp.max(theta.features))

    return LossFamily(
        "portfolio", value, grad, stats_init, stats_add, hindsight, round_min
    )


# --------------------------------------------------------------------------------------
# The environment.
# --------------------------------------------------------------------------------------


class OCOFeedback(NamedTuple):
    """What the learner sees after playing ``x_t``."""

    value: Array  # [] f_t(x_t)
    grad: Array  # [d] gradient of f_t at x_t (the loss vector for experts)
    loss_params: Any  # theta_t: the loss function's parameters


class OCOInfo(NamedTuple):
    """Oracle quantities of one round (summed by the runner)."""

    regret: Array  # [] telescoped increment against the best fixed point in hindsight
    dynamic_regret: Array  # [] f_t(x_t) - min_x f_t(x)
    loss: Array  # [] f_t(x_t)


class OCOComparatorInfo(NamedTuple):
    """:class:`OCOInfo` plus the regret against a fixed comparator ``u`` of the
    instance (which may lie outside the domain; for parameter-free learners)."""

    regret: Array  # []
    dynamic_regret: Array  # []
    loss: Array  # []
    comparator_regret: Array  # [] f_t(x_t) - f_t(u)


class OCOState(NamedTuple):
    """What changes during a run."""

    round_index: Array  # [] int32 rounds played so far
    stats: Any  # sufficient statistics of F_t
    best_value: Array  # [] m_t = min_x F_t(x)
    best_point: Array  # [d] argmin (warm start of the solver)


# A stream: (key, params, t) -> theta_t.
StreamFn = Callable[[jax.Array, Any, Array], Any]


def oco_env(
    domain: Domain,
    family: LossFamily,
    stream_fn: StreamFn,
    params,
    *,
    name: str,
    sample_params=None,
    comparator_fn=None,
) -> Env:
    """An :class:`~envs.core.Env` over an oblivious stream of losses of one family.

    Args:
        domain: the feasible set.
        family: the loss family (value, gradient, hindsight solver).
        stream_fn: ``(key, params, t) -> theta_t``.
        params: the default instance (a pytree of arrays).
        name: the environment's name.
        sample_params: optional ``key -> params``.
        comparator_fn: optional ``params -> u`` ([d]); the info then is
            :class:`OCOComparatorInfo` with ``f_t(x_t) - f_t(u)`` (batch instances
            to compare several ``u`` on the same losses).

    Returns:
        An Env whose ``step`` returns :class:`OCOFeedback` and :class:`OCOInfo`.
    """

    def reset(key, params):
        del key
        dtype = float_dtype()
        state = OCOState(
            jnp.zeros((), jnp.int32),
            family.stats_init(params, domain),
            jnp.zeros((), dtype),
            center(domain),
        )
        return state, ()

    def step(key, state, action, params):
        check_in_domain(domain, action)
        x = jnp.asarray(action, float_dtype())
        theta = stream_fn(key, params, state.round_index)
        stats = family.stats_add(state.stats, theta)
        best_value, best_point = family.hindsight(
            stats, state.best_point, params, domain
        )
        loss = family.value(theta, x)
        info = OCOInfo(
            regret=loss - (best_value - state.best_value),
            dynamic_regret=loss - family.round_min(theta, domain),
            loss=loss,
        )
        if comparator_fn is not None:
            u = comparator_fn(params).astype(x.dtype)
            info = OCOComparatorInfo(*info, loss - family.value(theta, u))
        feedback = OCOFeedback(loss, family.grad(theta, x), theta)
        new = OCOState(state.round_index + 1, stats, best_value, best_point)
        return new, (), feedback, info

    return Env(reset, step, params, sample_params, name)


# --------------------------------------------------------------------------------------
# Streams.
# --------------------------------------------------------------------------------------


def _as(x):
    return jnp.asarray(x, float_dtype())


class AlternatingParams(NamedTuple):
    """``g_0 = first * v``, ``g_t = (-1)^t v`` for ``t >= 1`` (0-based rounds)."""

    direction: Array  # [d] v
    first: Array  # [] the first round's scale (0.5 in the textbook example)


def alternating_linear(
    dim: int = 1, *, radius: float = 1.0, domain_kind: str = "box"
) -> Env:
    """The linear sequence on which follow-the-leader has linear regret.

    On ``K = [-1, 1]`` with ``g_1 = 1/2`` and then ``g_t = -1, +1, -1, ...`` the leader
    jumps to the endpoint that the next loss punishes: FTL pays ``R ||v||_1`` on every
    round after the first while ``min_x <G_T, x> = -R ||v||_1 / 2`` (Orabona 2019,
    Section 7.2 / Shalev-Shwartz 2012, Example 2.2: ``Regret_T(FTL) = T - 1 + 1/2`` for
    ``v = 1``, ``R = 1``, starting from ``x_1 = 0``).
    """
    domain = make_domain(domain_kind, dim, radius)
    params = AlternatingParams(_as(np.ones(dim)), _as(0.5))

    def stream(key, params, t):
        sign = jnp.where(t % 2 == 0, 1.0, -1.0)
        scale = jnp.where(t == 0, params.first, sign)
        return LinearLoss(scale * params.direction)

    return oco_env(domain, _linear_family(), stream, params, name="alternating")


def switching_linear(
    dim: int = 2,
    *,
    domain_kind: str = "ball",
    radius: float = 1.0,
    vectors=None,
    first_phase: float = 10.0,
    growth: float = 2.0,
) -> Env:
    """Linear losses switching between two vectors in geometrically growing phases
    (:func:`envs.adversarial_bandits.phase_index`); FTL lags every switch.
    """
    domain = make_domain(domain_kind, dim, radius)
    if vectors is None:
        vectors = np.zeros((2, dim))
        vectors[0, 0], vectors[1, 0] = 1.0, -1.0
        if dim > 1:
            vectors[:, 1] = 0.3
    vectors = np.asarray(vectors, np.float64)
    if vectors.shape != (2, dim):
        raise ValueError(f"vectors must have shape (2, {dim}), got {vectors.shape}")
    params = PhasedLossParams(_as(vectors), _as(first_phase), _as(growth))

    def stream(key, params, t):
        return LinearLoss(params.phase_losses[phase_index(params, t) % 2])

    return oco_env(domain, _linear_family(), stream, params, name="switching")


NOISES = ("gaussian", "sphere", "rademacher")


class SEAParams(NamedTuple):
    """The SEA model (Sachs et al. 2022) for linear or quadratic losses.

    Round ``t``'s expected centre (or linear vector) is chosen by an oblivious
    adversary, ``m_t = mean + adversarial s_t direction`` with the sign
    ``s_t = (-1)^{floor(t / period)}`` (switching every ``period`` rounds); the
    realised one is
    ``m_t + sigma xi_t`` with ``xi_t ~ N(0, I / d)`` (``E ||xi||^2 = 1``).
    """

    mean: Array  # [d]
    direction: Array  # [d] unit vector of the adversarial oscillation
    sigma: Array  # [] stochastic standard deviation
    adversarial: Array  # [] adversarial amplitude
    curvature: Array  # [] lambda (quadratic losses; 1 for linear)
    period: Array  # [] rounds between sign switches of the adversarial part (>= 1)


class SEAComparatorParams(NamedTuple):
    """A SEA instance and a comparator ``u`` (``sea_model(comparator=...)``)."""

    sea: SEAParams
    comparator: Array  # [d]


def sea_variations(params: SEAParams, num_rounds: int, quadratic: bool) -> tuple:
    """``(sigma^2_{1:T}, Sigma^2_{1:T})`` of the SEA instance, exactly.

    ``sigma_t^2 = max_x E ||grad f_t(x) - grad F_t(x)||^2 = lambda^2 sigma^2`` and
    ``Sigma_t^2 = sup_x ||grad F_t(x) - grad F_{t-1}(x)||^2 = (2 lambda A)^2`` at
    the ``floor((T - 1) / period)`` switches and 0 otherwise (``F_t = E f_t``;
    Sachs et al. 2022, Section 2; Chen et al. 2023, Eq. (2)-(3)); linear losses
    have lambda = 1 in these formulas.
    """
    lam = np.asarray(params.curvature) if quadratic else 1.0
    sigma2 = num_rounds * (lam * np.asarray(params.sigma)) ** 2
    switches = np.floor((num_rounds - 1) / np.asarray(params.period))
    adv2 = switches * (2 * lam * np.asarray(params.adversarial)) ** 2
    return sigma2, adv2


def sea_model(
    dim: int = 2,
    *,
    loss: str = "linear",
    sigma: float = 0.1,
    adversarial: float = 0.1,
    curvature: float = 1.0,
    mean=None,
    radius: float = 1.0,
    comparator=None,
    noise: str = "gaussian",
    period: float = 1.0,
) -> Env:
    """The stochastically extended adversarial (SEA) model on a ball.

    ``sigma`` sets the cumulative stochastic variance ``sigma^2_{1:T} = T lambda^2
    sigma^2`` and ``adversarial`` (with ``period``) the cumulative adversarial
    variation ``Sigma^2_{1:T} = 4 floor((T - 1) / period) lambda^2 A^2``
    independently (see
    :func:`sea_variations`): ``sigma = 0`` is a fully adversarial (deterministic,
    oscillating) sequence, ``adversarial = 0`` an i.i.d. one. Batch instances through
    ``SEAParams`` (``experiments.runner.run(..., instances=...)``). With
    ``comparator`` (a point ``u``, [d]) the params are :class:`SEAComparatorParams`
    and the info reports the regret against ``u`` too. ``noise='sphere'`` draws
    ``xi_t`` uniformly on the unit sphere (``+-1`` in 1-D) instead of Gaussian, so
    gradients stay bounded by ``||mean|| + A + sigma``; ``noise='rademacher'`` draws
    independent ``+-1/sqrt(d)`` coordinates (dense gradients with
    ``||xi||_inf = 1/sqrt(d)``: the p-norm setting, ``experiments.oco_pnorm``).

    Losses: ``linear`` ``f_t(x) = <m_t + sigma xi_t, x>``, or ``quadratic``
    ``f_t(x) = lambda/2 ||x - m_t - sigma xi_t||^2``.

    References:
        Sachs, Hadiji, van Erven, Guzman, "Between stochastic and adversarial online
        convex optimization: improved regret bounds via smoothness", NeurIPS 2022.
        Chen, Zhang, Tu, Zhao, Zhang, "Optimistic Online Mirror Descent for Bridging
        Stochastic and Adversarial Online Convex Optimization", ICML 2023 / JMLR 2024.
    """
    domain = make_domain("ball", dim, radius)
    check_nonnegative(sigma, "sigma")
    check_nonnegative(adversarial, "adversarial")
    check_positive(curvature, "curvature")
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")
    if loss not in ("linear", "quadratic"):
        raise ValueError(f"loss must be 'linear' or 'quadratic', got {loss!r}")
    if mean is None:
        mean = np.zeros(dim)
        mean[0] = 0.5
    direction = np.zeros(dim)
    direction[-1] = 1.0
    if is_concrete(period) and not float(period) >= 1:
        raise ValueError(f"period must be >= 1, got {period!r}")
    params = SEAParams(
        _as(mean),
        _as(direction),
        _as(sigma),
        _as(adversarial),
        _as(curvature),
        _as(period),
    )

    def centre(key, params, t):
        phase = jnp.floor(t / params.period).astype(jnp.int32)
        sign = jnp.where(phase % 2 == 0, 1.0, -1.0)
        xi = jax.random.normal(key, params.mean.shape, params.mean.dtype)
        if noise == "sphere":
            xi = xi / jnp.maximum(jnp.linalg.norm(xi), 1e-30)
        elif noise == "rademacher":
            xi = jnp.where(xi >= 0, 1.0, -1.0).astype(xi.dtype) / np.sqrt(dim)
        else:
            xi = xi / np.sqrt(dim)
        return (
            params.mean
            + params.adversarial * sign * params.direction
            + (params.sigma * xi)
        )

    if loss == "linear":

        def stream(key, params, t):
            return LinearLoss(centre(key, params, t))

        family = _linear_family()
    else:

        def stream(key, params, t):
            return QuadraticLoss(centre(key, params, t), params.curvature)

        family = _quadratic_family()
    if comparator is None:
        return oco_env(domain, family, stream, params, name=f"sea_{loss}")
    params = SEAComparatorParams(params, _as(comparator))
    sea_stream = stream

    def stream(key, params, t):  # noqa: F811
        return sea_stream(key, params.sea, t)

    return oco_env(
        domain,
        family,
        stream,
        params,
        name=f"sea_{loss}",
        comparator_fn=lambda params: params.comparator,
    )


class IIDQuadraticParams(NamedTuple):
    """i.i.d. losses ``lambda/2 ||x - c_t||^2``, ``c_t ~ N(mean, noise^2 I)``."""

    mean: Array  # [d]
    noise: Array  # []
    curvature: Array  # []


def iid_quadratic(
    dim: int = 2,
    *,
    curvature: float = 1.0,
    noise: float = 0.5,
    mean=None,
    domain_kind: str = "ball",
    radius: float = 1.0,
) -> Env:
    """Strongly convex stochastic stream (log T regret for OGD with 1/(lambda t))."""
    domain = make_domain(domain_kind, dim, radius)
    check_positive(curvature, "curvature")
    mean = np.full(dim, 0.3) if mean is None else np.asarray(mean)
    params = IIDQuadraticParams(_as(mean), _as(noise), _as(curvature))

    def stream(key, params, t):
        c = params.mean + params.noise * jax.random.normal(
            key, params.mean.shape, params.mean.dtype
        )
        return QuadraticLoss(c, params.curvature)

    return oco_env(domain, _quadratic_family(), stream, params, name="iid_quadratic")


class DriftParams(NamedTuple):
    """Quadratic losses whose centre moves on a circle: ``c_t = r (cos wt, sin wt)``."""

    radius: Array  # [] r of the circle
    angle_step: Array  # [] w (radians per round)
    curvature: Array  # []


def drifting_quadratic(
    dim: int = 2,
    *,
    path_length: float = 10.0,
    num_rounds: int = 1000,
    circle_radius: float = 0.8,
    curvature: float = 1.0,
    radius: float = 1.0,
) -> Env:
    """A drifting minimiser with path length ``P_T = sum_t ||c_t - c_{t-1}||``.

    The centre moves by ``2 r sin(w / 2)`` per round; ``w`` is chosen so that the
    path length over ``num_rounds`` rounds is ``path_length``. The centres stay inside
    the ball, so the per-round minimisers are the centres and
    ``dynamic_regret = f_t(x_t)``.
    """
    domain = make_domain("ball", dim, radius)
    if dim < 2:
        raise ValueError("drifting_quadratic needs dim >= 2")
    num_rounds = check_int(num_rounds, "num_rounds", minimum=2)
    check_nonnegative(path_length, "path_length")
    step = path_length / (num_rounds - 1)
    if step > 2 * circle_radius:
        raise ValueError("path_length too long for the circle")
    params = DriftParams(
        _as(circle_radius),
        _as(2 * np.arcsin(step / (2 * circle_radius))),
        _as(curvature),
    )

    def stream(key, params, t):
        angle = params.angle_step * t
        c = jnp.zeros((dim,), float_dtype())
        c = c.at[0].set(jnp.cos(angle)).at[1].set(jnp.sin(angle)) * params.radius
        return QuadraticLoss(c, params.curvature)

    return oco_env(domain, _quadratic_family(), stream, params, name="drifting")


def drift_params(path_length, num_rounds, circle_radius=0.8, curvature=1.0):
    """:class:`DriftParams` for a path length (for instance batches)."""
    step = np.asarray(path_length, np.float64) / (num_rounds - 1)
    return DriftParams(
        _as(np.full_like(step, circle_radius)),
        _as(2 * np.arcsin(step / (2 * circle_radius))),
        _as(np.full_like(step, curvature)),
    )


class RegressionParams(NamedTuple):
    """``y_t = <w*, a_t> + noise``, ``a_t ~ N(0, I / d)``."""

    weights: Array  # [d] w*
    noise: Array  # []


def online_regression(
    dim: int = 3, *, noise: float = 0.3, radius: float = 2.0, weights=None
) -> Env:
    """Squared loss of online linear regression over a ball (exp-concave on bounded
    data; ``d log T`` regret for ONS / Vovk-Azoury-Warmuth)."""
    domain = make_domain("ball", dim, radius)
    weights = np.linspace(1.0, -0.5, dim) / np.sqrt(dim) if weights is None else weights
    params = RegressionParams(_as(weights), _as(noise))

    def stream(key, params, t):
        k1, k2 = jax.random.split(key)
        a = jax.random.normal(k1, params.weights.shape, params.weights.dtype)
        a = a / np.sqrt(dim)
        y = a @ params.weights + params.noise * jax.random.normal(k2, (), a.dtype)
        return RegressionLoss(a, y)

    return oco_env(domain, _regression_family(), stream, params, name="regression")


def _pool_stream(key, params, t):
    index = jax.random.categorical(key, jnp.log(params.probs)).astype(jnp.int32)
    return PoolLoss(params.features[index], params.labels[index], index)


def logistic_pool(
    dim: int = 3,
    *,
    pool_size: int = 32,
    radius: float = 3.0,
    seed: int = 0,
    solver_iters: int = 3,
) -> Env:
    """i.i.d. logistic losses over a finite pool of labelled examples (exp-concave on
    the ball: ``alpha = exp(-R max ||a||) / ...``). Labels from a noisy linear model;
    the hindsight minimiser is found by warm-started projected Newton."""
    domain = make_domain("ball", dim, radius)
    pool_size = check_int(pool_size, "pool_size", minimum=2)
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(pool_size, dim)) / np.sqrt(dim)
    w = np.linspace(1.0, -1.0, dim)
    p = 1 / (1 + np.exp(-(a @ w)))
    labels = np.where(rng.uniform(size=pool_size) < p, 1.0, -1.0)
    params = PoolParams(_as(a), _as(labels), _as(np.full(pool_size, 1 / pool_size)))
    family = _logistic_family(check_int(solver_iters, "solver_iters"))
    return oco_env(domain, family, _pool_stream, params, name="logistic")


def portfolio_pool(
    num_assets: int = 3, *, pool_size: int = 16, seed: int = 0, solver_iters: int = 3
) -> Env:
    """Log-loss of a constantly rebalanced portfolio, ``f_t(x) = -log <r_t, x>``, price
    relatives ``r_t`` i.i.d. from a finite pool (exp-concave with alpha = 1; Cover's
    universal portfolio / ONS setting). Hindsight: warm-started projected Newton with
    projected-gradient fallbacks (monotone). (Cover's multiplicative EM was tried
    first: warm-started, it cannot revive a coordinate it has driven near zero.)"""
    domain = make_domain("simplex", num_assets)
    rng = np.random.default_rng(seed)
    r = np.exp(rng.normal(0.0, 0.2, size=(pool_size, num_assets)))
    params = PoolParams(
        _as(r), _as(np.ones(pool_size)), _as(np.full(pool_size, 1 / pool_size))
    )
    family = _portfolio_family(check_int(solver_iters, "solver_iters"))
    return oco_env(domain, family, _pool_stream, params, name="portfolio")


def _absolute_family() -> LossFamily:
    """``f(x) = ||x - z||_1`` with ``z`` from a finite pool (``PoolLoss.features``);
    the hindsight minimiser is a coordinatewise weighted median of the pool, found
    exactly by evaluating ``F`` at the pool's points (its kinks)."""

    def value(theta, x):
        return jnp.sum(jnp.abs(x - theta.features))

    def grad(theta, x):
        return jnp.sign(x - theta.features)

    def stats_init(params, domain):
        return _zeros_kahan(params.features.shape[:1])

    def stats_add(stats, theta):
        k = stats.total.shape[0]
        return kahan_add(stats, jax.nn.one_hot(theta.index, k, dtype=stats.total.dtype))

    def hindsight(stats, warm, params, domain):
        if domain.kind != "box":
            raise ValueError("absolute losses are defined on a box domain")
        counts, z = stats.value, params.features  # [K], [K, d]
        # per coordinate j: F_j(v) = sum_k n_k |v - z_kj|, evaluated at v = z_ij.
        zc = jnp.clip(z, -domain.radius, domain.radius)
        per = jnp.sum(counts[None, :, None] * jnp.abs(zc[:, None, :] - z[None]), 1)
        best = jnp.argmin(per, axis=0)  # [d]
        x = jnp.take_along_axis(zc, best[None], 0)[0]
        return jnp.sum(jnp.min(per, axis=0)), x

    def round_min(theta, domain):
        x = jnp.clip(theta.features, -domain.radius, domain.radius)
        return jnp.sum(jnp.abs(x - theta.features))

    return LossFamily(
        "absolute", value, grad, stats_init, stats_add, hindsight, round_min
    )


def absolute_loss_1d(target: float = 1.0, *, spread: float = 1.0, radius: float = 1e6):
    """``f_t(x) = |x - z_t|`` on the line, ``z_t = target +- spread`` with
    probability 1/2 each (a 1-Lipschitz loss whose minimisers sit around ``target``):
    the comparator norm is ``|target|``, swept by batching instances
    (:func:`absolute_loss_params`). Used for parameter-free learners (figure 4)."""
    domain = make_domain("box", 1, radius)
    params = absolute_loss_params([target], spread)
    params = jax.tree.map(lambda x: x[0], params)
    return oco_env(domain, _absolute_family(), _pool_stream, params, name="absolute")


def absolute_loss_params(targets, spread: float = 1.0) -> PoolParams:
    """A batch of :func:`absolute_loss_1d` instances, one per target ([I, ...])."""
    t = np.asarray(targets, np.float64)[:, None, None]
    pool = np.concatenate([t - spread, t + spread], axis=1)  # [I, 2, 1]
    n = t.shape[0]
    return PoolParams(_as(pool), _as(np.ones((n, 2))), _as(np.full((n, 2), 0.5)))


# --------------------------------------------------------------------------------------
# Experts (linear losses on the simplex).
# --------------------------------------------------------------------------------------


class ExpertParams(NamedTuple):
    """Expert losses: Bernoulli(means) i.i.d., or a deterministic phased sequence."""

    means: Array  # [N] i.i.d. mean losses (stochastic regime)
    phases: PhasedLossParams  # adversarial phased losses
    adversarial: Array  # [] 1.0 -> phased deterministic losses, 0.0 -> stochastic


def experts(
    num_experts: int = 10,
    *,
    adversarial: bool = False,
    gap: float = 0.1,
    first_phase: float = 10.0,
    growth: float = 1.5,
) -> Env:
    """Full-information experts: ``l_t in [0, 1]^N`` revealed whole; the learner's
    loss is ``<p_t, l_t>``. Stochastic: Bernoulli losses with means
    ``0.5 - gap`` for expert 0 and 0.5 otherwise. Adversarial: the deterministic
    sequence alternating in growing phases between ``(0, gap, ..)`` scaled ones and
    the complement ordering, where the leader changes at every phase (FTL-hard).
    """
    domain = make_domain("simplex", check_int(num_experts, "num_experts", minimum=2))
    means = np.full(num_experts, 0.5)
    means[0] = 0.5 - gap
    even = np.linspace(0.0, 1.0, num_experts)
    odd = even[::-1].copy()
    phases = PhasedLossParams(_as(np.stack([even, odd])), _as(first_phase), _as(growth))
    params = ExpertParams(_as(means), phases, _as(float(adversarial)))

    def stream(key, params, t):
        draws = (jax.random.uniform(key, params.means.shape) < params.means).astype(
            params.means.dtype
        )
        phased = params.phases.phase_losses[phase_index(params.phases, t) % 2]
        return LinearLoss(jnp.where(params.adversarial > 0.5, phased, draws))

    name = "experts_adversarial" if adversarial else "experts_stochastic"
    return oco_env(domain, _linear_family(), stream, params, name=name)


LOSS_FAMILIES = {
    "linear": _linear_family,
    "quadratic": _quadratic_family,
    "regression": _regression_family,
}
