"""First- and second-order OCO learners: OGD, OMD, FTRL / FTL, AdaGrad, ONS and the
optimistic methods of the SEA model.

Every learner plays a point of an ``envs.oco.Domain`` (static), takes ``obs == ()``
and reads ``feedback.grad`` (an ``envs.oco.OCOFeedback``). Step sizes are traced (so
``experiments.runner.sweep`` can vmap a grid); they are validated when concrete.
``update`` raises a ValueError on a concrete non-finite gradient.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.core import (
    Array,
    Learner,
    check_nonnegative,
    check_positive,
    is_concrete,
)
from envs.oco import (
    Domain,
    center,
    diameter,
    linear_minimiser,
    project,
    project_ball_in_norm,
    trust_region_min,
)

SCHEDULES = ("constant", "sqrt", "strongly_convex")


def check_obs(obs) -> None:
    """OCO learners take no observation."""
    if obs != ():
        raise ValueError(f"OCO learners take obs == (), got {obs!r}")


def checked_grad(feedback) -> Array:
    """``feedback.grad``, with a ValueError when it is concrete and not finite."""
    g = feedback.grad
    if is_concrete(g) and not np.all(np.isfinite(np.asarray(g))):
        raise ValueError(f"non-finite gradient {np.asarray(g)!r}")
    return g


def _act_fn():
    """A fresh ``act`` (play ``state.x``) per learner, so jit caches stay separate."""

    def act(key, state, obs):
        check_obs(obs)
        return state.x, state

    return act


class OGDState(NamedTuple):
    """Online gradient descent."""

    x: Array  # [d] the point to play
    t: Array  # [] rounds seen


def ogd(
    domain: Domain,
    *,
    schedule: str = "sqrt",
    step_size: float | None = None,
    lipschitz: float = 1.0,
    strong_convexity: float = 1.0,
) -> Learner:
    """Projected online gradient descent (Zinkevich 2003).

    .. math::

        x_{t+1} = \\Pi_K(x_t - \\eta_t g_t),\\quad
        \\eta_t = \\eta\\ (\\text{constant}),\\ \\frac{D}{G\\sqrt t}\\ (\\text{sqrt}),\\
        \\frac{1}{\\lambda t}\\ (\\text{strongly convex}).

    Args:
        domain: the feasible set.
        schedule: 'constant' (``step_size``), 'sqrt' (``step_size`` defaults to
            ``D / G``; ``eta_t = step_size / sqrt(t)``) or 'strongly_convex'
            (``eta_t = 1 / (lambda t)``).
        step_size: the constant / scale of the step.
        lipschitz: G, a bound on ``||g_t||`` (sqrt schedule default).
        strong_convexity: lambda (strongly convex schedule).

    Returns:
        A Learner with :class:`OGDState`.

    References:
        Zinkevich, "Online convex programming and generalized infinitesimal gradient
        ascent", ICML 2003 (``3/2 G D sqrt(T)`` with ``D/(G sqrt t)``). Hazan,
        "Introduction to Online Convex Optimization", 2016, Theorem 3.1 and
        Theorem 3.3 (``G^2 / (2 lambda) (1 + log T)`` with ``1/(lambda t)``).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    check_positive(lipschitz, "lipschitz")
    check_positive(strong_convexity, "strong_convexity")
    if step_size is None:
        if schedule == "constant":
            raise ValueError("the constant schedule needs step_size")
        step_size = diameter(domain) / lipschitz
    check_positive(step_size, "step_size")

    def init(key):
        return OGDState(center(domain), jnp.zeros((), center(domain).dtype))

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        t = state.t + 1
        if schedule == "constant":
            eta = step_size
        elif schedule == "sqrt":
            eta = step_size / jnp.sqrt(t)
        else:
            eta = 1.0 / (strong_convexity * t)
        return OGDState(project(domain, state.x - eta * g), t)

    return Learner(init, _act_fn(), update)


class EGState(NamedTuple):
    """Exponentiated gradient (entropic OMD on the simplex)."""

    x: Array  # [d] the distribution to play
    log_weights: Array  # [d] -eta * cumulative (linearised) losses, normalised


