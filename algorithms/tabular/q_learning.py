"""Model-free tabular learners: optimistic Q-learning (UCB-H, UCB-B), epsilon-greedy.

One round is one episode (``envs.tabular_mdp``). Jin et al.'s Q-learning updates
``Q_h(s_h, a_h)`` right after step ``h`` and acts greedily at step ``h + 1`` with the
updated table; since the update at step ``h`` only writes ``Q_h`` and reads ``Q_{h+1}``,
which has not yet been updated in the episode, playing the greedy policy of the table
at the episode's start and applying the ``H`` updates afterwards is the same algorithm.
The ``H`` updates write distinct rows, so they are applied at once (O(H) work per
episode).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import (
    Key,
    Learner,
    check_in_unit_interval,
    check_int,
    check_positive,
    float_dtype,
)
from algorithms.tabular.planning import greedy_policy_random_ties

Array = jax.Array

__all__ = [
    "QLearningState",
    "epsilon_greedy_q_learning",
    "q_learning_ucb",
    "ucb_bernstein_beta",
]


class QLearningState(NamedTuple):
    """State of :func:`q_learning_ucb` and :func:`epsilon_greedy_q_learning`."""

    q_values: Array  # [H, S, A]
    visits: Array  # [H, S, A] N_h(s, a)
    value_sums: Array  # [H, S, A] mu: sum of V_{h+1}(s') (UCB-B only)
    value_square_sums: Array  # [H, S, A] sigma: sum of V_{h+1}(s')^2 (UCB-B only)
    betas: Array  # [H, S, A] beta_{t} of the last update (UCB-B only)


def ucb_bernstein_beta(
    t, value_sums, value_square_sums, num_states, num_actions, horizon, iota, c1, c2
):
    """UCB-B's ``beta_t`` (Jin et al. 2018, Algorithm 2), elementwise, ``t >= 1``.

    .. math::

        W_t = \\frac1t\\Big(\\sigma - \\frac{\\mu^2}{t}\\Big), \\quad
        \\beta_t = \\min\\Big\\{c_1\\Big(\\sqrt{\\tfrac Ht (W_t + H)\\iota}
        + \\frac{\\sqrt{H^7 S A}\\,\\iota}{t}\\Big),\\; c_2\\sqrt{\\tfrac{H^3\\iota}{t}}
        \\Big\\}.
    """
    variance = jnp.maximum(value_square_sums - value_sums**2 / t, 0.0) / t
    bernstein = (
        jnp.sqrt(horizon / t * (variance + horizon) * iota)
        + jnp.sqrt(float(horizon) ** 7 * num_states * num_actions) * iota / t
    )
    return jnp.minimum(c1 * bernstein, c2 * jnp.sqrt(horizon**3 * iota / t))


def _q_learning(
    num_states, num_actions, horizon, *, bonus_fn, initial_value, policy_fn
) -> Learner:
    dtype = float_dtype()
    remaining = jnp.arange(horizon, 0, -1).astype(dtype)  # [H] H - h
    shape = (horizon, num_states, num_actions)

    def init(key: Key) -> QLearningState:
        del key
        zeros = jnp.zeros(shape, dtype)
        q0 = jnp.broadcast_to(initial_value(remaining)[:, None, None], shape)
        return QLearningState(q0.astype(dtype), zeros, zeros, zeros, zeros)

    def act(key: Key, state: QLearningState, obs):
        del obs
        return policy_fn(key, state.q_values), state

    def update(state: QLearningState, obs, action, feedback) -> QLearningState:
        del obs, action
        states, actions = feedback.states, feedback.actions
        rewards = feedback.rewards.astype(dtype)
        steps = jnp.arange(horizon)
        # V_{h+1}(s_{h+1}) = min(H - h - 1, max_a Q_{h+1}(s_{h+1}, a)), 0 after the
        # last step, from the table before this episode's updates.
        values = jnp.minimum(remaining[:, None], jnp.max(state.q_values, axis=-1))
        value_next = jnp.concatenate(
            [values[steps[1:], states[1:]], jnp.zeros((1,), dtype)]
        )
        index = (steps, states, actions)
        t = state.visits[index] + 1.0
        alpha = (horizon + 1.0) / (horizon + t)  # Jin et al. (2018), Sec. 3
        mu = state.value_sums[index] + value_next
        sigma = state.value_square_sums[index] + value_next**2
        bonus, beta = bonus_fn(t, alpha, mu, sigma, state.betas[index])
        q_old = state.q_values[index]
        q_new = (1.0 - alpha) * q_old + alpha * (rewards + value_next + bonus)
        return QLearningState(
            state.q_values.at[index].set(q_new),
            state.visits.at[index].set(t),
            state.value_sums.at[index].set(mu),
            state.value_square_sums.at[index].set(sigma),
            state.betas.at[index].set(beta),
        )

    return Learner(init, act, update)


def q_learning_ucb(
    num_states: int,
    num_actions: int,
    horizon: int,
    num_episodes: int,
    *,
    bonus: str = "hoeffding",
    bonus_scale=1.0,
    bernstein_scale=1.0,
    delta=0.1,
) -> Learner:
    """Optimistic Q-learning with a Hoeffding (UCB-H) or Bernstein (UCB-B) bonus.

    Jin, Allen-Zhu, Bubeck and Jordan (2018), Algorithm 1 (UCB-H): ``Q_h = H``
    initially; after playing ``(s_h, a_h)`` for the ``t``-th time and seeing
    ``r_h, s_{h+1}``,

    .. math::

        \\alpha_t = \\frac{H + 1}{H + t}, \\quad
        Q_h(s, a) \\leftarrow (1 - \\alpha_t) Q_h(s, a)
        + \\alpha_t\\big(r_h + V_{h+1}(s_{h+1}) + b_t\\big), \\quad
        V_h(s) = \\min\\big(H, \\max_a Q_h(s, a)\\big),

    with ``b_t = c sqrt(H^3 iota / t)``, ``iota = ln(S A T / delta)``, ``T = K H``.
    Algorithm 2 (UCB-B) keeps ``mu = sum V_{h+1}(s')``, ``sigma = sum V_{h+1}(s')^2``
    per ``(h, s, a)`` and uses ``b_t = (beta_t - (1 - alpha_t) beta_{t-1}) /
    (2 alpha_t)`` with ``beta_t`` of :func:`ucb_bernstein_beta` (``c_1 = c``,
    ``c_2 = bernstein_scale * c``, ``beta_0 = 0``). Differences: the cap and the
    initial value are the remaining horizon ``H - h`` (a valid, tighter bound) instead
    of ``H``; the paper's absolute constant ``c`` is ``bonus_scale``.

    Args:
        num_states, num_actions, horizon: S, A, H.
        num_episodes: K, for ``iota``.
        bonus: ``"hoeffding"`` (UCB-H) or ``"bernstein"`` (UCB-B).
        bonus_scale: c > 0 (traceable).
        bernstein_scale: c_2 / c_1 > 0 (traceable; UCB-B only).
        delta: failure probability p in (0, 1) (traceable).

    Returns:
        A :class:`~algorithms.core.Learner` with state :class:`QLearningState`.

    References:
        Jin, Allen-Zhu, Bubeck and Jordan, "Is Q-learning Provably Efficient?",
        NeurIPS 2018: Theorem 1 (UCB-H, regret ``O(sqrt(H^4 S A T iota^3))``),
        Theorem 2 (UCB-B, ``O(sqrt(H^3 S A T iota) + sqrt(H^9 S^3 A^3) iota^2)``),
        ``T = K H``. The UCB-B formulas (``W_t``, ``beta_t``, ``b_t``) are from memory
        of Algorithm 2 (the paper's text was not available here to verify).
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    horizon = check_int(horizon, "horizon")
    if bonus not in ("hoeffding", "bernstein"):
        raise ValueError(f"bonus must be 'hoeffding' or 'bernstein', got {bonus!r}")
    check_positive(bonus_scale, "bonus_scale")
    check_positive(bernstein_scale, "bernstein_scale")
    check_positive(num_episodes, "num_episodes")
    check_positive(delta, "delta")
    iota = jnp.log(num_states * num_actions * num_episodes * horizon / delta)

    def bonus_fn(t, alpha, mu, sigma, beta_prev):
        if bonus == "hoeffding":
            b = bonus_scale * jnp.sqrt(horizon**3 * iota / t)
            return b, jnp.zeros_like(b)
        beta = ucb_bernstein_beta(
            t,
            mu,
            sigma,
            num_states,
            num_actions,
            horizon,
            iota,
            bonus_scale,
            bernstein_scale * bonus_scale,
        )
        return (beta - (1.0 - alpha) * beta_prev) / (2.0 * alpha), beta

    return _q_learning(
        num_states,
        num_actions,
        horizon,
        bonus_fn=bonus_fn,
        initial_value=lambda remaining: remaining,
        policy_fn=greedy_policy_random_ties,
    )


def epsilon_greedy_q_learning(
    num_states: int, num_actions: int, horizon: int, *, epsilon=0.1
) -> Learner:
    """Q-learning with dithering exploration: epsilon-greedy on a zero-initialised Q.

    The same update as :func:`q_learning_ucb` without a bonus (``alpha_t = (H + 1) /
    (H + t)``, ``Q = 0`` initially); the policy plays ``argmax_a Q_h(s, a)`` w.p.
    ``1 - epsilon`` (ties at random) and a uniform action otherwise. The baseline of
    bsuite's DeepSea analysis: dithering needs ``~2^N`` episodes to find a reward
    ``N`` correct moves away.

    Args:
        num_states, num_actions, horizon: S, A, H.
        epsilon: in [0, 1] (traceable).

    References:
        Watkins and Dayan, "Q-learning", Machine Learning 1992; Osband et al.,
        "Behaviour Suite for Reinforcement Learning", ICLR 2020 (DeepSea and
        dithering).
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    horizon = check_int(horizon, "horizon")
    check_in_unit_interval(epsilon, "epsilon")

    def bonus_fn(t, alpha, mu, sigma, beta_prev):
        return jnp.zeros_like(t), jnp.zeros_like(t)

    def policy_fn(key, q):
        return (1.0 - epsilon) * greedy_policy_random_ties(
            key, q
        ) + epsilon / num_actions

    return _q_learning(
        num_states,
        num_actions,
        horizon,
        bonus_fn=bonus_fn,
        initial_value=jnp.zeros_like,
        policy_fn=policy_fn,
    )
