"""OCO learners as ``optax.GradientTransformation``s, so they compose with optax.

* :func:`ogd_transform`: unconstrained OGD with the ``eta / sqrt(t)`` schedule, i.e.
  ``optax.sgd`` with a schedule (reused, not rewritten).
* :func:`adagrad_transform`: ``optax.adagrad`` with the parametrisation of
  :func:`algorithms.oco.gradient.adagrad` (``initial_accumulator_value = delta``,
  ``eps = 0``).
* :func:`kt_transform`: KT coin betting (Hilbert-space version over the flattened
  parameters); optax has no KT bettor (``optax.contrib.cocob`` is COCOB-Backprop, a
  different algorithm). Updates are ``x_{t+1} - x_t`` relative to the initial point.

The plain learners equal these on an unconstrained (large enough) domain; tests check.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from algorithms.core import Array, check_positive


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