def exponentiated_gradient(domain: Domain, *, step_size: float = 0.1) -> Learner:
    """Online mirror descent with the entropic regulariser on the simplex (EG).

    .. math:: x_{t+1, i} \\propto x_{t, i} \\exp(-\\eta g_{t, i})

    Regret ``log(d)/eta + eta/2 sum ||g_t||_inf^2`` (Orabona 2019, Section 6.6,
    Corollary 6.?; number unverified). Kivinen and Warmuth, "Exponentiated gradient
    versus gradient descent for linear predictors", 1997.
    """
    if domain.kind != "simplex":
        raise ValueError("exponentiated gradient needs a simplex domain")
    check_positive(step_size, "step_size")

    def init(key):
        x = center(domain)
        return EGState(x, jnp.log(x))

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        logw = state.log_weights - step_size * g
        logw = logw - jax.nn.logsumexp(logw)
        return EGState(jnp.exp(logw), logw)

    return Learner(init, _act_fn(), update)


def omd(domain: Domain, *, mirror: str = "euclidean", step_size: float = 0.1):
    """Online mirror descent with a fixed step: ``mirror='euclidean'`` is projected
    OGD, ``'entropic'`` exponentiated gradient / Hedge on the simplex."""
    if mirror == "euclidean":
        return ogd(domain, schedule="constant", step_size=step_size)
    if mirror == "entropic":
        return exponentiated_gradient(domain, step_size=step_size)
    raise ValueError(f"mirror must be 'euclidean' or 'entropic', got {mirror!r}")


# --------------------------------------------------------------------------------------
# FTRL with linearised losses.
# --------------------------------------------------------------------------------------

REGULARIZERS = ("l2", "entropy", "log_barrier")


def log_barrier_argmin(cum_grad: Array, eta, iters: int = 80) -> Array:
    """``argmin_{x in simplex} <G, x> - (1/eta) sum_i log x_i``.

    Stationarity: ``x_i = 1 / (eta (G_i + mu))`` with ``mu > -min G`` such that
    ``sum x_i = 1``; ``sum_i x_i(mu)`` decreases in ``mu``, is infinite at
    ``-min G`` and at most 1 at ``-min G + N / eta``: a fixed-iteration bisection on
    that bracket, then two Newton steps, then a renormalisation.
    """
    n = cum_grad.shape[0]
    lo = -jnp.min(cum_grad)
    hi = lo + n / eta

    def total(mu):
        return jnp.sum(1.0 / (eta * (cum_grad + mu)))

    def body(_, b):
        lo_, hi_ = b
        mid = 0.5 * (lo_ + hi_)
        big = total(mid) > 1.0
        return jnp.where(big, mid, lo_), jnp.where(big, hi_, mid)

    lo, hi = jax.lax.fori_loop(0, iters, body, (lo, hi))
    mu = hi  # total(hi) <= 1: every x_i finite and positive
    x = 1.0 / (eta * (cum_grad + mu))
    return x / jnp.sum(x)


class FTRLState(NamedTuple):
    """FTRL on linearised losses."""

    x: Array  # [d] the point to play
    cum_grad: Array  # [d] sum of past gradients


