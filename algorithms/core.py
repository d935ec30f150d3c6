"""The learner protocol shared by every family, and small shared numerics.

A learner is a factory's output: a :class:`Learner` of three pure functions that close
over the hyperparameters. The state is a pytree (a NamedTuple named after the
algorithm).

* ``init(key) -> state``
* ``act(key, state, obs) -> (action, state)``: all of the learner's randomness lives
  here; the key is consumed.
* ``update(state, obs, action, feedback) -> state``: deterministic.

Learners are written for ONE instance and ONE seed; the runner (``experiments.runner``)
applies ``vmap`` once over seeds, hyperparameter grids and instances.

Hyperparameters that fix a shape (``num_arms``) are Python ints; every other numeric
hyperparameter must be safe to trace, so that one ``vmap`` sweeps a grid of its values.
Factories therefore validate numeric hyperparameters only when they are concrete (see
:func:`check_positive`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

# Validation and dtype helpers live in envs/core.py, the bottom of the dependency graph
# (envs import nothing of the project); they are re-exported here for learners.
from envs.core import (  # noqa: F401
    check_in_unit_interval,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
    is_concrete,
    sample_categorical,
)

Array = jax.Array
Key = jax.Array  # a typed PRNG key, ``jax.random.key(seed)``
PyTree = Any


class Learner(NamedTuple):
    """A learner: three pure functions (see the module docstring)."""

    init: Callable[[Key], PyTree]
    act: Callable[[Key, PyTree, PyTree], tuple[Array, PyTree]]
    update: Callable[[PyTree, PyTree, Array, PyTree], PyTree]


# --------------------------------------------------------------------------------------
# Shared numerics.
# --------------------------------------------------------------------------------------


def check_no_obs(obs) -> None:
    """Multi-armed bandit learners take no observation: ``obs`` must be ``()``."""
    if obs != ():
        raise ValueError(f"multi-armed bandit learners take obs == (), got {obs!r}")


def safe_log(x: Array, eps: float = 1e-30) -> Array:
    """``log(max(x, eps))``: finite at 0."""
    return jnp.log(jnp.maximum(x, eps))


def bernoulli_kl(p: Array, q: Array, eps: float = 1e-15) -> Array:
    """KL(Ber(p) || Ber(q)) with the convention 0 log 0 = 0; q is clipped to
    (eps, 1-eps).
    """
    q = jnp.clip(q, eps, 1.0 - eps)
    t1 = jnp.where(p > 0, p * (safe_log(p) - jnp.log(q)), 0.0)
    t2 = jnp.where(p < 1, (1.0 - p) * (safe_log(1.0 - p) - jnp.log1p(-q)), 0.0)
    return t1 + t2


def argmax_tiebreak(key: Key | None, values: Array) -> Array:
    """Argmax; ties broken uniformly at random when ``key`` is given, else by lowest
    index.
    """
    if key is None:
        return jnp.argmax(values).astype(jnp.int32)
    noise = jax.random.uniform(key, values.shape, dtype=jnp.result_type(values, float))
    best = values == jnp.max(values)
    return jnp.argmax(jnp.where(best, noise + 1.0, 0.0)).astype(jnp.int32)


def lockstep_cond(compute: Callable[..., Any]) -> Callable[..., Any]:
    """``f(pred, cached, *operands) = compute(*operands) if pred else cached``, whose
    batching rule keeps ONE ``lax.cond`` for the whole batch.

    Under ``vmap`` a ``lax.cond`` on a batched predicate becomes a ``select`` that
    evaluates both branches for every element. Here the batched rule computes (for
    the elements whose predicate holds, keeping ``cached`` elsewhere) only when some
    element's predicate holds: with seeds run in lockstep, as in the runner, a rare
    expensive update (an inverse refresh, a one-off fit) runs only when it is due.
    Same values as the unbatched rule. ``cached`` is an array with the shape of
    ``compute``'s output.
    """

    @jax.custom_batching.custom_vmap
    def f(pred, cached, *operands):
        return jax.lax.cond(pred, lambda: compute(*operands), lambda: cached)

    @f.def_vmap
    def _f_vmap(axis_size, in_batched, pred, cached, *operands):
        def batched(x, is_batched):
            return x if is_batched else jnp.broadcast_to(x, (axis_size, *x.shape))

        pred, cached, *operands = jax.tree.map(
            batched, (pred, cached, *operands), tuple(in_batched)
        )

        def computed():
            select = pred.reshape(pred.shape + (1,) * (cached.ndim - 1))
            return jnp.where(select, jax.vmap(compute)(*operands), cached)

        return jax.lax.cond(jnp.any(pred), computed, lambda: cached), True

    return f
