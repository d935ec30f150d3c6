"""UOB-REPS: bandit feedback and unknown transitions, with upper occupancy bounds."""

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
from algorithms.core import Learner, check_int, check_positive

Array = jax.Array

__all__ = [
    "UOBREPSState",
    "confidence_radius",
    "empirical_transitions",
    "greedy_box_maximum",
    "upper_occupancy_bound",
    "uob_reps",
    "uob_reps_parameters",
]


class UOBREPSState(NamedTuple):
    """Visit counts and the mirror-descent iterate."""

    counts: Array  # [H, S, A] N(s, a): transitions observed out of (h, s, a)
    transition_counts: Array  # [H, S, A, S] M(s' | s, a)
    log_occupancy: Array  # [H, S, A] log q_hat_k (ignored before the first update)
    episode: Array  # [] int32


def empirical_transitions(counts: Array, transition_counts: Array) -> Array:
    """``P_bar(s' | s, a) = M(s' | s, a) / N(s, a)``; uniform where ``N = 0``."""
    uniform = jnp.ones_like(transition_counts) / transition_counts.shape[-1]
    safe = jnp.maximum(counts, 1.0)[..., None]
    return jnp.where(counts[..., None] > 0, transition_counts / safe, uniform)


def confidence_radius(counts: Array, p_bar: Array, log_term) -> Array:
    """``eps(s' | s, a) = 2 sqrt(P_bar ln(iota) / max(1, N - 1)) + 14 ln(iota) / (3
    max(1, N - 1))``; ``inf`` where ``N = 0`` (Jin et al. 2020, Eq. (5), the Bernstein
    confidence set; equation number from memory, unverified)."""
    n = jnp.maximum(counts - 1.0, 1.0)[..., None]
    radius = 2.0 * jnp.sqrt(p_bar * log_term / n) + 14.0 * log_term / (3.0 * n)
    return jnp.where(counts[..., None] > 0, radius, jnp.inf)


def greedy_box_maximum(values: Array, lower: Array, upper: Array) -> Array:
    """``max { <p, f> : lower <= p <= upper, sum p = 1 }`` over the last axis.

    Greedy (fractional knapsack): every ``p(s')`` starts at its lower bound and the
    remaining mass ``1 - sum lower`` fills the coordinates in decreasing order of
    ``f`` up to their upper bounds. Exact for a box intersected with the simplex
    (assumes ``sum lower <= 1 <= sum upper``). ``values`` broadcasts against
    ``lower`` / ``upper``.
    """
    values, lower, upper = jnp.broadcast_arrays(values, lower, upper)
    order = jnp.argsort(-values, axis=-1)
    f_sorted = jnp.take_along_axis(values, order, axis=-1)
    capacity = jnp.take_along_axis(upper - lower, order, axis=-1)
    remaining = 1.0 - jnp.sum(lower, axis=-1, keepdims=True)
    before = jnp.cumsum(capacity, axis=-1) - capacity
    extra = jnp.clip(remaining - before, 0.0, capacity)
    return jnp.sum(lower * values, axis=-1) + jnp.sum(extra * f_sorted, axis=-1)


def upper_occupancy_bound(
    policy: Array, p_bar: Array, radius: Array, initial_state: int = 0
) -> Array:
    """``u(s, a) = max_{P in conf. set} q^{P, pi}(s, a)`` for all ``(h, s, a)``.

    Comp-UOB (Jin et al. 2020, Algorithm 3): for a target state ``x`` of layer ``t``,
    ``f_t = 1[. = x]`` and, backwards for ``j = t - 1, ..., 0``,

    .. math::

        f_j(s) = \\sum_a \\pi_j(a | s) \\max_{\\hat P(\\cdot | s, a) \\in
        \\mathcal P_j(s, a)} \\sum_{s'} \\hat P(s' | s, a) f_{j+1}(s'),

    the inner maximum over the box ``|P_hat - P_bar| <= eps`` intersected with the
    simplex (:func:`greedy_box_maximum`); then ``u(x, a) = f_0(x_0) pi(a | x)``. All
    targets run at once (``[H, S]`` of them), ``O(H^2 S^3 A log S)`` work.

    Args:
        policy: ``[H, S, A]``.
        p_bar: ``[H, S, A, S]`` empirical transitions.
        radius: ``[H, S, A, S]`` confidence radii (``inf`` allowed).
        initial_state: the fixed start state ``x_0`` of layer 0 (static).

    Returns:
        ``[H, S, A]``.
    """
    horizon, num_states, _ = policy.shape
    lower = jnp.clip(p_bar - radius, 0.0, 1.0)
    upper = jnp.clip(p_bar + radius, 0.0, 1.0)
    layers = jnp.arange(horizon)

    def backup(f, j):
        # f [T, X, S']: per target layer T and target state X, f_{j+1} over S'.
        best = greedy_box_maximum(
            f[:, :, None, None, :], lower[j][None, None], upper[j][None, None]
        )  # [T, X, S, A]
        new = jnp.sum(policy[j][None, None] * best, axis=-1)  # [T, X, S]
        return jnp.where((layers > j)[:, None, None], new, f), None

    eye = jnp.broadcast_to(
        jnp.eye(num_states, dtype=policy.dtype),
        (horizon,) * 1 + (num_states, num_states),
    )
    f, _ = jax.lax.scan(backup, eye, jnp.arange(horizon - 2, -1, -1))
    reach = f[:, :, initial_state]  # [H, S] max probability of reaching (t, x)
    return jnp.clip(reach, 0.0, 1.0)[..., None] * policy


