"""Occupancy measures of layered MDPs and the KL projection onto their polytope.

For a layered MDP with transitions ``P [H, S, A, S]`` and initial distribution ``rho``,
the occupancy measure of a policy ``pi`` is ``q_h(s, a) = Pr(s_h = s, a_h = a)``. The
set of occupancy measures of all policies is the polytope

.. math::

    \\Delta(P) = \\Big\\{q \\ge 0 : \\sum_a q_0(s, a) = \\rho(s),\\
    \\sum_a q_{h+1}(s', a) = \\sum_{s, a} P_h(s' | s, a) q_h(s, a)\\Big\\},

and ``pi_h(a | s) = q_h(s, a) / sum_b q_h(s, b)`` maps it back to policies (Zimin and
Neu 2013, Section 2). The expected loss of ``pi`` is the inner product ``<q^pi, l>``,
which makes online learning over policies an online *linear* problem over ``Delta(P)``.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from algorithms.core import safe_log

Array = jax.Array

__all__ = [
    "constraint_residual",
    "kl_projection",
    "occupancy_measure",
    "policy_from_log_occupancy",
    "policy_from_occupancy",
    "uniform_log_occupancy",
]


def occupancy_measure(transitions: Array, initial: Array, policy: Array) -> Array:
    """``q^pi [H, S, A]`` by the forward recursion.

    .. math::

        \\mu_0 = \\rho, \\quad q_h(s, a) = \\mu_h(s) \\pi_h(a | s), \\quad
        \\mu_{h+1}(s') = \\sum_{s, a} q_h(s, a) P_h(s' | s, a).

    Args:
        transitions: ``[H, S, A, S]``.
        initial: ``[S]``.
        policy: ``[H, S, A]``.

    Returns:
        ``[H, S, A]``; each layer sums to 1.
    """
    chex.assert_rank(transitions, 4)
    chex.assert_shape(policy, transitions.shape[:3])

    def forward(mu, step):
        transitions_h, policy_h = step
        q_h = mu[:, None] * policy_h
        return jnp.einsum("sa,sat->t", q_h, transitions_h), q_h

    _, q = jax.lax.scan(forward, initial.astype(policy.dtype), (transitions, policy))
    return q


def policy_from_occupancy(q: Array) -> Array:
    """``pi_h(a | s) = q_h(s, a) / sum_b q_h(s, b)``; uniform where ``q_h(s) = 0``."""
    mass = jnp.sum(q, axis=-1, keepdims=True)
    uniform = jnp.ones_like(q) / q.shape[-1]
    return jnp.where(mass > 0, q / jnp.where(mass > 0, mass, 1.0), uniform)


def policy_from_log_occupancy(log_q: Array) -> Array:
    """The same map from ``log q`` (a softmax over actions; never divides by 0)."""
    return jax.nn.softmax(log_q, axis=-1)


def uniform_log_occupancy(transitions: Array, initial: Array) -> Array:
    """``log q`` of the uniformly random policy (floored at ``log 1e-30``)."""
    policy = jnp.ones(transitions.shape[:3], initial.dtype) / transitions.shape[2]
    return safe_log(occupancy_measure(transitions, initial, policy))


def constraint_residual(q: Array, transitions: Array, initial: Array) -> Array:
    """``[H, S]`` inflow minus outflow of every state (0 on ``Delta(P)``).

    Layer 0's inflow is ``rho``; layer ``h + 1``'s is ``sum P_h(. | s, a) q_h(s, a)``.
    """
    inflow = jnp.einsum("hsa,hsat->ht", q[:-1], transitions[:-1])
    inflow = jnp.concatenate([initial[None].astype(q.dtype), inflow], axis=0)
    return inflow - jnp.sum(q, axis=-1)


def _log_projected(log_weights, transitions, v):
    """``log w + B^v`` with ``B^v_h(s, a) = sum_s' P_h(s' | s, a) v_{h+1}(s') - v_h(s)``
    (``v_H = 0``)."""
    v_next = jnp.concatenate([v[1:], jnp.zeros_like(v[:1])], axis=0)
    return log_weights + jnp.einsum("hsat,ht->hsa", transitions, v_next) - v[:, :, None]


def kl_projection(
    log_weights: Array,
    transitions: Array,
    initial: Array,
    *,
    num_iterations: int = 30,
    num_step_sizes: int = 12,
) -> tuple[Array, Array]:
    """The (unnormalised) KL projection of ``w = exp(log_weights)`` onto ``Delta(P)``.

    Solves ``argmin_{q in Delta(P)} sum q log(q / w) - q + w`` through its convex dual
    in the value-like variables ``v [H, S]`` (one multiplier per flow constraint):

    .. math::

        q^v_h(s, a) = w_h(s, a) \\exp\\big(B^v_h(s, a)\\big), \\quad
        B^v_h(s, a) = \\sum_{s'} P_h(s' | s, a) v_{h+1}(s') - v_h(s), \\\\
        v^\\star = \\arg\\min_v F(v), \\quad F(v) = \\sum_{h, s, a} q^v_h(s, a)
        + \\sum_s \\rho(s) v_0(s),

    whose gradient is minus the constraint residual of ``q^v`` (so ``q^{v*}`` lies in
    ``Delta(P)``) and whose Hessian is ``sum q^v g g^T`` with ``g = grad_v B^v``. This
    is the dual of Zimin and Neu (2013, Section 4, the O-REPS update), written with
    ``rho`` over the first layer instead of a single start state; its layer-wise
    normalisation there and the ``rho . v_0`` term here fix the same shift invariance.
    ``F`` is minimised by ``num_iterations`` damped Newton steps from ``v = 0``
    (direction ``-(H + lambda I)^{-1} grad``, step size the best of
    ``1, 1/2, ..., 2^{1 - num_step_sizes}`` and 0 by the value of ``F``: fixed shapes
    under ``vmap``). Everything is in the log domain: ``log q`` is returned, so weights
    far below the float range never underflow.

    Args:
        log_weights: ``[H, S, A]`` ``log w`` (e.g. ``log q_k - eta l_k``).
        transitions: ``[H, S, A, S]``.
        initial: ``[S]``.
        num_iterations: Newton steps (static).
        num_step_sizes: candidate step sizes per Newton step (static).

    Returns:
        ``(log q, v)``: ``[H, S, A]`` the projection's logarithm and ``[H, S]`` the dual
        solution.

    References:
        Zimin and Neu, "Online learning in episodic Markovian decision processes by
        relative entropy policy search", NeurIPS 2013 (O-REPS; the closed-form
        projection through the dual, Section 4).
    """
    chex.assert_rank(log_weights, 3)
    horizon, num_states, _ = log_weights.shape
    dtype = log_weights.dtype
    n = horizon * num_states

    def objective(v_flat):
        v = v_flat.reshape(horizon, num_states)
        log_q = _log_projected(log_weights, transitions, v)
        # sum exp(log_q) via log-sum-exp: a huge trial step gives +inf, not NaN.
        return jnp.exp(jax.nn.logsumexp(log_q)) + jnp.dot(initial, v[0])

    steps = 2.0 ** -jnp.arange(num_step_sizes, dtype=dtype)
    ridge = jnp.sqrt(jnp.finfo(dtype).eps)
    eye_layers = jnp.eye(horizon, dtype=dtype)
    shift_up = jnp.eye(horizon, k=1, dtype=dtype)  # block (h, h + 1)

    def newton(v_flat, _):
        v = v_flat.reshape(horizon, num_states)
        q = jnp.exp(_log_projected(log_weights, transitions, v))
        gradient = constraint_residual(q, transitions, initial).reshape(n)
        # Hessian sum_{h,s,a} q g g^T, g = e_{h+1} P_h(. | s, a) - e_{h, s}: block
        # tridiagonal. Diagonal blocks diag(sum_a q_h) + sum q_{h-1} P P^T, upper
        # blocks -sum_a q_h(s, a) P_h(s' | s, a).
        outflow = jnp.sum(q, axis=-1)  # [H, S]
        second = jnp.einsum(
            "hsa,hsat,hsau->htu", q[:-1], transitions[:-1], transitions[:-1]
        )
        second = jnp.concatenate([jnp.zeros_like(second[:1]), second], axis=0)
        diagonal = jax.vmap(jnp.diag)(outflow) + second  # [H, S, S]
        upper = -jnp.einsum("hsa,hsat->hst", q, transitions)  # [H, S, S]
        hessian = (
            jnp.einsum("hg,hst->hsgt", eye_layers, diagonal)
            + jnp.einsum("hg,hst->hsgt", shift_up, upper)
            + jnp.einsum("hg,hst->gths", shift_up, upper)
        ).reshape(n, n)
        scale = jnp.mean(jnp.diag(hessian)) + jnp.finfo(dtype).tiny
        direction = -jnp.linalg.solve(
            hessian + ridge * scale * jnp.eye(n, dtype=dtype), gradient
        )
        trial = v_flat[None] + steps[:, None] * direction[None]
        values = jax.vmap(objective)(trial)
        values = jnp.where(jnp.isfinite(values), values, jnp.inf)
        best = jnp.argmin(values)
        # "<=": near the optimum the decrease is below the resolution of F, and the
        # (then full) Newton step still shrinks the residual quadratically.
        improved = values[best] <= objective(v_flat)
        return jnp.where(improved, trial[best], v_flat), None

    v_flat, _ = jax.lax.scan(newton, jnp.zeros((n,), dtype), None, num_iterations)
    v = v_flat.reshape(horizon, num_states)
    return _log_projected(log_weights, transitions, v), v
