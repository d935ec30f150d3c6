"""Offline bandit policies from a logged dataset: pessimism (LCB) and greedy.

Both take the dataset's sufficient statistics ``counts [S, K]`` and ``reward_sums
[S, K]`` (a multi-armed bandit is ``S = 1``) and return a policy ``[S, K]`` of action
distributions: a context with no data gets the uniform distribution.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from algorithms.core import check_in_unit_interval

Array = jax.Array


def _argmax_policy(scores: Array, seen: Array) -> Array:
    """One-hot of the row-wise argmax of ``scores`` over seen arms (ties: lowest
    index); uniform in a context with no seen arm."""
    num_arms = scores.shape[-1]
    masked = jnp.where(seen, scores, -jnp.inf)
    onehot = jax.nn.one_hot(jnp.argmax(masked, axis=-1), num_arms, dtype=scores.dtype)
    uniform = jnp.full_like(scores, 1.0 / num_arms)
    return jnp.where(jnp.any(seen, axis=-1, keepdims=True), onehot, uniform)


def lcb_penalty(counts: Array, delta, num_cells: int | None = None) -> Array:
    """``b(s, a) = sqrt(log(2 S K / delta) / (2 N(s, a)))`` (Hoeffding for rewards in
    [0, 1], union bound over the ``S K`` cells); ``+inf`` where ``N = 0``."""
    cells = counts.size if num_cells is None else num_cells
    log_term = jnp.log(2.0 * cells / jnp.asarray(delta, counts.dtype))
    safe = jnp.maximum(counts, 1.0)
    return jnp.where(counts > 0, jnp.sqrt(log_term / (2.0 * safe)), jnp.inf)


def lcb_policy(counts: Array, reward_sums: Array, *, delta=0.01) -> Array:
    """Pessimism in the face of uncertainty: the arm with the best lower bound.

    .. math::

        \\hat\\pi(s) = \\arg\\max_a \\; \\hat r(s, a) - b(s, a), \\qquad
        \\hat r(s, a) = \\frac{\\sum r}{N(s, a)},

    with the Hoeffding penalty :func:`lcb_penalty` (unseen arms excluded).

    References:
      Rashidinejad, Zhu, Ma, Jiao and Russell, "Bridging Offline Reinforcement
      Learning and Imitation Learning: A Tale of Pessimism", NeurIPS 2021: Algorithm 1
      (LCB for multi-armed bandits) and its contextual version; the sub-optimality is
      ``O~(sqrt(S (C* - 1) / N) + S / N)`` for contextual bandits, so ``1 / N`` for
      expert data (``C* = 1``) and ``1 / sqrt(N)`` under uniform coverage (theorem
      numbers and the exact penalty constant from memory, unverified).
    """
    check_in_unit_interval(delta, "delta", open_left=True)
    seen = counts > 0
    mean = reward_sums / jnp.maximum(counts, 1.0)
    penalty = jnp.where(seen, lcb_penalty(counts, delta), 0.0)
    return _argmax_policy(mean - penalty, seen)


def greedy_policy(counts: Array, reward_sums: Array) -> Array:
    """The empirical-best arm of each context (unseen arms excluded): the baseline
    without pessimism."""
    seen = counts > 0
    return _argmax_policy(reward_sums / jnp.maximum(counts, 1.0), seen)
