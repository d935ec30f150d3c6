"""Loss estimators from bandit feedback in layered MDPs."""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array

__all__ = ["importance_weighted_losses", "loss_to_go", "visit_indicator"]


def visit_indicator(states: Array, actions: Array, num_states: int, num_actions: int):
    """``1[s_h = s, a_h = a]`` as ``[H, S, A]`` from a trajectory's ``[H]`` indices."""
    return (
        jax.nn.one_hot(states, num_states)[:, :, None]
        * jax.nn.one_hot(actions, num_actions)[:, None, :]
    )


def importance_weighted_losses(
    feedback, probabilities: Array, implicit_exploration=0.0
) -> Array:
    """``l_hat_h(s, a) = l_h(s, a) 1[s_h = s, a_h = a] / (p_h(s, a) + gamma)``.

    With ``p = q^pi`` (the occupancy of the policy played) and ``gamma = 0`` it is
    unbiased, ``E[l_hat] = l`` wherever ``q > 0`` (Zimin and Neu 2013, Section 5);
    with ``p = u >= q`` an upper occupancy bound and ``gamma > 0`` it is optimistic,
    ``E[l_hat] = l q / (u + gamma) <= l`` (Jin et al. 2020, Eq. (7); implicit
    exploration: Neu 2015).

    Args:
        feedback: an ``AdversarialMDPFeedback`` (``states, actions, losses`` used).
        probabilities: ``[H, S, A]`` ``p``.
        implicit_exploration: ``gamma >= 0``.

    Returns:
        ``[H, S, A]``.
    """
    _, num_states, num_actions = probabilities.shape
    visits = visit_indicator(feedback.states, feedback.actions, num_states, num_actions)
    observed = visits * feedback.losses[:, None, None].astype(probabilities.dtype)
    denominator = probabilities + implicit_exploration
    return jnp.where(visits > 0, observed / jnp.where(visits > 0, denominator, 1.0), 0)


def loss_to_go(losses: Array) -> Array:
    """``L_h = sum_{i >= h} l_i`` of one trajectory, ``[H]``."""
    return jnp.cumsum(losses[::-1])[::-1]
