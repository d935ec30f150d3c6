"""Policy optimization for adversarial MDPs (known transitions): mirror descent on the
policy with exact Q-values (full information) and with importance-weighted Q-estimates
and dilated exploration bonuses (bandit feedback)."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.adversarial_mdp.estimators import loss_to_go, visit_indicator
from algorithms.adversarial_mdp.occupancy import occupancy_measure
from algorithms.core import Learner, check_int, check_nonnegative, check_positive

Array = jax.Array

__all__ = [
    "PolicyOptimizationState",
    "dilated_bonuses",
    "dilated_bonus_po",
    "importance_weighted_q",
    "policy_optimization",
    "policy_q_values",
]


class PolicyOptimizationState(NamedTuple):
    """The policy's logits ``log pi_k`` (up to a per-state constant)."""

    logits: Array  # [H, S, A]


def _shape(num_states, num_actions, horizon):
    return (
        check_int(horizon, "horizon"),
        check_int(num_states, "num_states"),
        check_int(num_actions, "num_actions", minimum=2),
    )


def policy_q_values(transitions: Array, losses: Array, policy: Array) -> Array:
    """``Q^pi_h(s, a; l) = l_h(s, a) + sum_s' P_h(s' | s, a) V^pi_{h+1}(s')``,
    ``[H, S, A]``, by backward induction (``V^pi_H = 0``)."""

    def backward(value_next, step):
        transitions_h, losses_h, policy_h = step
        q_h = losses_h + jnp.einsum("sat,t->sa", transitions_h, value_next)
        return jnp.sum(policy_h * q_h, axis=-1), q_h

    terminal = jnp.zeros(losses.shape[1], losses.dtype)
    _, q = jax.lax.scan(backward, terminal, (transitions, losses, policy), reverse=True)
    return q


def policy_optimization(
    num_states: int, num_actions: int, horizon: int, *, learning_rate=0.1
) -> Learner:
    """Policy optimization (mirror descent with KL per state), full information,
    known transitions.

    .. math::

        \\pi_{k+1, h}(a | s) \\propto \\pi_{k, h}(a | s)
        \\exp\\big(-\\eta Q^{\\pi_k}_h(s, a; l_k)\\big),

    with ``Q^{pi_k}(l_k)`` computed exactly under the known transitions (the
    observation ``KnownTransitions``) from the episode's loss table. This is the
    known-transition, full-information case of POMD (Shani et al. 2020, Algorithm 1,
    whose optimistic evaluation with transition bonuses is then unnecessary); the
    analysis (the performance-difference lemma plus Hedge in every state) gives regret
    ``O(H^2 sqrt(K log A))`` with ``eta = sqrt(2 log A / (H^2 K))``.

    Args:
        num_states, num_actions, horizon: the shape ``[H, S, A]`` (static).
        learning_rate: ``eta > 0`` (traceable).

    Returns:
        A :class:`~algorithms.core.Learner` with state
        :class:`PolicyOptimizationState`.

    References:
        Shani, Efroni, Rosenberg and Mannor, "Optimistic Policy Optimization with Bandit
        Feedback", ICML 2020 (POMD, Algorithm 1; regret ``O~(sqrt(S^2 A H^4 K))`` with
        unknown transitions and full information; theorem numbers not verified).
        Cai, Yang, Jin and Wang, "Provably Efficient Exploration in Policy
        Optimization", ICML 2020 (the same update, OPPO).
    """
    shape = _shape(num_states, num_actions, horizon)
    check_positive(learning_rate, "learning_rate")

    def init(key):
        del key
        return PolicyOptimizationState(jnp.zeros(shape))

    def act(key, state, obs):
        del key, obs
        return jax.nn.softmax(state.logits, axis=-1), state

    def update(state, obs, action, feedback):
        if feedback.loss_table is None:
            raise ValueError("policy_optimization needs full-information feedback")
        policy = jax.nn.softmax(state.logits, axis=-1)
        losses = feedback.loss_table.astype(policy.dtype)
        q = policy_q_values(obs.transitions, losses, policy)
        logits = jax.nn.log_softmax(state.logits - learning_rate * q, axis=-1)
        return PolicyOptimizationState(logits)

    return Learner(init, act, update)


def importance_weighted_q(feedback, occupancy: Array, implicit_exploration) -> Array:
    """``Q_hat_h(s, a) = L_h 1[s_h = s, a_h = a] / (q_h(s, a) + gamma)``, ``[H, S, A]``,
    with ``L_h`` the trajectory's loss-to-go. For ``gamma = 0``, ``E[Q_hat] = Q^pi``
    (Luo, Wei and Lee 2021, Section 3)."""
    _, num_states, num_actions = occupancy.shape
    visits = visit_indicator(feedback.states, feedback.actions, num_states, num_actions)
    to_go = loss_to_go(feedback.losses.astype(occupancy.dtype))
    return visits * to_go[:, None, None] / (occupancy + implicit_exploration)


