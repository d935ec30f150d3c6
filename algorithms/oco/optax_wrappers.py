"""OCO learners as ``optax.GradientTransformation``s, so they compose with optax.

* :func:`ogd_transform`: unconstrained OGD with the ``eta / sqrt(t)`` schedule, i.e.
  ``optax.sgd`` with a schedule (reused, not rewritten).
* :func:`adagrad_transform`: ``optax.adagrad`` with the parametrisation of
  :func:`algorithms.oco.gradient.adagrad` (``initial_accumulator_value = delta``,
  ``eps = 0``).
* :func:`kt_transform`: KT coin betting (Hilbert-space version over the flattened
  parameters); optax has no KT bettor (``optax.contrib.cocob`` is COCOB-Backprop, a
  different algorithm). Updates are ``x_{t+1} - x_t`` relative to the initial point.
* :func:`hedge_transform`: Hedge / exponentiated gradient on the simplex
  (:func:`algorithms.oco.experts.hedge`, anytime or fixed rate), the prior being the
  initial params; params stay on the simplex.
* :func:`ons_transform`: Online Newton Step (:func:`algorithms.oco.gradient.ons`) over
  the flattened parameters, optionally projected in the ``A_t``-norm onto a ball.

The plain learners equal these on an unconstrained (large enough) domain; tests check.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from algorithms.core import Array, check_positive
from envs.oco import project_ball_in_norm


def ogd_transform(step_size: float) -> optax.GradientTransformation:
    """``x_{t+1} = x_t - step_size / sqrt(t) g_t`` (``t = 1, 2, ...``)."""
    check_positive(step_size, "step_size")
    return optax.sgd(lambda count: step_size / jnp.sqrt(count + 1.0))


def adagrad_transform(step_size: float, delta: float = 1e-8):
    """``x_{t+1} = x_t - step_size g_t / sqrt(delta + sum_s g_s^2)``."""
    check_positive(step_size, "step_size")
    return optax.adagrad(step_size, initial_accumulator_value=delta, eps=0.0)


class KTTransformState(NamedTuple):
    """KT coin betting over a pytree of parameters."""

    coin_sum: optax.Params  # like params: sum of -g / G
    wealth: Array  # []
    offset: optax.Params  # like params: the current bet x_t - x_1
    count: Array  # [] rounds seen


def kt_transform(initial_wealth: float = 1.0, lipschitz: float = 1.0):
    """KT coin betting (:func:`algorithms.oco.parameter_free.kt_coin_betting`)."""
    check_positive(initial_wealth, "initial_wealth")
    check_positive(lipschitz, "lipschitz")

    def init_fn(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        leaf = jax.tree.leaves(params)[0]
        return KTTransformState(
            zeros,
            jnp.asarray(initial_wealth, leaf.dtype),
            zeros,
            jnp.zeros((), leaf.dtype),
        )

    def update_fn(updates, state, params=None):
        del params
        coin = jax.tree.map(lambda g: -g / lipschitz, updates)
        gain = sum(
            jnp.vdot(c, o)
            for c, o in zip(
                jax.tree.leaves(coin), jax.tree.leaves(state.offset), strict=True
            )
        )
        wealth = state.wealth + gain * lipschitz
        count = state.count + 1
        coin_sum = jax.tree.map(jnp.add, state.coin_sum, coin)
        offset = jax.tree.map(lambda s: s / (count + 1) * wealth / lipschitz, coin_sum)
        step = jax.tree.map(jnp.subtract, offset, state.offset)
        return step, KTTransformState(coin_sum, wealth, offset, count)

    return optax.GradientTransformation(init_fn, update_fn)


class HedgeTransformState(NamedTuple):
    """Hedge over a pytree of weights (all leaves together form one distribution)."""

    log_prior: optax.Params  # like params: log of the initial distribution
    cum_loss: optax.Params  # like params: L_t
    count: Array  # [] rounds seen


def hedge_transform(
    rate: str = "anytime", step_size: float | None = None
) -> optax.GradientTransformation:
    """Hedge as a gradient transformation: ``p_{t+1} ∝ p_1 e^{-eta_t L_t}``.

    The "gradients" are the loss vectors ``l_t`` (the gradient of ``<l_t, p>``); the
    update is ``p_{t+1} - p_t``, so ``optax.apply_updates`` keeps the params on the
    simplex (up to rounding) when they start there; the initial params are the prior
    (uniform: :func:`algorithms.oco.experts.hedge` exactly). ``rate='anytime'``:
    ``eta_t = sqrt(8 ln N / t)`` (Cesa-Bianchi and Lugosi 2006, Theorem 2.3; ``N`` the
    total number of entries); ``rate='fixed'``: ``eta = step_size``.
    """
    if rate not in ("anytime", "fixed"):
        raise ValueError(f"rate must be 'anytime' or 'fixed', got {rate!r}")
    if rate == "fixed":
        if step_size is None:
            raise ValueError("the fixed rate needs step_size")
        check_positive(step_size, "step_size")

    def init_fn(params):
        leaf = jax.tree.leaves(params)[0]
        log_prior = jax.tree.map(lambda p: jnp.log(jnp.maximum(p, 1e-300)), params)
        return HedgeTransformState(
            log_prior,
            jax.tree.map(jnp.zeros_like, params),
            jnp.zeros((), leaf.dtype),
        )

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("hedge_transform needs params (the current weights)")
        count = state.count + 1
        cum = jax.tree.map(jnp.add, state.cum_loss, updates)
        flat_cum, unravel = ravel_pytree(cum)
        flat_prior, _ = ravel_pytree(state.log_prior)
        if rate == "anytime":
            eta = jnp.sqrt(8 * np.log(flat_cum.shape[0]) / count)
        else:
            eta = step_size
        new = unravel(jax.nn.softmax(flat_prior - eta * flat_cum))
        step = jax.tree.map(jnp.subtract, new, params)
        return step, HedgeTransformState(state.log_prior, cum, count)

    return optax.GradientTransformation(init_fn, update_fn)


class ONSTransformState(NamedTuple):
    """Online Newton step over the flattened parameters."""

    matrix: Array  # [n, n] A_t = eps I + sum g g^T


def ons_transform(
    gamma: float, epsilon: float, radius: float | None = None
) -> optax.GradientTransformation:
    """Online Newton Step as a gradient transformation (Hazan, Agarwal, Kale 2007;
    Hazan 2016, Algorithm 12).

    .. math::

        A_t = \\varepsilon I + \\textstyle\\sum_{s \\le t} g_s g_s^T,\\quad
        x_{t+1} = \\Pi^{A_t}(x_t - A_t^{-1} g_t / \\gamma),

    over the flattened parameter vector (``n`` entries; ``O(n^3)`` per step: small
    models only). ``radius=None``: unconstrained; otherwise the generalised projection
    onto the Euclidean ball of that radius (:func:`envs.oco.project_ball_in_norm`),
    which needs ``params``. Equal to :func:`algorithms.oco.gradient.ons` on a ball.
    """
    check_positive(gamma, "gamma")
    check_positive(epsilon, "epsilon")
    if radius is not None:
        check_positive(radius, "radius")

    def init_fn(params):
        flat, _ = ravel_pytree(params)
        n = flat.shape[0]
        return ONSTransformState(epsilon * jnp.eye(n, dtype=flat.dtype))

    def update_fn(updates, state, params=None):
        g, unravel = ravel_pytree(updates)
        a = state.matrix + jnp.outer(g, g)
        a = 0.5 * (a + a.T)
        w, q = jnp.linalg.eigh(a)
        newton = -(q @ ((q.T @ g) / w)) / gamma
        if radius is not None:
            if params is None:
                raise ValueError("ons_transform with a radius needs params")
            x, _ = ravel_pytree(params)
            newton = project_ball_in_norm(w, q, x + newton, radius) - x
        return unravel(newton), ONSTransformState(a)

    return optax.GradientTransformation(init_fn, update_fn)
