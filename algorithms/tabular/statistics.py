"""Incremental visit statistics of tabular episodic learners, and a fixed-cost Gamma.

Every model-based tabular learner keeps the same sufficient statistics of its history,
updated once per episode by adding one-hot masks of the visited ``(h, s, a, s')``
(``O(H S^2 A)``, one fused pass), so the per-episode cost does not grow with the
episode index:

* ``visits [H, S, A]``: ``N_h(s, a)``, the number of times ``(s, a)`` was played at
  step ``h``;
* ``transition_counts [H, S, A, S]``: ``N_h(s, a, s')`` (the last step has no observed
  next state);
* ``reward_sums [H, S, A]``: the sum of the observed rewards.

With ``stationary=True`` a learner pools them over steps (``P_h = P`` for all ``h``).
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from algorithms.core import float_dtype
from algorithms.sampling import dirichlet_sample, log_gamma_sample

Array = jax.Array

__all__ = [
    "VisitCounts",
    "dirichlet_fixed_cost",
    "empirical_model",
    "init_counts",
    "log_gamma_fixed_cost",
    "update_counts",
]


class VisitCounts(NamedTuple):
    """Sufficient statistics of a tabular history (see the module docstring)."""

    visits: Array  # [H, S, A] N_h(s, a)
    transition_counts: Array  # [H, S, A, S] N_h(s, a, s')
    reward_sums: Array  # [H, S, A] sum of observed r_h(s, a)


def init_counts(num_states: int, num_actions: int, horizon: int) -> VisitCounts:
    dtype = float_dtype()
    shape = (horizon, num_states, num_actions)
    return VisitCounts(
        jnp.zeros(shape, dtype),
        jnp.zeros((*shape, num_states), dtype),
        jnp.zeros(shape, dtype),
    )


def update_counts(counts: VisitCounts, trajectory) -> VisitCounts:
    """Adds one episode ``(s_h, a_h, r_h)_{h < H}`` to the statistics (O(H S^2 A) work).

    Written as additions of one-hot masks rather than scatter-adds at
    ``(h, s_h, a_h)``: under ``vmap`` over seeds a scatter is a batched scatter, which
    XLA:CPU runs as a slow serial loop, while the masks fuse into one pass over the
    tables. The result is bit-identical (each entry gains exactly ``1``, ``r_h`` or
    ``0``; every step adds at one ``(s, a)`` only).
    """
    states, actions, rewards = trajectory.states, trajectory.actions, trajectory.rewards
    horizon, num_states, num_actions = counts.visits.shape
    chex.assert_shape((states, actions, rewards), (horizon,))
    dtype = counts.visits.dtype
    state_mask = jax.nn.one_hot(states, num_states, dtype=dtype)  # [H, S]
    action_mask = jax.nn.one_hot(actions, num_actions, dtype=dtype)  # [H, A]
    visit_mask = state_mask[:, :, None] * action_mask[:, None, :]  # [H, S, A]
    visits = counts.visits + visit_mask
    reward_sums = counts.reward_sums + visit_mask * rewards.astype(dtype)[:, None, None]
    # Step h's next state is s_{h+1}; the last step's next state is not observed.
    next_mask = jnp.concatenate([state_mask[1:], jnp.zeros_like(state_mask[:1])])
    transition_counts = (
        counts.transition_counts + visit_mask[..., None] * next_mask[:, None, None, :]
    )
    return VisitCounts(visits, transition_counts, reward_sums)


def empirical_model(
    counts: VisitCounts, stationary: bool
) -> tuple[Array, Array, Array, Array]:
    """``(P_hat [H, S, A, S], r_hat [H, S, A], n [H, S, A], n_next [H, S])``.

    ``P_hat = N(s, a, .) / max(N_trans(s, a), 1)`` (a zero row where nothing was
    observed), ``r_hat = sum r / max(n, 1)``; ``n`` the visit counts (pooled over steps
    when ``stationary``) and ``n_next[h, y] = sum_a n[h + 1, y, a]`` the visits of state
    ``y`` at step ``h + 1`` (``+inf`` at the last step, after which nothing is
    estimated).
    """
    visits, transition_counts, reward_sums = counts
    if stationary:
        pool = lambda x: jnp.broadcast_to(jnp.sum(x, axis=0, keepdims=True), x.shape)  # noqa: E731
        visits, transition_counts, reward_sums = (
            pool(visits),
            pool(transition_counts),
            pool(reward_sums),
        )
    num_transitions = jnp.sum(transition_counts, axis=-1, keepdims=True)
    p_hat = transition_counts / jnp.maximum(num_transitions, 1.0)
    r_hat = reward_sums / jnp.maximum(visits, 1.0)
    state_visits = jnp.sum(visits, axis=-1)  # [H, S]
    n_next = jnp.concatenate(
        [state_visits[1:], jnp.full_like(state_visits[:1], jnp.inf)], axis=0
    )
    return p_hat, r_hat, visits, n_next


# --------------------------------------------------------------------------------------
# Fixed-cost Gamma / Dirichlet samplers (for posteriors under vmap): the shared ones of
# algorithms.sampling, under the names this module has always exported.
# --------------------------------------------------------------------------------------

log_gamma_fixed_cost = log_gamma_sample
dirichlet_fixed_cost = dirichlet_sample
