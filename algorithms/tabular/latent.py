"""Latent MDPs with context in hindsight: a value-optimistic model-based learner.

Protocol (``envs.latent_mdp``): one round is one episode, the action a Markov policy
``[H, S, A]`` (the context is hidden during the episode), the feedback a trajectory
with its context revealed at the end (``feedback.context``). The planning oracle
enumerates the deterministic Markov policies of ``envs.latent_mdp``.

``LATENT_ALGORITHMS`` maps a name to a builder ``(M, S, A, H, K) -> Learner`` with the
default tuning (its own registry: these learners need the context in the feedback).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import Key, Learner, check_int, check_positive, float_dtype
from algorithms.tabular.model_based import ucbvi
from algorithms.tabular.planning import uniform_policy
from algorithms.tabular.statistics import (
    VisitCounts,
    empirical_model,
    init_counts,
    update_counts,
)
from envs.latent_mdp import deterministic_policies

Array = jax.Array


__all__ = [
    "LATENT_ALGORITHMS",
    "LatentUCBState",
    "latent_bernstein_bonus",
    "latent_optimistic_values",
    "latent_ucb",
]


def latent_bernstein_bonus(visits, p_hat, value_next, log_term, scale):
    """``c (sqrt(V(P_hat, V') iota / N) + iota / N)`` on ``[S, A]`` (``+inf`` where
    ``N = 0``), ``V(p, v) = <p, v^2> - <p, v>^2`` the empirical variance.

    The value-optimistic bonus of Zhou, Wang and Du (2023) is of this Bernstein form
    (empirical variance of the next alpha-vector / value plus a ``1 / N`` term); its
    constants are from memory (unverified) and replaced by one scale ``c``.
    """
    mean = jnp.einsum("sat,t->sa", p_hat, value_next)
    variance = jnp.maximum(jnp.einsum("sat,t->sa", p_hat, value_next**2) - mean**2, 0)
    safe = jnp.maximum(visits, 1.0)
    bonus = scale * (jnp.sqrt(variance * log_term / safe) + log_term / safe)
    return jnp.where(visits > 0, bonus, jnp.inf)


def latent_optimistic_values(
    p_hat, r_hat, visits, actions, caps, log_term, scale
) -> Array:
    """Optimistic value ``bar V^pi_0 [S]`` of one context under a deterministic policy.

    .. math::

        \\bar Q_h(s, a) = \\min\\big(c_h, \\hat r_h(s, a) + \\hat P_h(s, a)^\\top
        \\bar V_{h+1} + b_h(s, a)\\big), \\qquad \\bar V_h(s) = \\bar Q_h(s,
        \\pi_h(s)).

    Args:
        p_hat: ``[H, S, A, S]``; r_hat, visits: ``[H, S, A]``; actions: ``[H, S]``
        the policy; caps: ``[H]``; log_term: iota; scale: the bonus scale.
    """
    num_states = r_hat.shape[1]

    def backward_step(value_next, step):
        p_h, r_h, n_h, a_h, cap = step
        bonus = latent_bernstein_bonus(n_h, p_h, value_next, log_term, scale)
        q_h = jnp.minimum(cap, r_h + jnp.einsum("sat,t->sa", p_h, value_next) + bonus)
        value_h = jnp.take_along_axis(q_h, a_h[:, None], axis=-1)[:, 0]
        return value_h, None

    terminal = jnp.zeros((num_states,), r_hat.dtype)
    value_0, _ = jax.lax.scan(
        backward_step, terminal, (p_hat, r_hat, visits, actions, caps), reverse=True
    )
    return value_0


class LatentUCBState(NamedTuple):
    """State of :func:`latent_ucb`."""

    counts: VisitCounts  # leaves with a leading [M] axis: per-context statistics
    initial_counts: Array  # [M, S] first states seen in each context
    context_counts: Array  # [M] episodes of each context


def latent_ucb(
    num_contexts: int,
    num_states: int,
    num_actions: int,
    horizon: int,
    num_episodes: int,
    *,
    bonus_scale=0.1,
    delta=0.1,
    max_return: float | None = 1.0,
    stationary: bool = True,
) -> Learner:
    """Value-optimistic model-based learning in a latent MDP with context in hindsight.

    After each episode the revealed context ``m`` routes its trajectory to context
    ``m``'s statistics (visits, transitions, rewards, first state). Each episode:
    per context the empirical model ``(hat P_m, hat r_m)`` (pooled over steps:
    the contexts' MDPs are stationary in the paper), ``hat nu_m`` and
    ``hat w_m`` (add-one smoothed frequencies); for every deterministic Markov policy
    ``pi`` the optimistic values ``bar V^pi_{m, 0}`` of
    :func:`latent_optimistic_values` (Bernstein bonus
    :func:`latent_bernstein_bonus`), and the policy played is

    .. math::

        \\pi^k \\in \\arg\\max_\\pi \\sum_m \\hat w_m \\langle \\hat\\nu_m,
        \\bar V^\\pi_{m, 0} \\rangle

    (exact ties broken at random). This exhaustive maximisation is the planning oracle
    (LMDP planning is NP-hard in general; the paper's framework also assumes one):
    ``A^(S H)`` policies, so small instances only.

    Differences from the paper: the comparator and the planning class are Markov
    (history-independent) policies, where the paper plans with alpha vectors; the
    bonus constants are replaced by ``bonus_scale``; the uncertainty in ``hat w`` and
    ``hat nu`` gets no bonus (it adds a policy-independent term at this level of
    approximation).

    Args:
        num_contexts, num_states, num_actions, horizon: M, S, A, H (fix shapes).
        num_episodes: K, for ``iota = 2 ln(2 M S A H K / delta)``.
        bonus_scale: c > 0 (traceable).
        delta: confidence (traceable).
        max_return: the values are capped at ``min(H - h, max_return)`` (1 in the
            paper's normalisation, returns in [0, 1]); ``None`` for ``H - h``.
        stationary: pool the statistics over steps.

    Returns:
        A :class:`~algorithms.core.Learner` with state :class:`LatentUCBState`.

    References:
        Zhou, Wang and Du, "Horizon-Free and Variance-Dependent Reinforcement Learning
        for Latent Markov Decision Processes", ICML 2023: the model-based framework
        with a value-optimistic solver (Algorithm 1 with its value-optimistic
        instantiation), regret ``O~(sqrt(Var* M Gamma S A K))`` (main theorem;
        ``Gamma`` the maximum transition support), lower bound
        ``Omega(sqrt(Var* M S A K))``. Algorithm/theorem numbers and constants from
        memory (only the abstract and Section 3's setup were readable here),
        unverified.
    """
    num_contexts = check_int(num_contexts, "num_contexts")
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    horizon = check_int(horizon, "horizon")
    check_positive(bonus_scale, "bonus_scale")
    check_positive(delta, "delta")
    check_positive(num_episodes, "num_episodes")
    policies = deterministic_policies(num_states, num_actions, horizon)
    dtype = float_dtype()
    caps = jnp.arange(horizon, 0, -1).astype(dtype)
    if max_return is not None:
        caps = jnp.minimum(caps, float(max_return))

    def init(key: Key) -> LatentUCBState:
        del key
        one = init_counts(num_states, num_actions, horizon)
        counts = jax.tree.map(
            lambda x: jnp.zeros((num_contexts, *x.shape), x.dtype), one
        )
        return LatentUCBState(
            counts,
            jnp.zeros((num_contexts, num_states), dtype),
            jnp.zeros((num_contexts,), dtype),
        )

    def act(key: Key, state: LatentUCBState, obs):
        del obs
        p_hat, r_hat, visits, _ = jax.vmap(lambda c: empirical_model(c, stationary))(
            state.counts
        )
        weights = (state.context_counts + 1.0) / (
            jnp.sum(state.context_counts) + num_contexts
        )
        initial = (state.initial_counts + 1.0 / num_states) / (
            jnp.sum(state.initial_counts, -1, keepdims=True) + 1.0
        )
        log_term = 2.0 * jnp.log(
            2.0
            * num_contexts
            * num_states
            * num_actions
            * horizon
            * num_episodes
            / delta
        ).astype(dtype)

        def objective(actions):
            values = jax.vmap(
                lambda p, r, n: latent_optimistic_values(
                    p, r, n, actions, caps, log_term, bonus_scale
                )
            )(p_hat, r_hat, visits)  # [M, S]
            return jnp.dot(weights, jnp.sum(initial * values, -1))

        scores = jax.lax.map(objective, policies, batch_size=256)
        noise = jax.random.uniform(key, scores.shape, dtype)
        best = scores >= jnp.max(scores) - 1e-6 * jnp.maximum(jnp.max(scores), 1.0)
        choice = jnp.argmax(jnp.where(best, noise, -1.0))
        policy = jax.nn.one_hot(policies[choice], num_actions, dtype=dtype)
        return policy, state

    def update(state: LatentUCBState, obs, action, feedback):
        del obs, action
        m = feedback.context
        mine = jax.tree.map(lambda x: x[m], state.counts)
        mine = update_counts(mine, feedback)
        counts = jax.tree.map(lambda x, y: x.at[m].set(y), state.counts, mine)
        return LatentUCBState(
            counts,
            state.initial_counts.at[m, feedback.states[0]].add(1.0),
            state.context_counts.at[m].add(1.0),
        )

    return Learner(init, act, update)


# The naive baseline ignores the context: UCBVI-CH (pooled statistics of every
# context, the tabular registry's bonus scale) on the mixture as if it were one MDP.
LATENT_ALGORITHMS: dict[str, Callable[[int, int, int, int, int], Learner]] = {
    "latent_ucb": lambda m, s, a, h, k: latent_ucb(m, s, a, h, k),
    "ucbvi_ignore_context": lambda m, s, a, h, k: ucbvi(
        s, a, h, k, bonus="hoeffding", bonus_scale=5e-4, stationary=True
    ),
    "uniform": lambda m, s, a, h, k: uniform_policy(s, a, h),
}
