"""The environment protocol shared by every family.

An :class:`Env` holds no mutable state: ``params`` (the instance, a pytree) is kept apart
from ``env_state`` (what changes during a run), as in gymnax. The environment owns the
truth: each ``step`` returns, besides the learner's feedback, a :class:`StepInfo` (or a
family's own NamedTuple with a ``regret`` field) holding the exact expected instantaneous
regret against the environment's comparator, computed from its own parameters; the learner
never sees it.

* ``reset(key, params) -> (env_state, obs)``
* ``step(key, env_state, action, params) -> (env_state, obs, feedback, info)``
* ``params``: the default instance; ``None`` when the environment only draws random ones.
* ``sample_params(key) -> params``: draws a random instance (or ``None``).

The runner records the cumulative sum of every field of ``info`` on a grid of rounds, so a
field must be additive over rounds (instantaneous regret, an indicator of having played the
best arm, ...). A comparator that is only known in hindsight (the best fixed arm of an
adversarial sequence) is made additive by telescoping: see ``envs.bandits``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax

Array = jax.Array
PyTree = Any


class StepInfo(NamedTuple):
    """What the environment knows and the learner does not, for one round.

    Families with more to report define their own NamedTuple whose first field is
    ``regret``.
    """

    regret: Array  # [] exact expected instantaneous regret against the comparator


class Env(NamedTuple):
    """An environment: two pure functions, a default instance and an instance sampler."""

    reset: Callable[[jax.Array, PyTree], tuple[PyTree, PyTree]]
    step: Callable[[jax.Array, PyTree, Array, PyTree], tuple[PyTree, PyTree, PyTree, Any]]
    params: PyTree = None
    sample_params: Callable[[jax.Array], PyTree] | None = None
    name: str = "env"

    def with_params(self, params: PyTree) -> "Env":
        """The same environment on another instance."""
        return self._replace(params=params)