def ftrl(domain: Domain, *, regularizer: str = "l2", step_size: float = 0.1):
    """Follow the regularised leader on linearised losses.

    .. math:: x_{t+1} = \\arg\\min_{x \\in K} \\langle G_t, x\\rangle + R(x)/\\eta

    Regularisers: ``l2`` (``||x||^2 / 2``, any domain: ``x = Pi_K(-eta G)``),
    ``entropy`` (simplex: ``softmax(-eta G)``, = Hedge) and ``log_barrier`` (simplex:
    ``-sum log x_i``, :func:`log_barrier_argmin`).

    References:
        Orabona, "A Modern Introduction to Online Learning", 2019, Chapter 7
        (Corollary 7.9: ``R(u)/eta + eta/2 sum ||g_t||_*^2`` for a 1-strongly convex
        regulariser; number from memory). Shalev-Shwartz, "Online Learning and Online
        Convex Optimization", 2012, Section 2.3.
    """
    if regularizer not in REGULARIZERS:
        raise ValueError(f"regularizer must be one of {REGULARIZERS}")
    if regularizer != "l2" and domain.kind != "simplex":
        raise ValueError(f"the {regularizer} regulariser needs a simplex domain")
    check_positive(step_size, "step_size")

    def leader(cum_grad):
        if regularizer == "l2":
            return project(domain, -step_size * cum_grad)
        if regularizer == "entropy":
            return jax.nn.softmax(-step_size * cum_grad)
        return log_barrier_argmin(cum_grad, step_size)

    def init(key):
        x = center(domain)
        return FTRLState(leader(jnp.zeros_like(x)), jnp.zeros_like(x))

    def update(state, obs, action, feedback):
        cum = state.cum_grad + checked_grad(feedback)
        return FTRLState(leader(cum), cum)

    return Learner(init, _act_fn(), update)


def ftl(domain: Domain) -> Learner:
    """Follow the leader on linear losses: ``x_{t+1} = argmin_x <G_t, x>`` (starting
    at the domain's centre). Linear regret on the alternating sequence
    (``envs.oco.alternating_linear``)."""

    def init(key):
        x = center(domain)
        return FTRLState(x, jnp.zeros_like(x))

    def update(state, obs, action, feedback):
        cum = state.cum_grad + checked_grad(feedback)
        return FTRLState(linear_minimiser(domain, cum), cum)

    return Learner(init, _act_fn(), update)


# --------------------------------------------------------------------------------------
# AdaGrad and ONS.
# --------------------------------------------------------------------------------------


def _project_in_norm(domain: Domain, eigvals, eigvecs, y):
    """Generalised projection ``argmin_{x in K} (x - y)^T H (x - y)``."""
    if domain.kind == "ball":
        return project_ball_in_norm(eigvals, eigvecs, y, domain.radius)
    raise ValueError("this learner supports ball domains (or diagonal on boxes)")


class AdaGradState(NamedTuple):
    """AdaGrad (diagonal: ``accumulator`` is [d]; full: [d, d])."""

    x: Array  # [d]
    accumulator: Array  # [d] sum g^2 or [d, d] sum g g^T


def adagrad(
    domain: Domain, *, step_size: float = 1.0, delta: float = 1e-8, full: bool = False
) -> Learner:
    """AdaGrad with projection in the adaptive norm (Duchi, Hazan, Singer 2011).

    .. math::

        H_t = (\\delta I + \\textstyle\\sum_{s \\le t} g_s g_s^T)^{1/2}
        \\ (\\text{diagonal: } \\mathrm{diag}),\\qquad
        x_{t+1} = \\Pi^{H_t}_K(x_t - \\eta H_t^{-1} g_t).

    (``delta`` inside the root, as ``optax.adagrad``'s ``initial_accumulator_value``;
    the paper adds ``delta I`` outside: the same up to the choice of ``delta``.)
    Diagonal on a box: the ``H``-norm projection is coordinate clipping; on a ball
    (and full-matrix on a ball) it is :func:`envs.oco.project_ball_in_norm`.

    References:
        Duchi, Hazan, Singer, "Adaptive Subgradient Methods for Online Learning and
        Stochastic Optimization", JMLR 2011, Eq. (1), Theorems 5 and 7
        (``sqrt(2) D_inf sum_i ||g_{1:T,i}||_2`` for the diagonal version;
        theorem numbers from memory). ``optax.adagrad`` is the same update without
        projection (``algorithms.oco.optax_wrappers``).
    """
    check_positive(step_size, "step_size")
    check_positive(delta, "delta")
    if domain.kind == "simplex" or (full and domain.kind != "ball"):
        raise ValueError("adagrad supports box (diagonal) and ball domains")

    def init(key):
        x = center(domain)
        d = x.shape[0]
        acc = jnp.zeros((d, d) if full else (d,), x.dtype)
        return AdaGradState(x, acc)

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        d = g.shape[0]
        if full:
            acc = state.accumulator + jnp.outer(g, g)
            w, q = jnp.linalg.eigh(acc + delta * jnp.eye(d, dtype=g.dtype))
            h = jnp.sqrt(jnp.maximum(w, delta))
            y = state.x - step_size * (q @ ((q.T @ g) / h))
            x = project_ball_in_norm(h, q, y, domain.radius)
        else:
            acc = state.accumulator + g * g
            h = jnp.sqrt(acc + delta)
            y = state.x - step_size * g / h
            if domain.kind == "box":
                x = jnp.clip(y, -domain.radius, domain.radius)
            else:
                x = project_ball_in_norm(h, jnp.eye(d, dtype=g.dtype), y, domain.radius)
        return AdaGradState(x, acc)

    return Learner(init, _act_fn(), update)


