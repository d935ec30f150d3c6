"""Tabular episodic MDPs: one round is one episode, regret by exact backward induction.

An instance is a finite-horizon MDP ``(S, A, H, P, r, rho)``: ``P_h(s' | s, a)`` the
(possibly time-dependent) transitions, ``r_h(s, a) in [0, 1]`` deterministic rewards and
``rho`` the initial state distribution. Steps are 0-based here (``h = 0, ..., H - 1``;
papers write ``h = 1, ..., H``).

**Protocol (DESIGN.md).** One round is one episode. The learner's action is a policy
table ``pi [H, S, A]`` (``pi[h, s]`` a distribution over actions; a deterministic policy
is one-hot); the observation is ``()``. ``step`` simulates one episode of ``H`` steps
under ``pi`` with the step key (``s_0 ~ rho``, ``a_h ~ pi[h, s_h]``,
``s_{h+1} ~ P_h(. | s_h, a_h)``) and returns the :class:`Trajectory` as feedback. Its
``info.regret`` is the exact expected regret of the episode,

.. math::

    V^*_0(\\rho) - V^\\pi_0(\\rho) = \\sum_s \\rho(s) \\big(V^*_0(s) -
    V^\\pi_0(s)\\big),

with both values computed by backward induction from the true ``(P, r)`` (the optimal
value is computed once, at ``reset``, and carried in the state).

**Sampling.** Every draw is an inverse-CDF draw from one uniform
(``sample_categorical``): one for ``s_0`` and two per step (action, next state), from
keys split off the step key in a fixed order that does not depend on the policy, so two
learners run on the same seed see the same uniforms.
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

from envs import threefry
from envs.core import Env, StepInfo, check_int, float_dtype, sample_categorical

Array = jax.Array

__all__ = [
    "TabularMDPParams",
    "TabularMDPState",
    "Trajectory",
    "backward_induction",
    "combination_lock",
    "combination_lock_params",
    "deep_sea",
    "deep_sea_params",
    "garnet",
    "garnet_params",
    "grid_world",
    "policy_value",
    "random_tabular_mdp",
    "river_swim",
    "sample_tabular_mdp_params",
    "simulate_episode",
    "tabular_mdp",
    "validated_params",
]


class TabularMDPParams(NamedTuple):
    """A finite-horizon tabular MDP (the horizon is ``rewards.shape[0]``)."""

    transitions: Array  # [H, S, A, S] P_h(s' | s, a)
    rewards: Array  # [H, S, A] r_h(s, a) in [0, 1]
    initial: Array  # [S] initial state distribution rho


class Trajectory(NamedTuple):
    """The feedback of one episode."""

    states: Array  # [H] int32 s_0, ..., s_{H-1}
    actions: Array  # [H] int32 a_0, ..., a_{H-1}
    rewards: Array  # [H] r_h(s_h, a_h)


class TabularMDPState(NamedTuple):
    """The environment's state between episodes: only the cached oracle value."""

    optimal_value: Array  # [] V*_0(rho), computed at reset


def _check_params_shapes(params: TabularMDPParams) -> tuple[int, int, int]:
    chex.assert_rank(params.rewards, 3)
    horizon, num_states, num_actions = params.rewards.shape
    chex.assert_shape(
        params.transitions, (horizon, num_states, num_actions, num_states)
    )
    chex.assert_shape(params.initial, (num_states,))
    return horizon, num_states, num_actions


def backward_induction(params: TabularMDPParams) -> tuple[Array, Array]:
    """Optimal action values and values of a finite-horizon MDP by backward induction.

    .. math::

        V^*_H = 0, \\qquad
        Q^*_h(s, a) = r_h(s, a) + \\sum_{s'} P_h(s' | s, a) V^*_{h+1}(s'), \\qquad
        V^*_h(s) = \\max_a Q^*_h(s, a).

    Args:
        params: the MDP.

    Returns:
        ``(Q*, V*)`` of shapes ``[H, S, A]`` and ``[H + 1, S]`` (``V*[H] = 0``), in the
        params' dtype.

    References:
        Puterman, "Markov Decision Processes: Discrete Stochastic Dynamic Programming",
        1994, Chapter 4 (finite-horizon MDPs: the backward induction algorithm).
    """
    _, num_states, _ = _check_params_shapes(params)

    def backward_step(value_next, step_params):
        transitions_h, rewards_h = step_params
        q_h = rewards_h + jnp.einsum("sat,t->sa", transitions_h, value_next)
        value_h = jnp.max(q_h, axis=-1)
        return value_h, (q_h, value_h)

    terminal = jnp.zeros((num_states,), params.rewards.dtype)
    _, (q_values, values) = jax.lax.scan(
        backward_step, terminal, (params.transitions, params.rewards), reverse=True
    )
    return q_values, jnp.concatenate([values, terminal[None]], axis=0)