def uob_reps_parameters(
    num_states: int, num_actions: int, horizon: int, num_episodes: int, delta=0.1
) -> tuple[float, float]:
    """``eta = gamma = sqrt(H ln(H |X| |A| / delta) / (K |X| |A|))`` with ``|X| = H
    S`` (Jin et al. 2020, Theorem 1's tuning, from memory, unverified)."""
    xa = horizon * num_states * num_actions
    rate = math.sqrt(horizon * math.log(horizon * xa / delta) / (num_episodes * xa))
    return rate, rate


def uob_reps(
    num_states: int,
    num_actions: int,
    horizon: int,
    *,
    num_episodes: int,
    learning_rate=0.01,
    implicit_exploration=0.01,
    delta=0.1,
    initial_state: int = 0,
    num_iterations: int = 30,
) -> Learner:
    """UOB-REPS: OMD over occupancy measures with an upper-occupancy-bound estimator.

    .. math::

        \\hat l_k(s, a) = \\frac{l_k(s, a) 1[(s, a) \\text{ visited}]}{u_k(s, a) +
        \\gamma}, \\qquad \\hat q_{k+1} = \\arg\\min_{q \\in \\Delta(\\bar P_{k+1})}
        \\eta \\langle q, \\hat l_k \\rangle + D(q \\| \\hat q_k), \\qquad
        \\pi_k(a | s) \\propto \\hat q_k(s, a),

    with ``u_k = max_{P in P_k} q^{P, pi_k}`` (:func:`upper_occupancy_bound`) over the
    Bernstein confidence set ``P_k`` (:func:`confidence_radius`, ``iota = K H S A /
    delta``) around the empirical transitions ``P_bar_k``.

    **Deviations from the paper** (stated plainly): (1) the mirror-descent step
    projects onto the occupancy polytope of the empirical transitions
    ``Delta(P_bar_{k+1})`` (with the exact dual of
    :func:`~algorithms.adversarial_mdp.occupancy.kl_projection`) instead of onto the
    set of occupancy measures of *all* transitions in the confidence set
    ``Delta(P_{k+1})`` (the paper's projection over ``q(s, a, s')`` with extra dual
    variables); (2) counts and the confidence set are updated every episode rather
    than at the start of doubling epochs. The estimator -- the paper's key
    contribution -- and Comp-UOB are as in the paper. The start state is fixed and
    known (``initial_state``), as in the paper.

    Args:
        num_states, num_actions, horizon: the shape ``[H, S, A]`` (static).
        num_episodes: K, enters the confidence width (static).
        learning_rate: ``eta > 0``; implicit_exploration: ``gamma > 0``; defaults in
            :func:`uob_reps_parameters`.
        delta: confidence level in (0, 1).
        initial_state: the start state (static).
        num_iterations: Newton steps of the projection (static).

    References:
        Jin, Jin, Luo, Sra and Yu, "Learning Adversarial Markov Decision Processes with
        Bandit Feedback and Unknown Transition", ICML 2020 (UOB-REPS, Algorithm 1;
        Comp-UOB, Algorithm 3; regret ``O~(H |X| sqrt(|A| K))`` with high
        probability).
    """
    horizon = check_int(horizon, "horizon")
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions", minimum=2)
    num_episodes = check_int(num_episodes, "num_episodes")
    check_int(initial_state + 1, "initial_state + 1")
    check_positive(learning_rate, "learning_rate")
    check_positive(implicit_exploration, "implicit_exploration")
    check_positive(delta, "delta")
    shape = (horizon, num_states, num_actions)
    log_term = math.log(num_episodes * horizon * num_states * num_actions) - jnp.log(
        delta
    )
    initial = jnp.zeros((num_states,)).at[initial_state].set(1.0)

    def model(state):
        p_bar = empirical_transitions(state.counts, state.transition_counts)
        return p_bar, confidence_radius(state.counts, p_bar, log_term)

    def current(state):
        p_bar, _ = model(state)
        start = uniform_log_occupancy(p_bar, initial.astype(p_bar.dtype))
        return jnp.where(state.episode == 0, start, state.log_occupancy)

    def init(key):
        del key
        zeros = jnp.zeros(shape)
        return UOBREPSState(
            zeros, jnp.zeros((*shape, num_states)), zeros, jnp.zeros((), jnp.int32)
        )

    def act(key, state, obs):
        del key, obs
        return policy_from_log_occupancy(current(state)), state

    def update(state, obs, action, feedback):
        del obs, action
        log_q = current(state)
        policy = policy_from_log_occupancy(log_q)
        p_bar, radius = model(state)
        bound = upper_occupancy_bound(policy, p_bar, radius, initial_state)
        losses = importance_weighted_losses(feedback, bound, implicit_exploration)
        # Counts of the observed transitions (h, s_h, a_h) -> s_{h+1}, h < H - 1.
        h = jnp.arange(horizon - 1)
        s, a, s_next = feedback.states[:-1], feedback.actions[:-1], feedback.states[1:]
        counts = state.counts.at[h, s, a].add(1.0)
        transition_counts = state.transition_counts.at[h, s, a, s_next].add(1.0)
        new_state = state._replace(counts=counts, transition_counts=transition_counts)
        p_next, _ = model(new_state)
        log_q, _ = kl_projection(
            log_q - learning_rate * losses,
            p_next,
            initial.astype(p_next.dtype),
            num_iterations=num_iterations,
        )
        return new_state._replace(log_occupancy=log_q, episode=state.episode + 1)

    return Learner(init, act, update)