class ONSState(NamedTuple):
    """Online Newton step."""

    x: Array  # [d]
    matrix: Array  # [d, d] A_t = eps I + sum g g^T


def ons(
    domain: Domain,
    *,
    gamma: float | None = None,
    epsilon: float | None = None,
    lipschitz: float = 1.0,
    exp_concavity: float = 1.0,
) -> Learner:
    """Online Newton step (Hazan, Agarwal, Kale 2007) on a ball.

    .. math::

        A_t = \\varepsilon I + \\textstyle\\sum_{s \\le t} g_s g_s^T,\\quad
        x_{t+1} = \\Pi^{A_t}_K\\big(x_t - \\tfrac{1}{\\gamma} A_t^{-1} g_t\\big),

    with the defaults ``gamma = 1/2 min(1/(4 G D), alpha)`` and
    ``epsilon = 1/(gamma^2 D^2)`` of Hazan (2016), Algorithm 12 / Theorem 4.5:
    regret ``5 (1/alpha + G D) d log T`` for alpha-exp-concave losses. ``A_t`` is
    eigen-decomposed each round (``O(d^3)``), which gives both ``A_t^{-1} g`` and the
    generalised projection (:func:`envs.oco.project_ball_in_norm`).
    """
    if domain.kind != "ball":
        raise ValueError("ons supports ball domains")
    d_diam = diameter(domain)
    if gamma is None:
        gamma = 0.5 * min(1.0 / (4 * lipschitz * d_diam), exp_concavity)
    if epsilon is None:
        epsilon = 1.0 / (gamma**2 * d_diam**2)
    check_positive(gamma, "gamma")
    check_positive(epsilon, "epsilon")

    def init(key):
        x = center(domain)
        d = x.shape[0]
        return ONSState(x, epsilon * jnp.eye(d, dtype=x.dtype))

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        a = state.matrix + jnp.outer(g, g)
        a = 0.5 * (a + a.T)
        w, q = jnp.linalg.eigh(a)
        y = state.x - (q @ ((q.T @ g) / w)) / gamma
        return ONSState(project_ball_in_norm(w, q, y, domain.radius), a)

    return Learner(init, _act_fn(), update)


# --------------------------------------------------------------------------------------
# Optimistic methods (SEA model).
# --------------------------------------------------------------------------------------

CURVATURES = ("convex", "strongly_convex", "exp_concave")


class OptimisticOMDState(NamedTuple):
    """Optimistic OMD: the played point and the auxiliary (lazy) sequence."""

    x: Array  # [d] x_t = Pi(xhat_t - eta_t M_t), played
    x_hat: Array  # [d] the auxiliary iterate
    hint: Array  # [d] M_t = g_{t-1}
    variation: Array  # [] delta + sum_s ||g_s - M_s||^2 (convex case)
    matrix: Array  # [d, d] A_t (exp-concave case; identity otherwise)
    t: Array  # [] rounds seen