def policy_value(params: TabularMDPParams, policy: Array) -> Array:
    """The values ``V^pi [H + 1, S]`` of a (stochastic, non-stationary) policy.

    .. math::

        V^\\pi_H = 0, \\qquad
        V^\\pi_h(s) = \\sum_a \\pi_h(a | s) \\Big(r_h(s, a)
        + \\sum_{s'} P_h(s' | s, a) V^\\pi_{h+1}(s')\\Big).

    Args:
        params: the MDP.
        policy: ``[H, S, A]``, each ``policy[h, s]`` a distribution over actions.

    Returns:
        ``[H + 1, S]`` values, ``V^pi[H] = 0``.
    """
    horizon, num_states, num_actions = _check_params_shapes(params)
    chex.assert_shape(policy, (horizon, num_states, num_actions))
    policy = policy.astype(params.rewards.dtype)

    def backward_step(value_next, step_params):
        transitions_h, rewards_h, policy_h = step_params
        q_h = rewards_h + jnp.einsum("sat,t->sa", transitions_h, value_next)
        value_h = jnp.sum(policy_h * q_h, axis=-1)
        return value_h, value_h

    terminal = jnp.zeros((num_states,), params.rewards.dtype)
    _, values = jax.lax.scan(
        backward_step,
        terminal,
        (params.transitions, params.rewards, policy),
        reverse=True,
    )
    return jnp.concatenate([values, terminal[None]], axis=0)


def simulate_episode(key, params: TabularMDPParams, policy: Array) -> Trajectory:
    """One episode under ``policy``: ``s_0 ~ rho``, then H (action, state) draws."""
    horizon = params.rewards.shape[0]
    key_initial, key_steps = jax.random.split(key)
    first_state = sample_categorical(key_initial, params.initial)

    def env_step(state, step_inputs):
        h, step_key = step_inputs
        key_action, key_next = jax.random.split(step_key)
        action = sample_categorical(key_action, policy[h, state])
        reward = params.rewards[h, state, action]
        next_state = sample_categorical(key_next, params.transitions[h, state, action])
        return next_state, (state, action, reward)

    _, (states, actions, rewards) = jax.lax.scan(
        env_step,
        first_state,
        (jnp.arange(horizon), jax.random.split(key_steps, horizon)),
    )
    return Trajectory(states, actions, rewards)


def _categorical_index(u: Array, probs: Array) -> Array:
    """``sample_categorical``'s inverse-CDF draw from a given uniform ``u``."""
    cdf = jnp.cumsum(probs)
    index = jnp.sum(cdf < u * cdf[-1])
    return jnp.minimum(index, probs.shape[0] - 1).astype(jnp.int32)


def _episode_uniforms(key, horizon: int, dtype) -> tuple[Array, Array, Array]:
    """The uniforms :func:`simulate_episode` draws, bit for bit, all at once.

    ``(u_0 [], u_action [H], u_next [H])`` from the same keys (``split`` of the step
    key, ``split`` into ``horizon`` step keys, each split into its action and
    next-state keys), derived with ``envs.threefry``'s written-out cipher: none of them
    depends on the policy, so they are computed side by side before the episode's
    sequential part.
    """
    key_initial, key_steps = threefry.split(key, 2)
    step_pairs = jax.vmap(lambda k: threefry.split(k, 2))(
        threefry.split(key_steps, horizon)
    )  # [H, 2]: (action key, next-state key) of each step
    uniforms = jax.vmap(jax.vmap(lambda k: threefry.uniform(k, dtype)))(step_pairs)
    return threefry.uniform(key_initial, dtype), uniforms[:, 0], uniforms[:, 1]