def dilated_bonuses(
    transitions: Array, policy: Array, occupancy: Array, gamma, horizon: int
) -> Array:
    """The dilated bonus ``B [H, S, A]``.

    .. math::

        b_h(s) = \\sum_a \\frac{3 \\gamma H \\pi_h(a | s)}{q_h(s, a) + \\gamma}, \\quad
        B_h(s, a) = b_h(s) + \\Big(1 + \\frac1H\\Big) \\sum_{s'} P_h(s' | s, a)
        \\sum_{a'} \\pi_{h+1}(a' | s') B_{h+1}(s', a'), \\quad B_H = 0

    (Luo, Wei and Lee 2021, the dilated Bellman equation and the tabular bonus of
    their Algorithm for known transitions; the constant 3 from memory, unverified).
    """
    bonus = jnp.sum(3.0 * gamma * horizon * policy / (occupancy + gamma), axis=-1)

    def backward(value_next, step):
        transitions_h, policy_h, bonus_h = step
        b_h = bonus_h[:, None] + (1.0 + 1.0 / horizon) * jnp.einsum(
            "sat,t->sa", transitions_h, value_next
        )
        return jnp.sum(policy_h * b_h, axis=-1), b_h

    terminal = jnp.zeros(policy.shape[1], policy.dtype)
    _, b = jax.lax.scan(backward, terminal, (transitions, policy, bonus), reverse=True)
    return b


def dilated_bonus_po(
    num_states: int,
    num_actions: int,
    horizon: int,
    *,
    learning_rate=0.01,
    implicit_exploration=0.01,
) -> Learner:
    """Policy optimization with dilated bonuses, bandit feedback, known transitions.

    .. math::

        \\pi_{k, h}(a | s) \\propto \\exp\\Big(-\\eta \\sum_{j < k}
        \\big(\\hat Q_{j, h}(s, a) - B_{j, h}(s, a)\\big)\\Big),

    with :func:`importance_weighted_q` (implicit exploration ``gamma``) and
    :func:`dilated_bonuses`; the occupancy ``q_k`` of ``pi_k`` is exact under the known
    transitions.

    Args:
        num_states, num_actions, horizon: the shape ``[H, S, A]`` (static).
        learning_rate: ``eta > 0`` (traceable).
        implicit_exploration: ``gamma >= 0`` (traceable); the paper sets ``gamma =
            eta``.

    Returns:
        A :class:`~algorithms.core.Learner` with state
        :class:`PolicyOptimizationState`.

    References:
        Luo, Wei and Lee, "Policy Optimization in Adversarial MDPs: Improved
        Exploration via Dilated Bonuses", NeurIPS 2021 (Section 3, known transitions,
        tabular: regret ``O~(H^2 sqrt(S A K))`` with ``eta = gamma ~ 1 / sqrt(S A H^2
        K)``; constants and theorem number from memory, unverified).
    """
    shape = _shape(num_states, num_actions, horizon)
    check_positive(learning_rate, "learning_rate")
    check_nonnegative(implicit_exploration, "implicit_exploration")

    def init(key):
        del key
        return PolicyOptimizationState(jnp.zeros(shape))

    def act(key, state, obs):
        del key, obs
        return jax.nn.softmax(state.logits, axis=-1), state

    def update(state, obs, action, feedback):
        policy = jax.nn.softmax(state.logits, axis=-1)
        occupancy = occupancy_measure(obs.transitions, obs.initial, policy)
        q_hat = importance_weighted_q(feedback, occupancy, implicit_exploration)
        bonus = dilated_bonuses(
            obs.transitions, policy, occupancy, implicit_exploration, shape[0]
        )
        logits = state.logits - learning_rate * (q_hat - bonus)
        return PolicyOptimizationState(jax.nn.log_softmax(logits, axis=-1))

    return Learner(init, act, update)


def po_learning_rate(num_actions: int, horizon: int, num_episodes: int) -> float:
    """``eta = sqrt(2 log A / (H^2 K))`` for :func:`policy_optimization`."""
    return math.sqrt(2 * math.log(num_actions) / (horizon**2 * num_episodes))


def dilated_learning_rate(
    num_states: int, num_actions: int, horizon: int, num_episodes: int
) -> float:
    """``eta = gamma = 1 / sqrt(S A H^2 K)`` for :func:`dilated_bonus_po`."""
    return 1.0 / math.sqrt(num_states * num_actions * horizon**2 * num_episodes)
