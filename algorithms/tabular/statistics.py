"""Incremental visit statistics of tabular episodic learners, and a fixed-cost Gamma.

Every model-based tabular learner keeps the same sufficient statistics of its history,
updated in O(H) per episode (one scatter-add per step), so the per-episode cost does
not grow with the episode index:

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

from algorithms.core import Key, float_dtype

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
    """Adds one episode ``(s_h, a_h, r_h)_{h < H}`` to the statistics (O(H) work)."""
    states, actions, rewards = trajectory.states, trajectory.actions, trajectory.rewards
    horizon = counts.visits.shape[0]
    chex.assert_shape((states, actions, rewards), (horizon,))
    steps = jnp.arange(horizon)
    dtype = counts.visits.dtype
    visits = counts.visits.at[steps, states, actions].add(1.0)
    reward_sums = counts.reward_sums.at[steps, states, actions].add(
        rewards.astype(dtype)
    )
    # Step h's next state is s_{h+1}; the last step's next state is not observed.
    transition_counts = counts.transition_counts.at[
        steps[:-1], states[:-1], actions[:-1], states[1:]
    ].add(1.0)
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
# A fixed-cost Gamma sampler (for Dirichlet / Beta posteriors under vmap).
# --------------------------------------------------------------------------------------

_PROPOSALS = 6  # Marsaglia-Tsang proposals per draw; see log_gamma_fixed_cost.


def log_gamma_fixed_cost(key: Key, alpha: Array) -> Array:
    """``log G`` for ``G ~ Gamma(alpha, 1)``, elementwise, with a fixed cost per draw.

    Marsaglia and Tsang's method with a fixed number of proposals instead of a
    rejection loop: for ``a = alpha`` (or ``alpha + 1`` when ``alpha < 1``),
    ``d = a - 1/3``, ``c = 1 / sqrt(9 d)``, each proposal draws ``x ~ N(0, 1)``,
    ``u ~ U(0, 1)``, sets ``v = (1 + c x)^3`` and is accepted when ``v > 0`` and
    ``log u < x^2 / 2 + d - d v + d log v``; the first accepted ``d v`` is a
    Gamma(a) draw. For ``a >= 1`` a proposal is accepted w.p. > 0.95, so all
    ``_PROPOSALS = 6`` fail w.p. < 0.05^6 ~ 1.6e-8; the draw then falls back to ``d``
    (the mode region), a negligible bias. ``alpha < 1`` uses the boost
    ``Gamma(alpha) = Gamma(alpha + 1) U^{1 / alpha}``, applied in log space so tiny
    ``alpha`` does not underflow. ``jax.random.gamma`` runs a data-dependent loop whose
    cost under ``vmap`` is that of the slowest lane; this one is a fixed 2 * 6 + 1
    uniforms / normals per draw.

    Args:
        key: consumed.
        alpha: ``[...]`` shapes > 0.

    Returns:
        ``[...]`` log-Gamma draws (exponentiate, or ``softmax`` for a Dirichlet).

    References:
        Marsaglia and Tsang, "A simple method for generating gamma variables", ACM
        TOMS 2000 (the squeeze-free acceptance test and the boost for alpha < 1).
    """
    dtype = jnp.result_type(alpha, float)
    alpha = jnp.asarray(alpha, dtype)
    key_x, key_u, key_boost = jax.random.split(key, 3)
    boosted = alpha < 1.0
    a = jnp.where(boosted, alpha + 1.0, alpha)
    d = a - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)
    x = jax.random.normal(key_x, (_PROPOSALS, *alpha.shape), dtype)
    log_u = jnp.log(
        jax.random.uniform(
            key_u, (_PROPOSALS, *alpha.shape), dtype, minval=jnp.finfo(dtype).tiny
        )
    )
    v = (1.0 + c[None] * x) ** 3
    safe_v = jnp.where(v > 0, v, 1.0)
    accept = (v > 0) & (
        log_u < 0.5 * x**2 + d[None] - d[None] * safe_v + d[None] * jnp.log(safe_v)
    )
    first = jnp.argmax(accept, axis=0)  # the first accepted proposal (0 if none)
    any_accept = jnp.any(accept, axis=0)
    v_first = jnp.take_along_axis(safe_v, first[None], axis=0)[0]
    log_g = jnp.log(d) + jnp.where(any_accept, jnp.log(v_first), 0.0)
    log_boost = (
        jnp.log(
            jax.random.uniform(
                key_boost, alpha.shape, dtype, minval=jnp.finfo(dtype).tiny
            )
        )
        / alpha
    )
    return log_g + jnp.where(boosted, log_boost, 0.0)


def dirichlet_fixed_cost(key: Key, concentration: Array) -> Array:
    """Dirichlet draws over the last axis: ``softmax`` of fixed-cost log-Gammas."""
    return jax.nn.softmax(log_gamma_fixed_cost(key, concentration), axis=-1)