def _simulate_episode_unrolled(
    key, params: TabularMDPParams, policy: Array, *, gather_rows: bool = False
) -> Trajectory:
    """:func:`simulate_episode`, bit for bit, written for XLA:CPU under ``vmap``.

    The same draws (:func:`_episode_uniforms`) and the same inverse-CDF rule; the rows
    ``policy[h, s_h]``, ``P_h(. | s_h, a_h)`` and ``r_h(s_h, a_h)`` are read through
    one-hot masks (exact: every other term is a zero) instead of gathers, which under
    ``vmap`` become batched gathers, and the ``H`` steps are written out.

    ``gather_rows=True`` reads ``P_h(. | s_h, a_h)`` and ``r_h(s_h, a_h)`` by indexing
    instead (the policy row stays a mask): the mask reads the whole ``[S, A, S]``
    table of step ``h``, ``S A`` times more memory than the row, which costs more than
    the gather once the table is large and per seed (a fresh instance per seed: the
    linear-MDP benchmark's ``S = A = 20``, 32 MB for 100 seeds). Same values.
    """
    horizon, num_states, num_actions = params.rewards.shape
    dtype = params.rewards.dtype
    u_initial, u_action, u_next = _episode_uniforms(key, horizon, dtype)
    state = _categorical_index(u_initial, params.initial)
    states, actions, rewards = [], [], []
    for h in range(horizon):
        state_mask = (jnp.arange(num_states) == state).astype(dtype)
        action = _categorical_index(
            u_action[h], jnp.sum(state_mask[:, None] * policy[h], axis=0)
        )
        if gather_rows:
            rewards.append(params.rewards[h, state, action])
            row = params.transitions[h, state, action]
        else:
            action_mask = (jnp.arange(num_actions) == action).astype(dtype)
            pair_mask = state_mask[:, None] * action_mask[None, :]  # [S, A]
            rewards.append(jnp.sum(pair_mask * params.rewards[h]))
            row = jnp.sum(pair_mask[..., None] * params.transitions[h], axis=(0, 1))
        states.append(state)
        actions.append(action)
        state = _categorical_index(u_next[h], row)
    return Trajectory(jnp.stack(states), jnp.stack(actions), jnp.stack(rewards))


def _initial_policy_value(params: TabularMDPParams, policy: Array) -> Array:
    """``rho . V^pi_0``: :func:`policy_value`'s backward pass, written out over h."""
    horizon, num_states, _ = params.rewards.shape
    value = jnp.zeros((num_states,), params.rewards.dtype)
    for h in reversed(range(horizon)):
        q_h = params.rewards[h] + jnp.einsum("sat,t->sa", params.transitions[h], value)
        value = jnp.sum(policy[h] * q_h, axis=-1)
    return jnp.dot(params.initial, value)


def _tabular_env(name: str, params, sample_params=None) -> Env:
    def reset(key, params):
        del key
        _, optimal_values = backward_induction(params)
        return TabularMDPState(jnp.dot(params.initial, optimal_values[0])), ()

    def step(key, state, policy, params):
        policy = policy.astype(params.rewards.dtype)
        trajectory = _simulate_episode_unrolled(key, params, policy)
        regret = state.optimal_value - _initial_policy_value(params, policy)
        return state, (), trajectory, StepInfo(regret=regret)

    return Env(reset, step, params, sample_params, name)


