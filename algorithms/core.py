"""The learner protocol shared by every family, and small shared numerics.

A learner is a factory's output: a :class:`Learner` of three pure functions that close over
the hyperparameters. The state is a pytree (a NamedTuple named after the algorithm).

* ``init(key) -> state``
* ``act(key, state, obs) -> (action, state)``: all of the learner's randomness lives here;
  the key is consumed.
* ``update(state, obs, action, feedback) -> state``: deterministic.

Learners are written for ONE instance and ONE seed; the runner (``experiments.runner``)
applies ``vmap`` once over seeds, hyperparameter grids and instances.

Hyperparameters that fix a shape (``num_arms``) are Python ints; every other numeric
hyperparameter must be safe to trace, so that one ``vmap`` sweeps a grid of its values.
Factories therefore validate numeric hyperparameters only when they are concrete (see
:func:`check_positive`).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array
Key = jax.Array  # a typed PRNG key, ``jax.random.key(seed)``
PyTree = Any


class Learner(NamedTuple):
    """A learner: three pure functions (see the module docstring)."""

    init: Callable[[Key], PyTree]
    act: Callable[[Key, PyTree, PyTree], tuple[Array, PyTree]]
    update: Callable[[PyTree, PyTree, Array, PyTree], PyTree]


# ---------------------------------------------------------------------------------------
# Input validation: a clear ValueError before anything is traced.
# ---------------------------------------------------------------------------------------


def is_concrete(value: Any) -> bool:
    """True when ``value`` is a Python number or a concrete (non-traced) array."""
    return not isinstance(value, jax.core.Tracer)


def check_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Validate a shape-fixing integer hyperparameter (``num_arms``, ``horizon``)."""
    if isinstance(value, bool) or not isinstance(value, int | jnp.integer):
        raise ValueError(f"{name} must be a Python int (it fixes a shape), got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_concrete(value: Any, name: str, ok: Callable[[Array], Array], what: str):
    if is_concrete(value):
        arr = jnp.asarray(value)
        if not bool(jnp.all(ok(arr))):
            raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def check_positive(value: Any, name: str):
    """Validate ``value > 0`` when it is concrete; traced values pass through untouched."""
    return _check_concrete(value, name, lambda x: x > 0, "> 0")


def check_nonnegative(value: Any, name: str):
    """Validate ``value >= 0`` when concrete."""
    return _check_concrete(value, name, lambda x: x >= 0, ">= 0")


def check_in_unit_interval(value: Any, name: str, *, open_left: bool = False):
    """Validate ``value`` in [0, 1] (or (0, 1] with ``open_left``) when concrete."""
    if open_left:
        return _check_concrete(value, name, lambda x: (x > 0) & (x <= 1), "in (0, 1]")
    return _check_concrete(value, name, lambda x: (x >= 0) & (x <= 1), "in [0, 1]")


# ---------------------------------------------------------------------------------------
# Shared numerics.
# ---------------------------------------------------------------------------------------


def float_dtype():
    """The default floating dtype: float64 under ``jax_enable_x64``, else float32."""
    return jnp.result_type(float)


def safe_log(x: Array, eps: float = 1e-30) -> Array:
    """``log(max(x, eps))``: finite at 0."""
    return jnp.log(jnp.maximum(x, eps))


def bernoulli_kl(p: Array, q: Array, eps: float = 1e-15) -> Array:
    """KL(Ber(p) || Ber(q)) with the convention 0 log 0 = 0; q is clipped to (eps, 1-eps)."""
    q = jnp.clip(q, eps, 1.0 - eps)
    t1 = jnp.where(p > 0, p * (safe_log(p) - jnp.log(q)), 0.0)
    t2 = jnp.where(p < 1, (1.0 - p) * (safe_log(1.0 - p) - jnp.log1p(-q)), 0.0)
    return t1 + t2


def sample_categorical(key: Key, probs: Array) -> Array:
    """One draw from the distribution ``probs`` ([K], summing to 1), by inverse CDF.

    A single uniform per draw (cheaper under ``vmap`` than Gumbel-max, which needs K).
    """
    u = jax.random.uniform(key, (), dtype=probs.dtype)
    cdf = jnp.cumsum(probs)
    index = jnp.sum(cdf < u * cdf[-1])
    return jnp.minimum(index, probs.shape[0] - 1).astype(jnp.int32)


def argmax_tiebreak(key: Key | None, values: Array) -> Array:
    """Argmax; ties broken uniformly at random when ``key`` is given, else by lowest index."""
    if key is None:
        return jnp.argmax(values).astype(jnp.int32)
    noise = jax.random.uniform(key, values.shape, dtype=jnp.result_type(values, float))
    best = values == jnp.max(values)
    return jnp.argmax(jnp.where(best, noise + 1.0, 0.0)).astype(jnp.int32)