def optimistic_omd(
    domain: Domain,
    *,
    curvature: str = "convex",
    scale: float | None = None,
    strong_convexity: float = 1.0,
    exp_concavity: float = 1.0,
    lipschitz: float = 1.0,
    delta: float | None = None,
) -> Learner:
    """Optimistic online mirror descent with the last-gradient hint ``M_t = g_{t-1}``.

    .. math::

        x_t = \\Pi_K(\\hat x_t - \\eta_t M_t),\\qquad
        \\hat x_{t+1} = \\Pi_K(\\hat x_t - \\eta_t g_t).

    Step sizes of Chen, Zhang, Tu, Zhao, Zhang (2023):

    * convex and smooth (their Theorem 1): ``eta_t = D / sqrt(delta + sum_{s<t}
      ||g_s - M_s||^2)`` (self-confident), expected regret
      ``O(sqrt(sigma^2_{1:T}) + sqrt(Sigma^2_{1:T}))``;
    * strongly convex and smooth (Theorem 3): ``eta_t = 2 / (lambda t)``
      (``scale`` overrides 2), ``O((sigma_max^2 + Sigma_max^2)/lambda log(...))``;
    * exp-concave and smooth (Theorem 4): the Euclidean regulariser replaced by
      ``||x||^2_{A_t} / 2``, ``A_t = delta I + beta/2 sum_{s<t} (g_s - M_s)(g_s -
      M_s)^T`` with ``beta = 1/2 min(1/(4 G D), alpha)``, and projections in the
      ``A_t``-norm: ``O(d log(sigma^2_{1:T} + Sigma^2_{1:T}))``.

    (Theorem numbers and constants from memory of the arXiv version 2302.04552;
    unverified against the text.)
    """
    if curvature not in CURVATURES:
        raise ValueError(f"curvature must be one of {CURVATURES}")
    if curvature == "exp_concave" and domain.kind != "ball":
        raise ValueError("the exp-concave optimistic OMD supports ball domains")
    d_diam = diameter(domain)
    beta = 0.5 * min(1.0 / (4 * lipschitz * d_diam), exp_concavity)
    if delta is None:
        delta = lipschitz**2 if curvature == "convex" else 1.0
    if scale is None:
        scale = {"convex": d_diam, "strongly_convex": 2.0, "exp_concave": 1.0}[
            curvature
        ]
    check_positive(scale, "scale")
    check_positive(delta, "delta")
    check_positive(strong_convexity, "strong_convexity")

    def init(key):
        x = center(domain)
        d = x.shape[0]
        z = jnp.zeros((), x.dtype)
        return OptimisticOMDState(
            x, x, jnp.zeros_like(x), z + delta, delta * jnp.eye(d, dtype=x.dtype), z
        )

    def step(x_from, direction, state, variation, matrix, t):
        if curvature == "convex":
            return project(domain, x_from - scale / jnp.sqrt(variation) * direction)
        if curvature == "strongly_convex":
            eta = scale / (strong_convexity * jnp.maximum(t, 1.0))
            return project(domain, x_from - eta * direction)
        w, q = jnp.linalg.eigh(matrix)
        y = x_from - scale * (q @ ((q.T @ direction) / w))
        return project_ball_in_norm(w, q, y, domain.radius)

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        t = state.t + 1
        # Step eta_t (from rounds < t) for xhat_{t+1}; then eta_{t+1} for x_{t+1}.
        x_hat = step(state.x_hat, g, state, state.variation, state.matrix, t)
        err = g - state.hint
        variation = state.variation + jnp.sum(err**2)
        matrix = state.matrix + 0.5 * beta * jnp.outer(err, err)
        x = step(x_hat, g, state, variation, matrix, t + 1)
        return OptimisticOMDState(x, x_hat, g, variation, matrix, t)

    return Learner(init, _act_fn(), update)


class OptimisticFTRLState(NamedTuple):
    """Optimistic FTRL with the Euclidean regulariser."""

    x: Array  # [d] the point to play
    cum_grad: Array  # [d] G_t
    hint: Array  # [d] M_{t+1} = g_t
    variation: Array  # [] delta + sum_s ||g_s - M_s||^2


