"""The environment protocol shared by every family.

An :class:`Env` holds no mutable state: ``params`` (the instance, a pytree) is kept
apart from ``env_state`` (what changes during a run), as in gymnax. The environment owns
the truth: each ``step`` returns, besides the learner's feedback, a :class:`StepInfo`
(or a family's own NamedTuple with a ``regret`` field) holding the exact expected
instantaneous regret against the environment's comparator, computed from its own
parameters; the learner never sees it.

* ``reset(key, params) -> (env_state, obs)``
* ``step(key, env_state, action, params) -> (env_state, obs, feedback, info)``
* ``params``: the default instance; ``None`` when the environment only draws random
  ones.
* ``sample_params(key) -> params``: draws a random instance (or ``None``).

The runner records the cumulative sum of every field of ``info`` on a grid of rounds, so
a field must be additive over rounds (instantaneous regret, an indicator of having
played the best arm, ...). A comparator that is only known in hindsight (the best fixed
arm of an adversarial sequence) is made additive by telescoping: see ``envs.bandits``.

A quantity that is a property of the current iterate rather than a per-round increment
(a duality gap of the last iterate, the suboptimality of the policy planned after ``t``
exploration episodes) is a *snapshot* field: the info NamedTuple lists it in a class
attribute ``SNAPSHOT_FIELDS`` and the runner records its value at the recorded round
instead of its cumulative sum (see :func:`snapshot_fields`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
PyTree = Any


class StepInfo(NamedTuple):
    """What the environment knows and the learner does not, for one round.

    Families with more to report define their own NamedTuple whose first field is
    ``regret``.
    """

    regret: Array  # [] exact expected instantaneous regret against the comparator


def snapshot_fields(info: Any) -> tuple[str, ...]:
    """The fields of ``info`` recorded as their current value, not a cumulative sum.

    An info NamedTuple declares them in a class attribute, e.g.::

        class GameInfo(NamedTuple):
            regret: Array        # summed over rounds
            duality_gap: Array   # recorded as is (last iterate)
            SNAPSHOT_FIELDS = ("duality_gap",)

    (A class attribute with a value but no annotation is not a NamedTuple field.)
    """
    names = tuple(getattr(type(info), "SNAPSHOT_FIELDS", ()))
    fields = getattr(info, "_fields", ())
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise ValueError(f"SNAPSHOT_FIELDS names unknown info fields {unknown}")
    return names


class Env(NamedTuple):
    """An environment: two pure functions, a default instance and an instance
    sampler.
    """

    reset: Callable[[jax.Array, PyTree], tuple[PyTree, PyTree]]
    step: Callable[
        [jax.Array, PyTree, Array, PyTree], tuple[PyTree, PyTree, PyTree, Any]
    ]
    params: PyTree = None
    sample_params: Callable[[jax.Array], PyTree] | None = None
    name: str = "env"

    def with_params(self, params: PyTree) -> Env:
        """The same environment on another instance."""
        return self._replace(params=params)


# --------------------------------------------------------------------------------------
# Input validation (shared by envs and algorithms): a clear ValueError before tracing.
# --------------------------------------------------------------------------------------


def is_concrete(value: Any) -> bool:
    """True when ``value`` is a Python number or a concrete (non-traced) array."""
    return not isinstance(value, jax.core.Tracer)


def check_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Validate a shape-fixing integer hyperparameter (``num_arms``, ``horizon``)."""
    if isinstance(value, bool) or not isinstance(value, int | jnp.integer):
        raise ValueError(
            f"{name} must be a Python int (it fixes a shape), got {value!r}"
        )
    if value < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)


def _check_concrete(value: Any, name: str, ok: Callable[[Array], Array], what: str):
    if is_concrete(value):
        # NumPy, not jnp: inside a jit trace even a constant jnp comparison is staged.
        arr = np.asarray(value)
        if not bool(np.all(ok(arr))):
            raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def check_positive(value: Any, name: str):
    """Validate ``value > 0`` when it is concrete; traced values pass through
    untouched.
    """
    return _check_concrete(value, name, lambda x: x > 0, "> 0")


def check_nonnegative(value: Any, name: str):
    """Validate ``value >= 0`` when concrete."""
    return _check_concrete(value, name, lambda x: x >= 0, ">= 0")


def check_in_unit_interval(value: Any, name: str, *, open_left: bool = False):
    """Validate ``value`` in [0, 1] (or (0, 1] with ``open_left``) when concrete."""
    if open_left:
        return _check_concrete(value, name, lambda x: (x > 0) & (x <= 1), "in (0, 1]")
    return _check_concrete(value, name, lambda x: (x >= 0) & (x <= 1), "in [0, 1]")


# --------------------------------------------------------------------------------------
# Shared numerics.
# --------------------------------------------------------------------------------------


class KahanSum(NamedTuple):
    """A running sum with Kahan's compensation term (Kahan 1965); fields are pytrees."""

    total: Any  # the rounded running sum
    compensation: Any  # minus the low-order part lost by ``total``

    @property
    def value(self):
        """The compensated sum ``total - compensation``."""
        return jax.tree.map(lambda t, c: t - c, self.total, self.compensation)


def kahan_add(acc: KahanSum, value) -> KahanSum:
    """Adds ``value`` (an array or a pytree like ``acc.total``) to a compensated sum.

    ``(total - acc.total)`` is what the addition actually added; minus ``corrected`` it
    is the rounding error, subtracted again on the next call.
    """
    corrected = jax.tree.map(lambda v, c: v - c, value, acc.compensation)
    total = jax.tree.map(lambda s, v: s + v, acc.total, corrected)
    compensation = jax.tree.map(
        lambda t, s, v: (t - s) - v, total, acc.total, corrected
    )
    return KahanSum(total, compensation)


def float_dtype():
    """The default floating dtype: float64 under ``jax_enable_x64``, else float32."""
    return jnp.result_type(float)


def sample_categorical(key: jax.Array, probs: Array) -> Array:
    """One draw from the distribution ``probs`` ([K], summing to 1), by inverse CDF.

    A single uniform per draw (cheaper under ``vmap`` than Gumbel-max, which needs K).
    """
    u = jax.random.uniform(key, (), dtype=probs.dtype)
    cdf = jnp.cumsum(probs)
    index = jnp.sum(cdf < u * cdf[-1])
    return jnp.minimum(index, probs.shape[0] - 1).astype(jnp.int32)
