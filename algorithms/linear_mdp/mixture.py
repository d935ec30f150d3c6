"""Value-targeted regression for linear mixture MDPs: UCRL-VTR and UCRL-VTR+.

Protocol (``envs.linear_mdp``): the observation is
:class:`~envs.linear_mdp.LinearMixtureObs` (features ``phi(s' | s, a) [S, A, S, d]``
and the known rewards ``[H, S, A]``); the action is a one-hot greedy policy
``[H, S, A]``; the feedback is the trajectory. Transitions are time-homogeneous,
``P(s' | s, a) = <phi(s' | s, a), theta*>``, so one ``theta`` is regressed from every
step's data.

Value-targeted regression (Ayoub et al. 2020): with ``phi_V(s, a) = sum_{s'} phi(s' |
s, a) V(s')``, the next-state value is a linear observation,
``E[V(s_{h+1}) | s_h, a_h] = <phi_V(s_h, a_h), theta*>``: each step adds the pair
``(x, y) = (phi_{V_{h+1}}(s_h, a_h), V_{h+1}(s_{h+1}))`` with the value function the
learner planned with in that episode. The per-episode cost is fixed (a ``d x d``
Cholesky solve and the planning backup), whatever the episode index.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import Learner, check_nonnegative, check_positive, float_dtype
from algorithms.linear_mdp.lsvi import _check_shapes, _refresh_inverse, elliptical_bonus
from algorithms.tabular import greedy_policy

Array = jax.Array

__all__ = ["UCRLVTRState", "ucrl_vtr", "ucrl_vtr_plus", "vtr_q_values"]


class UCRLVTRState(NamedTuple):
    """State of :func:`ucrl_vtr` / :func:`ucrl_vtr_plus`."""

    gram: Array  # [d, d] Lambda = reg I + sum x x^T / sigma^2
    gram_inv: Array  # [d, d]
    target: Array  # [d] sum x y / sigma^2
    gram2: Array  # [d, d] second-moment regression (UCRL-VTR+ only)
    gram2_inv: Array  # [d, d]
    target2: Array  # [d]
    values: Array  # [H + 1, S] the optimistic V of the current episode (V_H = 0)


def vtr_q_values(features, rewards, theta, gram_inv, beta):
    """Optimistic action values of a linear mixture model, and the values used.

    .. math::

        Q_h(s, a) = \\min\\{ r_h(s, a) + \\langle \\phi_{V_{h+1}}(s, a), \\hat\\theta
        \\rangle + \\beta \\|\\phi_{V_{h+1}}(s, a)\\|_{\\Lambda^{-1}},\\; H - h \\}.

    Returns:
        ``(Q [H, S, A], V [H + 1, S])``.
    """
    horizon, num_states, _ = rewards.shape

    def backward_step(value_next, h):
        x = jnp.einsum("satd,t->sad", features, value_next)
        q_h = rewards[h] + x @ theta + beta * elliptical_bonus(x, gram_inv)
        q_h = jnp.minimum(q_h, (horizon - h).astype(rewards.dtype))
        value = jnp.max(q_h, axis=-1)
        return value, (q_h, value)

    terminal = jnp.zeros((num_states,), rewards.dtype)
    _, (q_values, values) = jax.lax.scan(
        backward_step, terminal, jnp.arange(horizon), reverse=True
    )
    return q_values, jnp.concatenate([values, terminal[None]])


def _vtr_learner(num_states, dim, horizon, reg, beta, bernstein, beta_var):
    def init(key):
        del key
        dtype = float_dtype()
        eye = jnp.eye(dim, dtype=dtype)
        return UCRLVTRState(
            reg * eye,
            eye / reg,
            jnp.zeros((dim,), dtype),
            reg * eye,
            eye / reg,
            jnp.zeros((dim,), dtype),
            jnp.zeros((horizon + 1, num_states), dtype),
        )

    def act(key, state, obs):
        del key
        features = obs.features.astype(state.gram.dtype)
        theta = state.gram_inv @ state.target
        q_values, values = vtr_q_values(
            features, obs.rewards, theta, state.gram_inv, beta
        )
        return greedy_policy(q_values), state._replace(values=values)

    def update(state, obs, action, trajectory):
        del action
        dtype = state.gram.dtype
        features = obs.features.astype(dtype)
        states, actions = trajectory.states, trajectory.actions
        value_next = state.values[1:]  # [H, S] V_{h+1}
        phi_sa = features[states, actions]  # [H, S, d] phi(. | s_h, a_h)
        x = jnp.einsum("htd,ht->hd", phi_sa, value_next)  # phi_V
        x2 = jnp.einsum("htd,ht->hd", phi_sa, value_next**2)  # phi_{V^2}
        # y_h = V_{h+1}(s_{h+1}); no next state after step H - 1, where V_H = 0.
        next_states = jnp.concatenate([states[1:], states[-1:]])
        y = jnp.take_along_axis(value_next, next_states[:, None], axis=1)[:, 0]
        y = y.at[-1].set(0.0)
        if bernstein:
            # Zhou, Gu and Szepesvari 2021, Alg. 1: variance estimate from the
            # second-moment regression, plus an error term, floored at H^2 / d.
            theta = state.gram_inv @ state.target
            theta2 = state.gram2_inv @ state.target2
            h_float = jnp.asarray(horizon, dtype)
            second = jnp.clip(x2 @ theta2, 0.0, h_float**2)
            first = jnp.clip(x @ theta, 0.0, h_float)
            error = jnp.minimum(
                h_float**2, 2 * h_float * beta_var * elliptical_bonus(x, state.gram_inv)
            ) + jnp.minimum(
                h_float**2, beta_var * elliptical_bonus(x2, state.gram2_inv)
            )
            variance = jnp.maximum(h_float**2 / dim, second - first**2 + error)
        else:
            variance = jnp.ones((horizon,), dtype)
        gram = state.gram + jnp.einsum("hi,hj,h->ij", x, x, 1.0 / variance)
        target = state.target + jnp.einsum("hi,h->i", x, y / variance)
        gram2 = state.gram2 + x2.T @ x2
        target2 = state.target2 + x2.T @ y**2
        return state._replace(
            gram=gram,
            gram_inv=_refresh_inverse(gram),
            target=target,
            gram2=gram2,
            gram2_inv=_refresh_inverse(gram2),
            target2=target2,
        )

    return Learner(init, act, update)


def ucrl_vtr(
    num_states: int, num_actions: int, dim: int, horizon: int, *, beta=1.0, reg=1.0
) -> Learner:
    """UCRL-VTR: optimistic planning on a value-targeted ridge estimate of ``theta*``.

    .. math::

        \\hat\\theta_k = \\Lambda_k^{-1} \\sum_{\\tau < k, h} \\phi_{V^\\tau_{h+1}}
        (s^\\tau_h, a^\\tau_h) V^\\tau_{h+1}(s^\\tau_{h+1}), \\qquad
        \\Lambda_k = \\lambda I + \\sum \\phi_V \\phi_V^\\top,

    then :func:`vtr_q_values` with bonus ``beta ||phi_V||_{Lambda^{-1}}`` and the
    greedy policy.

    Args:
        num_states, num_actions, dim, horizon: S, A, d, H.
        beta: bonus scale (traceable; the theory's is of order ``H sqrt(d log T)``).
        reg: ridge parameter lambda > 0 (traceable).

    References:
        Ayoub, Jia, Szepesvari, Wang and Yang, "Model-Based Reinforcement Learning with
        Value-Targeted Regression", ICML 2020, Algorithm 1 (UCRL-VTR); regret
        ``O~(d H sqrt(T))`` (their Theorem 1, H-scaling from memory, unverified).
    """
    num_states, _, dim, horizon = _check_shapes(num_states, num_actions, dim, horizon)
    check_nonnegative(beta, "beta")
    check_positive(reg, "reg")
    return _vtr_learner(num_states, dim, horizon, reg, beta, False, 0.0)


def ucrl_vtr_plus(
    num_states: int,
    num_actions: int,
    dim: int,
    horizon: int,
    *,
    beta=1.0,
    beta_var=1.0,
    reg=1.0,
) -> Learner:
    """UCRL-VTR+: value-targeted regression weighted by Bernstein variance estimates.

    Each pair ``(x, y)`` enters the regression with weight ``1 / sigma_bar^2``,

    .. math::

        \\bar\\sigma^2 = \\max\\{H^2 / d,\\; [\\bar{\\mathbb{V}} V](s, a) + E\\},
        \\quad [\\bar{\\mathbb{V}} V] = [\\langle \\phi_{V^2}, \\tilde\\theta
        \\rangle]_{[0, H^2]} - [\\langle \\phi_V, \\hat\\theta \\rangle]_{[0, H]}^2,

    ``E = min(H^2, 2 H beta_var ||phi_V||_{Lambda^{-1}}) + min(H^2, beta_var
    ||phi_{V^2}||_{Lambda2^{-1}})``, where ``tilde theta`` is an unweighted ridge
    regression of ``V(s')^2`` on ``phi_{V^2}``. Planning as :func:`ucrl_vtr` with the
    weighted ``hat theta`` and ``Lambda``.

    Args:
        num_states, num_actions, dim, horizon: S, A, d, H.
        beta: bonus scale of the planning step (traceable).
        beta_var: confidence scale of the variance estimate's error term (traceable).
        reg: ridge parameter lambda > 0 (traceable).

    References:
        Zhou, Gu and Szepesvari, "Nearly Minimax Optimal Reinforcement Learning for
        Linear Mixture Markov Decision Processes", COLT 2021, Algorithm 1
        (UCRL-VTR+); regret ``O~(d H sqrt(T))`` against the lower bound
        ``Omega(d H sqrt(T))`` (their Theorems 5.3 and 5.6; numbers from memory,
        unverified). Their single-confidence-set constants are replaced by the two
        traceable scales above.
    """
    num_states, _, dim, horizon = _check_shapes(num_states, num_actions, dim, horizon)
    check_nonnegative(beta, "beta")
    check_nonnegative(beta_var, "beta_var")
    check_positive(reg, "reg")
    return _vtr_learner(num_states, dim, horizon, reg, beta, True, beta_var)