def optimistic_ftrl(
    domain: Domain,
    *,
    scale: float | None = None,
    lipschitz: float = 1.0,
    delta: float | None = None,
) -> Learner:
    """Optimistic FTRL with the last-gradient hint and an adaptive Euclidean
    regulariser (Sachs, Hadiji, van Erven, Guzman 2022).

    .. math::

        x_{t+1} = \\arg\\min_{x \\in K} \\langle G_t + M_{t+1}, x\\rangle
        + \\frac{\\|x\\|^2}{2\\eta_{t+1}} = \\Pi_K(-\\eta_{t+1}(G_t + g_t)),\\quad
        \\eta_{t+1} = \\frac{D}{\\sqrt{\\delta + \\sum_{s \\le t}\\|g_s - M_s\\|^2}}

    (for the ``||x||^2`` regulariser and a centred ball / box the FTRL argmin is the
    projection of the unconstrained one; on the simplex too, since ``||x||^2/(2 eta)
    + <v, x>`` differs from ``||x + eta v||^2/(2 eta)`` by a constant). Expected regret
    ``O(D sqrt(sigma^2_{1:T}) + D sqrt(Sigma^2_{1:T}))`` for convex smooth expected
    losses (Sachs et al. 2022, Theorem 5; number and constants from memory,
    unverified).
    """
    if scale is None:
        scale = diameter(domain)
    if delta is None:
        delta = lipschitz**2
    check_positive(scale, "scale")
    check_positive(delta, "delta")

    def init(key):
        x = center(domain)
        z = jnp.zeros((), x.dtype)
        return OptimisticFTRLState(x, jnp.zeros_like(x), jnp.zeros_like(x), z + delta)

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        cum = state.cum_grad + g
        variation = state.variation + jnp.sum((g - state.hint) ** 2)
        eta = scale / jnp.sqrt(variation)
        x = project(domain, -eta * (cum + g))  # hint M_{t+1} = g_t
        return OptimisticFTRLState(x, cum, g, variation)

    return Learner(init, _act_fn(), update)


class OptimisticFTRLSCState(NamedTuple):
    """Optimistic FTRL on strongly convex surrogates."""

    x: Array  # [d] the point to play
    cum_grad: Array  # [d] G_t = sum_s g_s
    cum_point: Array  # [d] sum_s x_s
    t: Array  # [] rounds seen


def optimistic_ftrl_strongly_convex(
    domain: Domain, *, strong_convexity: float = 1.0
) -> Learner:
    """Optimistic FTRL for lambda-strongly convex losses, with the last-gradient hint.

    Each loss is replaced by its strongly convex lower model at the played point,
    ``l_s(x) = <g_s, x> + lambda/2 ||x - x_s||^2 <= f_s(x) - f_s(x_s) + <g_s, x_s>``,
    and FTRL with no regulariser is run on these models plus the hint ``M_{t+1} =
    g_t``:

    .. math::

        x_{t+1} = \\arg\\min_{x \\in K} \\sum_{s \\le t} l_s(x)
                  + \\langle M_{t+1}, x\\rangle
                = \\Pi_K\\Big(\\frac1t \\sum_{s \\le t} x_s
                  - \\frac{G_t + g_t}{\\lambda t}\\Big)

    (an isotropic quadratic, so the Euclidean projection is the constrained argmin;
    no step size). The optimistic FTRL lemma bounds the regret by
    ``sum_t ||g_t - M_t||^2 / (lambda t)`` up to a constant, i.e. ``O((sigma_max^2 +
    Sigma_max^2)/lambda log T)`` in the SEA model: Sachs, Hadiji, van Erven, Guzman,
    "Between stochastic and adversarial online convex optimization: improved regret
    bounds via smoothness", NeurIPS 2022 (their strongly convex theorem; the
    surrogate construction, theorem number and constants from memory, unverified).
    Chen et al. (2023) attain the same order with optimistic OMD
    (:func:`optimistic_omd` with ``curvature='strongly_convex'``).
    """
    check_positive(strong_convexity, "strong_convexity")

    def init(key):
        x = center(domain)
        return OptimisticFTRLSCState(
            x, jnp.zeros_like(x), jnp.zeros_like(x), jnp.zeros((), x.dtype)
        )

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        t = state.t + 1
        cum = state.cum_grad + g
        points = state.cum_point + state.x
        x = project(domain, points / t - (cum + g) / (strong_convexity * t))
        return OptimisticFTRLSCState(x, cum, points, t)

    return Learner(init, _act_fn(), update)


