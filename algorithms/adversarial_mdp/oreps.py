"""O-REPS: online mirror descent over occupancy measures (known transitions)."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.adversarial_mdp.estimators import importance_weighted_losses
from algorithms.adversarial_mdp.occupancy import (
    kl_projection,
    policy_from_log_occupancy,
    uniform_log_occupancy,
)
from algorithms.core import Learner, check_int, check_nonnegative, check_positive

Array = jax.Array

__all__ = ["OREPSState", "oreps", "oreps_bandit", "oreps_learning_rate"]


class OREPSState(NamedTuple):
    """O-REPS's iterate (in the log domain) and the episode counter."""

    log_occupancy: Array  # [H, S, A] log q_k (ignored before the first update)
    episode: Array  # [] int32


def oreps_learning_rate(
    num_states: int, num_actions: int, horizon: int, num_episodes: int, bandit: bool
) -> float:
    """The tuning that balances ``D(q* || q_1) / eta`` against the stability term.

    With ``D(q* || q_1) <= H log(S A)`` (``q_1`` the uniform policy's occupancy has
    ``q_1(s, a) >= ...``; the bound of Zimin and Neu 2013 is ``L log(|X||A| / L)``
    with ``|X| = H S``, ``L = H``) and a stability term ``eta H K / 2`` (full
    information, ``sum q l^2 <= H``) or ``eta H S A K / 2`` (bandit, ``E sum q
    l_hat^2 <= |X||A|``): ``eta = sqrt(2 log(SA) / K)``, regret ``H sqrt(2 K log(SA))``
    (full), and ``eta = sqrt(2 log(SA) / (S A K))``, regret ``sqrt(2 H^2 S A K
    log(SA))`` (bandit).
    """
    log_term = math.log(max(num_states * num_actions, 2))
    if bandit:
        return math.sqrt(2 * log_term / (num_states * num_actions * num_episodes))
    return math.sqrt(2 * log_term / num_episodes)


def _oreps(num_states, num_actions, horizon, learning_rate, bandit, gamma, iterations):
    shape = (
        check_int(horizon, "horizon"),
        check_int(num_states, "num_states"),
        check_int(num_actions, "num_actions", minimum=2),
    )
    check_positive(learning_rate, "learning_rate")
    check_nonnegative(gamma, "implicit_exploration")
    check_int(iterations, "num_iterations")

    def current(state, obs):
        initial = uniform_log_occupancy(obs.transitions, obs.initial)
        return jnp.where(state.episode == 0, initial, state.log_occupancy)

    def init(key):
        del key
        return OREPSState(jnp.zeros(shape), jnp.zeros((), jnp.int32))

    def act(key, state, obs):
        del key
        return policy_from_log_occupancy(current(state, obs)), state

    def update(state, obs, action, feedback):
        del action
        log_q = current(state, obs)
        if bandit:
            losses = importance_weighted_losses(feedback, jnp.exp(log_q), gamma)
        else:
            if feedback.loss_table is None:
                raise ValueError("oreps needs full-information feedback")
            losses = feedback.loss_table
        log_weights = log_q - learning_rate * losses.astype(log_q.dtype)
        log_q, _ = kl_projection(
            log_weights, obs.transitions, obs.initial, num_iterations=iterations
        )
        return OREPSState(log_q, state.episode + 1)

    return Learner(init, act, update)


def oreps(
    num_states: int,
    num_actions: int,
    horizon: int,
    *,
    learning_rate=0.1,
    num_iterations: int = 30,
) -> Learner:
    """O-REPS with full information and known transitions.

    .. math::

        q_1 = q^{\\text{uniform}}, \\qquad q_{k+1} = \\arg\\min_{q \\in \\Delta(P)}
        \\eta \\langle q, l_k \\rangle + D(q \\| q_k), \\qquad
        \\pi_k(a | s) \\propto q_k(s, a),

    with ``D`` the unnormalised KL divergence; the projection is
    :func:`~algorithms.adversarial_mdp.occupancy.kl_projection` of
    ``q_k exp(-eta l_k)`` (the dual solved by damped Newton in JAX). The observation
    must be the MDP (``envs.adversarial_mdp.KnownTransitions``); feedback must carry
    the loss table.

    Args:
        num_states, num_actions, horizon: the shape ``[H, S, A]`` (static).
        learning_rate: ``eta > 0`` (traceable); theory: :func:`oreps_learning_rate`.
        num_iterations: Newton steps of the projection (static).

    Returns:
        A :class:`~algorithms.core.Learner` with state :class:`OREPSState`.

    References:
        Zimin and Neu, "Online learning in episodic Markovian decision processes by
        relative entropy policy search", NeurIPS 2013: O-REPS, regret
        ``L sqrt(2 T log(|X||A| / L))`` with full information (the abstract; theorem
        number not verified), here ``H sqrt(2 K log(S A))``.
    """
    return _oreps(
        num_states, num_actions, horizon, learning_rate, False, 0.0, num_iterations
    )


def oreps_bandit(
    num_states: int,
    num_actions: int,
    horizon: int,
    *,
    learning_rate=0.01,
    implicit_exploration=0.0,
    num_iterations: int = 30,
) -> Learner:
    """O-REPS with bandit feedback and known transitions.

    The update of :func:`oreps` with the importance-weighted estimate
    ``l_hat_k(s, a) = l_k(s, a) 1[(s, a) visited] / (q_k(s, a) + gamma)``
    (unbiased for ``gamma = 0``; :func:`~algorithms.adversarial_mdp.estimators
    .importance_weighted_losses`).

    Args:
        num_states, num_actions, horizon: the shape ``[H, S, A]`` (static).
        learning_rate: ``eta > 0``; theory: :func:`oreps_learning_rate` with
            ``bandit=True``.
        implicit_exploration: ``gamma >= 0`` (0 in the paper).
        num_iterations: Newton steps of the projection (static).

    References:
        Zimin and Neu 2013 (as :func:`oreps`): regret
        ``2 sqrt(L |X| |A| T log(|X||A| / L))`` with bandit feedback (the abstract).
    """
    return _oreps(
        num_states,
        num_actions,
        horizon,
        learning_rate,
        True,
        implicit_exploration,
        num_iterations,
    )
