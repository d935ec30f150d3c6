"""Follow the (regularised) leader on the *exact* losses, not their linearisations.

Linearised FTRL (:func:`algorithms.oco.gradient.ftrl`) plays

.. math:: x_{t+1} = \\arg\\min_{x \\in K}\\ \\langle \\textstyle\\sum_{s \\le t} g_s,
          x\\rangle + R(x) / \\eta,

using only the gradients ``g_s`` at the played points; it has no memory of the
curvature of the losses and needs the regulariser for stability. FTRL on the exact
losses plays

.. math:: x_{t+1} = \\arg\\min_{x \\in K}\\ \\textstyle\\sum_{s \\le t} f_s(x)
          + \\|x - x_1\\|^2 / (2 \\eta)

(``eta = None``: follow the leader, no regulariser). With ``lambda``-strongly convex
losses the cumulative loss is ``lambda t``-strongly convex, FTL is stable on its own,
and on every sequence ``Regret_T <= sum_t ||g_t||^2 / (2 lambda t) <= G^2 / (2
lambda) (1 + ln T)`` (strong FTRL lemma; Orabona 2019, Section 7.? "FTRL with
strongly convex losses", Corollary 7.2x; number from memory, unverified; the bound is
checked on every run in the tests). Linearised FTL on the same quadratic losses is
the FTL of linear losses and can have linear regret.

Learners here read ``feedback.loss_params`` (an ``envs.oco`` loss: ``QuadraticLoss``,
``RegressionLoss``, or any pytree understood by a user ``value_fn``):

* :func:`ftrl_quadratic`: ``f_s = lambda_s/2 ||x - c_s||^2``, running sufficient
  statistics ``(sum lambda_s, sum lambda_s c_s)``, closed-form argmin (a projection of a
  weighted mean: the Hessian is a multiple of the identity, so the Euclidean projection
  is the constrained argmin).
* :func:`ftrl_squared_loss`: ``f_s = (<a_s, x> - b_s)^2 / 2`` on a ball, statistics
  ``(sum a a^T, sum b a)``, argmin by the trust-region solver of the env
  (:func:`envs.oco.trust_region_min`): FTRL on the squared loss is online ridge
  regression constrained to the ball.
* :func:`ftrl_exact`: any convex ``value_fn(theta, x)``; the past loss parameters are
  kept in a horizon-sized buffer with a mask, and the argmin is approximated by a fixed
  number of projected gradient steps on the average cumulative loss, warm-started at
  the previous leader (fixed shape per round; ``O(T d)`` memory, ``O(t d)`` per step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import Array, Learner, check_int, check_positive
from algorithms.oco.gradient import _act_fn
from envs.oco import Domain, center, project, trust_region_min


def _inverse_step(step_size):
    """``1 / eta`` (0 for FTL, ``step_size=None``)."""
    if step_size is None:
        return 0.0
    check_positive(step_size, "step_size")
    return 1.0 / step_size


class FTRLQuadraticState(NamedTuple):
    """FTRL on quadratic losses: running sufficient statistics."""

    x: Array  # [d] the leader to play
    weight: Array  # [] sum_s lambda_s
    weighted_sum: Array  # [d] sum_s lambda_s c_s


def ftrl_quadratic(domain: Domain, *, step_size: float | None = None) -> Learner:
    """FTL / FTRL on quadratic losses ``f_s(x) = lambda_s/2 ||x - c_s||^2``.

    .. math::

        x_{t+1} = \\Pi_K\\Big(\\frac{\\sum_{s \\le t}\\lambda_s c_s + x_1/\\eta}
                                    {\\sum_{s \\le t}\\lambda_s + 1/\\eta}\\Big)

    (the objective is ``W/2 ||x - m||^2 + const``, an isotropic quadratic, so its
    constrained argmin is the Euclidean projection of ``m``). ``step_size=None`` is
    FTL (``1/eta = 0``; ``x_1`` = the domain's centre until the first loss).

    Args:
        domain: any domain (static).
        step_size: eta of the regulariser ``||x - x_1||^2 / (2 eta)``, or None (FTL).

    Returns:
        A Learner with :class:`FTRLQuadraticState`; reads ``feedback.loss_params``
        (``envs.oco.QuadraticLoss``).

    References:
        Orabona, "A Modern Introduction to Online Learning", 2019, Chapter 7 (FTL /
        FTRL with strongly convex losses: ``sum_t ||g_t||^2/(2 lambda t)``; number
        from memory, unverified). Hazan, "Introduction to Online Convex Optimization",
        2016, Chapter 5 (FTL / FTRL).
    """
    inv_eta = _inverse_step(step_size)

    def leader(weight, weighted_sum):
        x1 = center(domain)
        total = weight + inv_eta
        mean = (weighted_sum + inv_eta * x1) / jnp.where(total > 0, total, 1.0)
        return jnp.where(total > 0, project(domain, mean), x1)

    def init(key):
        x = center(domain)
        z = jnp.zeros((), x.dtype)
        return FTRLQuadraticState(leader(z, jnp.zeros_like(x)), z, jnp.zeros_like(x))

    def update(state, obs, action, feedback):
        theta = feedback.loss_params
        weight = state.weight + theta.curvature
        weighted_sum = state.weighted_sum + theta.curvature * theta.center
        return FTRLQuadraticState(leader(weight, weighted_sum), weight, weighted_sum)

    return Learner(init, _act_fn(), update)


class FTRLSquaredState(NamedTuple):
    """FTRL on squared losses: second moments."""

    x: Array  # [d]
    second_moment: Array  # [d, d] sum_s a_s a_s^T
    cross: Array  # [d] sum_s b_s a_s


def ftrl_squared_loss(domain: Domain, *, step_size: float | None = None) -> Learner:
    """FTL / FTRL on ``f_s(x) = (<a_s, x> - b_s)^2 / 2`` over a ball.

    .. math::

        x_{t+1} = \\arg\\min_{\\|x\\| \\le R} \\tfrac12 x^T\\Big(\\sum_{s \\le t}
        a_s a_s^T + I/\\eta\\Big) x - \\Big\\langle \\sum_{s \\le t} b_s a_s,
        x\\Big\\rangle,

    solved exactly (eigen-decomposition and a fixed-iteration bisection on the
    trust-region multiplier, :func:`envs.oco.trust_region_min`). With ``eta`` this is
    ridge regression constrained to the ball (``x_1 = 0``); ``step_size=None`` is FTL
    (the least-squares fit, minimum-norm while the data are rank deficient).

    References:
        Orabona 2019, Chapter 7 (FTRL); Cesa-Bianchi and Lugosi, "Prediction, Learning,
        and Games", 2006, Section 11.7 (ridge regression as FTRL; section number from
        memory, unverified).
    """
    if domain.kind != "ball":
        raise ValueError("ftrl_squared_loss supports ball domains")
    inv_eta = _inverse_step(step_size)

    def init(key):
        x = center(domain)
        d = x.shape[0]
        return FTRLSquaredState(x, jnp.zeros((d, d), x.dtype), jnp.zeros_like(x))

    def update(state, obs, action, feedback):
        theta = feedback.loss_params
        a, b = theta.features, theta.label
        second = state.second_moment + jnp.outer(a, a)
        cross = state.cross + b * a
        d = a.shape[0]
        x = trust_region_min(
            second + inv_eta * jnp.eye(d, dtype=a.dtype), cross, domain.radius
        )
        return FTRLSquaredState(x, second, cross)

    return Learner(init, _act_fn(), update)


class FTRLExactState(NamedTuple):
    """FTRL on a buffer of past losses."""

    x: Array  # [d] the (approximate) leader
    buffer: Any  # loss parameters, every leaf [T, ...]
    mask: Array  # [T] 1.0 where a loss is stored
    t: Array  # [] int32 rounds seen


def ftrl_exact(
    domain: Domain,
    value_fn: Callable[[Any, Array], Array],
    loss_params_example: Any,
    horizon: int,
    *,
    step_size: float | None = None,
    smoothness: float = 1.0,
    inner_steps: int = 30,
) -> Learner:
    """FTL / FTRL on the exact cumulative loss of any convex, smooth loss class.

    .. math::

        x_{t+1} \\approx \\arg\\min_{x \\in K} \\Phi_t(x),\\quad
        \\Phi_t(x) = \\frac1t\\Big(\\sum_{s \\le t} f_s(x)
                     + \\frac{\\|x - x_1\\|^2}{2\\eta}\\Big),

    by ``inner_steps`` projected gradient steps ``x <- Pi_K(x - nabla Phi_t(x) / L)``
    from ``x_t`` with ``L = smoothness + 1/(eta t)`` (``Phi_t`` is ``L``-smooth when
    each ``f_s`` is ``smoothness``-smooth); the step is monotone, and converges
    linearly when ``Phi_t`` is strongly convex (Nesterov 2004, Theorem 2.2.8 for the
    gradient mapping; number from memory). The losses are kept in a buffer of
    ``horizon`` slots (the learner raises no error beyond ``horizon``: later losses
    overwrite the last slot, so size ``horizon`` to the run).

    Args:
        domain: the feasible set (static).
        value_fn: ``(theta, x) -> f(x)`` for one loss's parameters ``theta``
            (``feedback.loss_params``); differentiated by ``jax.grad``.
        loss_params_example: one loss's parameters (fixes the buffer's shapes).
        horizon: buffer length T (static).
        step_size: eta of ``||x - x_1||^2/(2 eta)``, or None (FTL).
        smoothness: a bound on the smoothness of each ``f_s`` (sets the inner step).
        inner_steps: projected gradient steps per round (static).

    Returns:
        A Learner with :class:`FTRLExactState`.

    References:
        Orabona 2019, Chapter 7; Hazan 2016, Chapter 5 (FTRL on the losses
        themselves rather than on their linearisations; numbers from memory).
    """
    horizon = check_int(horizon, "horizon")
    inner_steps = check_int(inner_steps, "inner_steps")
    check_positive(smoothness, "smoothness")
    inv_eta = _inverse_step(step_size)

    def init(key):
        x = center(domain)
        buffer = jax.tree.map(
            lambda leaf: jnp.zeros((horizon, *jnp.shape(leaf)), jnp.result_type(leaf)),
            loss_params_example,
        )
        return FTRLExactState(
            x, buffer, jnp.zeros((horizon,), x.dtype), jnp.zeros((), jnp.int32)
        )

    def objective(x, buffer, mask, count):
        values = jax.vmap(value_fn, (0, None))(buffer, x)
        reg = 0.5 * inv_eta * jnp.sum((x - center(domain)) ** 2)
        return (jnp.sum(mask * values) + reg) / count

    def update(state, obs, action, feedback):
        slot = jnp.minimum(state.t, horizon - 1)
        buffer = jax.tree.map(
            lambda b, v: b.at[slot].set(jnp.asarray(v, b.dtype)),
            state.buffer,
            feedback.loss_params,
        )
        mask = state.mask.at[slot].set(1.0)
        t = state.t + 1
        count = jnp.sum(mask)
        lipschitz = smoothness + inv_eta / count
        grad_fn = jax.grad(objective)

        def body(_, x):
            return project(domain, x - grad_fn(x, buffer, mask, count) / lipschitz)

        x = jax.lax.fori_loop(0, inner_steps, body, state.x)
        return FTRLExactState(x, buffer, mask, t)

    return Learner(init, _act_fn(), update)