def validated_params(transitions, rewards, initial, horizon: int) -> TabularMDPParams:
    """Checks shapes and probabilities in float64 NumPy, then broadcasts over H."""
    horizon = check_int(horizon, "horizon")
    transitions = np.asarray(transitions, dtype=np.float64)
    rewards = np.asarray(rewards, dtype=np.float64)
    initial = np.asarray(initial, dtype=np.float64)
    if transitions.ndim not in (3, 4):
        raise ValueError(
            "transitions must have shape [S, A, S] or [H, S, A, S], got "
            f"{transitions.shape}"
        )
    num_states, num_actions = transitions.shape[-3], transitions.shape[-2]
    if transitions.shape[-1] != num_states:
        raise ValueError(
            f"transitions must map S = {num_states} states to S states, got shape "
            f"{transitions.shape}"
        )
    if transitions.ndim == 4 and transitions.shape[0] != horizon:
        raise ValueError(
            f"transitions has {transitions.shape[0]} steps but horizon is {horizon}"
        )
    if rewards.shape not in (
        (num_states, num_actions),
        (horizon, num_states, num_actions),
    ):
        raise ValueError(
            f"rewards must have shape [S, A] = {(num_states, num_actions)} or "
            f"[H, S, A] = "
            f"{(horizon, num_states, num_actions)}, got {rewards.shape}"
        )
    if initial.shape != (num_states,):
        raise ValueError(
            f"initial must have shape [S] = ({num_states},), got {initial.shape}"
        )
    if not np.all(np.isfinite(transitions)) or np.any(transitions < 0):
        raise ValueError("transitions must be finite and non-negative")
    row_sums = transitions.sum(axis=-1)
    if not np.allclose(row_sums, 1.0, rtol=0.0, atol=1e-6):
        worst = np.unravel_index(np.argmax(np.abs(row_sums - 1.0)), row_sums.shape)
        raise ValueError(
            "every transition row P(. | s, a) must sum to 1; the row at index "
            f"{tuple(int(i) for i in worst)} sums to {row_sums[worst]}"
        )
    if not np.all((rewards >= 0) & (rewards <= 1)):
        raise ValueError("rewards must lie in [0, 1]")
    if np.any(initial < 0) or not np.isclose(initial.sum(), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError(f"initial must be a distribution over states, got {initial}")
    transitions = np.broadcast_to(
        transitions, (horizon, num_states, num_actions, num_states)
    )
    rewards = np.broadcast_to(rewards, (horizon, num_states, num_actions))
    dtype = float_dtype()
    return TabularMDPParams(
        jnp.asarray(transitions, dtype),
        jnp.asarray(rewards, dtype),
        jnp.asarray(initial, dtype),
    )


def tabular_mdp(transitions, rewards, initial, horizon: int) -> Env:
    """An episodic tabular MDP from its transition and reward tables.

    Args:
        transitions: ``[S, A, S]`` (the same at every step) or ``[H, S, A, S]``; every
            row ``P_h(. | s, a)`` non-negative and summing to 1.
        rewards: ``[S, A]`` or ``[H, S, A]`` deterministic rewards in [0, 1].
        initial: ``[S]`` initial state distribution.
        horizon: H >= 1, the number of steps per episode (fixes shapes).

    Returns:
        An :class:`~envs.core.Env` whose ``params`` is a :class:`TabularMDPParams`
        (tables broadcast to ``[H, ...]``); action: a policy ``[H, S, A]``; feedback: a
        :class:`Trajectory`; info: :class:`~envs.core.StepInfo` with the exact regret.

    Raises:
        ValueError: on shapes that do not match, a transition row that is not a
            distribution, rewards outside [0, 1], or an invalid initial distribution.
    """
    return _tabular_env(
        "tabular_mdp", validated_params(transitions, rewards, initial, horizon)
    )


def sample_tabular_mdp_params(
    key,
    num_states: int,
    num_actions: int,
    horizon: int,
    *,
    concentration=1.0,
    time_homogeneous: bool = False,
) -> TabularMDPParams:
    """A random MDP: Dirichlet transitions, uniform rewards, start in state 0.

    Each row ``P_h(. | s, a) ~ Dirichlet(concentration * 1_S)`` (uniform on the simplex
    for ``concentration = 1``), each ``r_h(s, a) ~ U[0, 1]``, independently; with
    ``time_homogeneous`` one table is drawn and shared by every step. ``concentration``
    may be traced (a sweep over it is one program).
    """
    dtype = float_dtype()
    key_transitions, key_rewards = jax.random.split(key)
    alpha = jnp.full((num_states,), concentration, dtype)
    # One table per step is always drawn (the same random program for both settings);
    # a time-homogeneous MDP keeps step 0's table for every step.
    transitions = jax.random.dirichlet(
        key_transitions, alpha, (horizon, num_states, num_actions), dtype
    )
    rewards = jax.random.uniform(key_rewards, (horizon, num_states, num_actions), dtype)
    if time_homogeneous:
        transitions = jnp.broadcast_to(transitions[:1], transitions.shape)
        rewards = jnp.broadcast_to(rewards[:1], rewards.shape)
    initial = jnp.zeros((num_states,), dtype).at[0].set(1.0)
    return TabularMDPParams(transitions, rewards, initial)


def random_tabular_mdp(
    num_states: int,
    num_actions: int,
    horizon: int,
    *,
    concentration=1.0,
    time_homogeneous: bool = False,
) -> Env:
    """Random tabular MDPs drawn per seed by :func:`sample_tabular_mdp_params`.

    ``params`` is ``None``: the runner draws one instance per seed with
    ``sample_params`` (the same instance for the same seed across learners), so a sweep
    over instances is one ``vmap``.

    Args:
        num_states: S >= 1.
        num_actions: A >= 1.
        horizon: H >= 1.
        concentration: Dirichlet concentration > 0 of each transition row.
        time_homogeneous: draw one ``[S, A, S]`` / ``[S, A]`` table for all steps.

    Returns:
        An :class:`~envs.core.Env` as :func:`tabular_mdp`, with ``sample_params``.
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    horizon = check_int(horizon, "horizon")
    if not isinstance(concentration, jax.core.Tracer) and not float(concentration) > 0:
        raise ValueError(f"concentration must be > 0, got {concentration!r}")

    def sample_params(key):
        return sample_tabular_mdp_params(
            key,
            num_states,
            num_actions,
            horizon,
            concentration=concentration,
            time_homogeneous=time_homogeneous,
        )

    return _tabular_env("random_tabular_mdp", None, sample_params)


def river_swim(num_states: int = 6, horizon: int = 20) -> Env:
    """A RiverSwim chain: a small sure reward on the left bank, a large one upstream.

    States ``0, ..., S - 1`` along a river, start in state 0; action 0 swims left
    (downstream), action 1 right (upstream). Left always succeeds (``s -> max(s - 1,
    0)``). Right, against the current: from an interior state it moves right w.p. 0.35,
    stays w.p. 0.6 and drifts left w.p. 0.05; from state 0 it moves right w.p. 0.4 (else
    stays); from state ``S - 1`` it stays w.p. 0.6 (else drifts left). Rewards: 0.005
    for action 0 in state 0, 1 for action 1 in state ``S - 1``, 0 elsewhere. A dithering
    learner keeps collecting the small reward; the optimal policy swims right when the
    horizon leaves time to reach the far bank, which needs deep exploration.

    Args:
        num_states: S >= 2.
        horizon: H >= 1.

    Returns:
        An :class:`~envs.core.Env` as :func:`tabular_mdp`.

    References:
        Strehl and Littman, "An analysis of model-based Interval Estimation for Markov
        Decision Processes", JCSS 2008 (RiverSwim). The probabilities above are this
        module's choice, close to those common in the episodic literature (e.g. Osband,
        Russo and Van Roy, "(More) Efficient Reinforcement Learning via Posterior
        Sampling", NeurIPS 2013).
    """
    num_states = check_int(num_states, "num_states", minimum=2)
    horizon = check_int(horizon, "horizon")
    transitions = np.zeros((num_states, 2, num_states))
    for s in range(num_states):
        transitions[s, 0, max(s - 1, 0)] = 1.0
        if s == 0:
            transitions[s, 1, 0] = 0.6
            transitions[s, 1, 1] = 0.4
        elif s == num_states - 1:
            transitions[s, 1, s] = 0.6
            transitions[s, 1, s - 1] = 0.4
        else:
            transitions[s, 1, s + 1] = 0.35
            transitions[s, 1, s] = 0.6
            transitions[s, 1, s - 1] = 0.05
    rewards = np.zeros((num_states, 2))
    rewards[0, 0] = 0.005
    rewards[num_states - 1, 1] = 1.0
    initial = np.zeros(num_states)
    initial[0] = 1.0
    params = validated_params(transitions, rewards, initial, horizon)
    return _tabular_env("river_swim", params)


# --------------------------------------------------------------------------------------
# Exploration benchmarks: DeepSea, the combination lock, GARNET, a grid world.
# --------------------------------------------------------------------------------------


def deep_sea_params(
    action_mapping, *, deterministic: bool = True, unscaled_move_cost=0.01
) -> TabularMDPParams:
    """The DeepSea instance of size ``N`` with a given action mapping (traceable).

    The agent falls one row per step through an ``N x N`` grid (row = step ``h``,
    so ``H = N``), starting top-left; the state is its column ``s in {0, ..., N-1}``.
    In cell ``(h, s)`` the action ``action_mapping[h, s]`` means "right"
    (``s -> min(s + 1, N - 1)``; in the stochastic version it succeeds only w.p.
    ``1 - 1/N``, else the column stays), the other action "left"
    (``s -> max(s - 1, 0)``). bsuite's rewards: ``+1`` for "right" in column ``N - 1``
    (the treasure, bottom-right), ``-c / N`` for every "right" (``c`` the unscaled move
    cost). Rewards here are bsuite's plus ``c / N`` at every step (``[0, 1]``-valued:
    "left" pays ``c / N``, "right" 0, the treasure 1): a constant shift by ``c`` of
    every policy's return, so values differ from bsuite's by exactly ``c`` and regrets
    are unchanged. The optimal return is 1 (bsuite: ``1 - c``); a policy that never
    goes right collects ``c`` (bsuite: 0).

    Args:
        action_mapping: ``[N, N]`` integers in {0, 1}: which action is "right" in each
            cell (row = step, column = state).
        deterministic: bsuite's default; otherwise "right" fails w.p. ``1/N``.
        unscaled_move_cost: ``c`` in [0, 1] (bsuite default 0.01).

    Returns:
        :class:`TabularMDPParams` with ``H = S = N``, ``A = 2``, start in column 0.

    References:
        Osband, Van Roy, Russo and Wen, "Deep Exploration via Randomized Value
        Functions", JMLR 2019 (DeepSea); Osband et al., "Behaviour Suite for
        Reinforcement Learning", ICLR 2020 (bsuite's ``deep_sea`` environment, whose
        construction, randomised per-cell action mapping and rewards this follows).
    """
    action_mapping = jnp.asarray(action_mapping)
    chex.assert_rank(action_mapping, 2)
    size = action_mapping.shape[0]
    chex.assert_shape(action_mapping, (size, size))
    dtype = float_dtype()
    columns = jnp.arange(size)
    right = jax.nn.one_hot(jnp.minimum(columns + 1, size - 1), size, dtype=dtype)
    left = jax.nn.one_hot(jnp.maximum(columns - 1, 0), size, dtype=dtype)
    if not deterministic:
        stay = jnp.eye(size, dtype=dtype)
        right = (1.0 - 1.0 / size) * right + (1.0 / size) * stay
    move_cost = jnp.asarray(unscaled_move_cost, dtype) / size
    treasure = (columns == size - 1).astype(dtype)
    # Rewards of the "right" / "left" moves, each column: bsuite's plus move_cost.
    reward_right = treasure  # 1 - move_cost + move_cost at the last column
    reward_left = jnp.broadcast_to(move_cost, (size,))
    is_right = action_mapping[..., None] == jnp.arange(2)[None, None]  # [H, S, A]
    transitions = jnp.where(
        is_right[..., None], right[None, :, None], left[None, :, None]
    )
    rewards = jnp.where(
        is_right, reward_right[None, :, None], reward_left[None, :, None]
    )
    initial = jax.nn.one_hot(0, size, dtype=dtype)
    return TabularMDPParams(transitions, rewards, initial)


def deep_sea(
    size: int,
    *,
    deterministic: bool = True,
    unscaled_move_cost: float = 0.01,
    randomize_actions: bool = True,
) -> Env:
    """bsuite's DeepSea of size ``N`` (see :func:`deep_sea_params`), horizon ``N``.

    With ``randomize_actions`` (bsuite's definition) each instance draws its action
    mapping, ``action_mapping[h, s] ~ Bernoulli(1/2)`` independently per cell, so
    ``params`` is ``None`` and the runner draws one instance per seed (the same for
    every learner on the same seed). Without it action 1 is "right" everywhere (bsuite's
    debug mode) and ``params`` is that instance.

    Args:
        size: N >= 2 (the grid is N x N, the horizon N).
        deterministic: "right" always succeeds (bsuite's default).
        unscaled_move_cost: c in [0, 1]; "right" costs c / N (here shifted, see
            :func:`deep_sea_params`).
        randomize_actions: draw the per-cell action mapping per instance.

    Returns:
        An :class:`~envs.core.Env` as :func:`tabular_mdp` (S = N, A = 2, H = N).
    """
    size = check_int(size, "size", minimum=2)
    cost = float(unscaled_move_cost)
    if not 0.0 <= cost <= 1.0:
        raise ValueError(f"unscaled_move_cost must lie in [0, 1], got {cost}")

    def sample_params(key):
        mapping = jax.random.bernoulli(key, 0.5, (size, size)).astype(jnp.int32)
        return deep_sea_params(
            mapping, deterministic=deterministic, unscaled_move_cost=cost
        )

    if randomize_actions:
        return _tabular_env("deep_sea", None, sample_params)
    params = deep_sea_params(
        jnp.ones((size, size), jnp.int32),
        deterministic=deterministic,
        unscaled_move_cost=cost,
    )
    return _tabular_env("deep_sea", params, sample_params)


def combination_lock_params(code, num_actions: int) -> TabularMDPParams:
    """A combination lock: the secret ``code [H]`` must be entered in order.

    Two states: 0 ("on track") and 1 (an absorbing failure state). At step ``h`` in
    state 0, action ``code[h]`` stays on track and every other action falls into state
    1 for the rest of the episode. The only reward is 1 for entering the last digit
    correctly (``r_{H-1}(0, code[H-1]) = 1``). A policy that picks actions uniformly
    at random opens the lock w.p. ``A^{-H}``: exploration by dithering needs about
    ``A^H`` episodes, optimism about ``H A`` (one new digit per failure).

    Args:
        code: ``[H]`` integers in ``{0, ..., A - 1}`` (may be traced).
        num_actions: A >= 2.

    Returns:
        :class:`TabularMDPParams` with ``S = 2``, start in state 0.

    References:
        Whitehead, "Complexity and cooperation in Q-learning", ICML 1991 (the
        combination-lock lower bound for undirected exploration); Koenig and Simmons,
        "The effect of representation and knowledge on goal-directed exploration with
        reinforcement-learning algorithms", Machine Learning 1996.
    """
    code = jnp.asarray(code)
    chex.assert_rank(code, 1)
    horizon = code.shape[0]
    dtype = float_dtype()
    correct = jax.nn.one_hot(code, num_actions, dtype=dtype)  # [H, A]
    to_track = jnp.stack([correct, jnp.zeros_like(correct)], axis=1)  # [H, S, A]
    transitions = jnp.stack([to_track, 1.0 - to_track], axis=-1)  # [H, S, A, S]
    last = (jnp.arange(horizon) == horizon - 1).astype(dtype)
    rewards = to_track * last[:, None, None]
    initial = jnp.asarray([1.0, 0.0], dtype)
    return TabularMDPParams(transitions, rewards, initial)


def combination_lock(horizon: int, num_actions: int = 2) -> Env:
    """Combination locks with a secret code drawn per instance (uniform digits).

    See :func:`combination_lock_params`. ``params`` is ``None``: the runner draws one
    code per seed.
    """
    horizon = check_int(horizon, "horizon")
    num_actions = check_int(num_actions, "num_actions", minimum=2)

    def sample_params(key):
        code = jax.random.randint(key, (horizon,), 0, num_actions)
        return combination_lock_params(code, num_actions)

    return _tabular_env("combination_lock", None, sample_params)


def garnet_params(
    key, num_states: int, num_actions: int, branching: int, horizon: int
) -> TabularMDPParams:
    """A GARNET instance (Generic Average Reward Non-stationary Environment Testbed).

    Each ``(s, a)`` moves to ``b`` distinct next states drawn uniformly without
    replacement, with probabilities given by the gaps between ``b - 1`` sorted uniform
    cut points of [0, 1] (a uniform draw from the simplex); rewards
    ``r(s, a) ~ U[0, 1]``; the same tables at every step; start in state 0.

    References:
        Archibald, McKinnon and Thomas, "On the generation of Markov decision
        processes", JORS 1995; Bhatnagar, Sutton, Ghavamzadeh and Lee, "Natural
        actor-critic algorithms", Automatica 2009 (the GARNET(S, A, b) family).
    """
    dtype = float_dtype()
    key_support, key_cuts, key_rewards = jax.random.split(key, 3)
    shape = (num_states, num_actions)
    # b distinct next states: the b smallest of S iid uniforms.
    noise = jax.random.uniform(key_support, (*shape, num_states))
    ranks = jnp.argsort(jnp.argsort(noise, axis=-1), axis=-1)
    support = ranks < branching  # [S, A, S]
    cuts = jnp.sort(jax.random.uniform(key_cuts, (*shape, branching - 1), dtype), -1)
    edges = jnp.concatenate(
        [jnp.zeros((*shape, 1), dtype), cuts, jnp.ones((*shape, 1), dtype)], -1
    )
    weights = jnp.diff(edges, axis=-1)  # [S, A, b] on the simplex
    # The i-th support state (by rank) gets weights[..., i].
    probs = jnp.take_along_axis(weights, jnp.minimum(ranks, branching - 1), axis=-1)
    transitions = jnp.where(support, probs, 0.0)
    transitions = transitions / jnp.sum(transitions, axis=-1, keepdims=True)
    rewards = jax.random.uniform(key_rewards, shape, dtype)
    initial = jax.nn.one_hot(0, num_states, dtype=dtype)
    return TabularMDPParams(
        jnp.broadcast_to(transitions, (horizon, *shape, num_states)),
        jnp.broadcast_to(rewards, (horizon, *shape)),
        initial,
    )


def garnet(num_states: int, num_actions: int, branching: int, horizon: int) -> Env:
    """Random GARNET(S, A, b) MDPs drawn per seed (see :func:`garnet_params`)."""
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    branching = check_int(branching, "branching")
    horizon = check_int(horizon, "horizon")
    if branching > num_states:
        raise ValueError(
            f"branching must be <= num_states = {num_states}, got {branching}"
        )

    def sample_params(key):
        return garnet_params(key, num_states, num_actions, branching, horizon)

    return _tabular_env("garnet", None, sample_params)


def grid_world(size: int = 4, horizon: int = 10, *, slip: float = 0.1) -> Env:
    """A ``size x size`` grid: start top-left, reward 1 per step spent at the goal.

    States ``s = row * size + column``; actions 0-3 move up, right, down, left (a move
    into a wall stays). With probability ``slip`` the move goes in a uniformly random
    direction instead. The goal (bottom-right) is absorbing and pays 1 for every step
    spent there (``r(goal, a) = 1`` for all ``a``); every other reward is 0. The
    optimal policy walks a shortest path (``2 (size - 1)`` moves) and stays.

    Args:
        size: the grid's side, >= 2.
        horizon: H >= 1.
        slip: in [0, 1].

    Returns:
        An :class:`~envs.core.Env` as :func:`tabular_mdp` (S = size^2, A = 4).
    """
    size = check_int(size, "size", minimum=2)
    horizon = check_int(horizon, "horizon")
    slip = float(slip)
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip must lie in [0, 1], got {slip}")
    num_states = size * size
    moves = [(-1, 0), (0, 1), (1, 0), (0, -1)]
    goal = num_states - 1
    deterministic = np.zeros((num_states, 4, num_states))
    for s in range(num_states):
        row, col = divmod(s, size)
        for a, (dr, dc) in enumerate(moves):
            r2, c2 = row + dr, col + dc
            if not (0 <= r2 < size and 0 <= c2 < size) or s == goal:
                r2, c2 = row, col
            deterministic[s, a, r2 * size + c2] = 1.0
    random_move = deterministic.mean(axis=1, keepdims=True)
    transitions = (1.0 - slip) * deterministic + slip * random_move
    rewards = np.zeros((num_states, 4))
    rewards[goal] = 1.0
    initial = np.zeros(num_states)
    initial[0] = 1.0
    params = validated_params(transitions, rewards, initial, horizon)
    return _tabular_env("grid_world", params)