class OptimisticFTALState(NamedTuple):
    """Optimistic follow-the-approximate-leader (exp-concave surrogates)."""

    x: Array  # [d] the point to play
    matrix: Array  # [d, d] epsilon I + beta sum_s g_s g_s^T
    vector: Array  # [d] sum_s (beta g_s g_s^T x_s - g_s)
    hint: Array  # [d] M_{t+1} = g_t


def optimistic_ftal(
    domain: Domain,
    *,
    beta: float | None = None,
    epsilon: float = 1.0,
    lipschitz: float = 1.0,
    exp_concavity: float = 1.0,
) -> Learner:
    """Optimistic follow-the-approximate-leader for exp-concave losses on a ball.

    Each loss is replaced by its exp-concave lower model at the played point
    (Hazan 2016, Lemma 4.3, number from memory:
    ``f(x) >= f(x_s) + <g_s, x - x_s> + beta/2 <g_s, x - x_s>^2`` for
    ``beta = 1/2 min(1/(4 G D), alpha)``),
    ``l_s(x) = <g_s, x> + beta/2 <g_s, x - x_s>^2``, and FTRL with the regulariser
    ``epsilon ||x||^2 / 2`` is run on these models plus the hint ``M_{t+1} = g_t``:

    .. math::

        x_{t+1} = \\arg\\min_{\\|x\\| \\le R}\\ \\tfrac12 x^T A_t x
                  - \\langle b_t - M_{t+1}, x\\rangle,\\quad
        A_t = \\varepsilon I + \\beta \\sum_{s \\le t} g_s g_s^T,\\
        b_t = \\sum_{s \\le t} (\\beta g_s g_s^T x_s - g_s),

    solved exactly by the trust-region solver (:func:`envs.oco.trust_region_min`).
    Without the hint this is FTAL (Hazan, Agarwal, Kale, "Logarithmic regret
    algorithms for online convex optimization", 2007), ``O(d log T)`` regret; the
    hint is the optimistic FTRL of Rakhlin and Sridharan (2013). Chen et al. (2023)
    obtain ``O(d log(sigma^2_{1:T} + Sigma^2_{1:T}))`` in the SEA model with the
    optimistic OMD analogue (:func:`optimistic_omd`, ``curvature='exp_concave'``,
    whose matrix uses ``g_s - M_s``); that this FTRL form attains the same SEA bound
    is not claimed here (not verified against a paper).
    """
    if domain.kind != "ball":
        raise ValueError("optimistic_ftal supports ball domains")
    if beta is None:
        beta = 0.5 * min(1.0 / (4 * lipschitz * diameter(domain)), exp_concavity)
    check_positive(beta, "beta")
    check_positive(epsilon, "epsilon")

    def init(key):
        x = center(domain)
        d = x.shape[0]
        return OptimisticFTALState(
            x, epsilon * jnp.eye(d, dtype=x.dtype), jnp.zeros_like(x), jnp.zeros_like(x)
        )

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        outer = jnp.outer(g, g)
        matrix = state.matrix + beta * outer
        vector = state.vector + beta * (outer @ state.x) - g
        x = trust_region_min(matrix, vector - g, domain.radius)  # hint M_{t+1} = g_t
        return OptimisticFTALState(x, matrix, vector, g)

    return Learner(init, _act_fn(), update)


def check_step_size(value, name: str = "step_size"):
    """Re-exported validation for step sizes (negative or zero: ValueError)."""
    return check_positive(value, name)


__all__ = [
    "adagrad",
    "check_nonnegative",
    "exponentiated_gradient",
    "ftl",
    "ftrl",
    "ogd",
    "omd",
    "ons",
    "optimistic_ftal",
    "optimistic_ftrl",
    "optimistic_ftrl_strongly_convex",
    "optimistic_omd",
]
