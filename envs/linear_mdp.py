"""Linear MDPs and linear mixture MDPs with finite state spaces, exact regret.

Both families are tabular MDPs (``envs.tabular_mdp``) whose transitions and rewards
have a known low-dimensional structure; every instance is turned into its
``TabularMDPParams`` once, at ``reset``, and the episode simulation is that of
``envs.tabular_mdp`` (reused, not re-implemented). The exact regret
``V*(rho) - V^pi(rho)`` is that of ``envs.tabular_mdp`` for linear mixture MDPs; for
linear MDPs the same backward induction is computed through the features
(:func:`linear_backward_induction`, :func:`linear_policy_value`): ``O(H S A d)`` per
episode instead of reading the ``[H, S, A, S]`` kernel (the same values up to float
rounding; tested against the tabular ones). Steps are 0-based (``h = 0, ..., H - 1``).

**Linear MDP** (Jin, Yang, Wang and Jordan, 2020, Assumption A): known features
``phi(s, a) in R^d`` with

.. math::

    P_h(s' | s, a) = \\langle \\phi(s, a), \\mu_h(s') \\rangle, \\qquad
    r_h(s, a) = \\langle \\phi(s, a), \\theta_h \\rangle .

**Linear mixture MDP** (Ayoub et al., 2020; Zhou, Gu and Szepesvari, 2021): known
features ``phi(s' | s, a) in R^d`` of the transition and an unknown ``theta*``,

.. math::

    P(s' | s, a) = \\langle \\phi(s' | s, a), \\theta^* \\rangle ,

with a known reward ``r_h(s, a)``.

**Protocol (DESIGN.md).** One round is one episode; the action is a policy table
``[H, S, A]``; the feedback is the :class:`~envs.tabular_mdp.Trajectory`; ``info`` is
:class:`~envs.core.StepInfo` with the exact regret. The *observation* is what the
learner is told about the problem: the feature table ``phi [S, A, d]`` for a linear MDP
(:class:`LinearMDPObs`), and the features ``phi [S, A, S, d]`` with the known rewards
``[H, S, A]`` for a linear mixture MDP (:class:`LinearMixtureObs`). Passing the
features as the observation lets the runner draw a fresh random instance per seed while
the learner, written for one instance, still knows its features.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, StepInfo, check_int, check_positive, float_dtype
from envs.tabular_mdp import (
    TabularMDPParams,
    TabularMDPState,
    _simulate_episode_unrolled,
    random_tabular_mdp,
    tabular_mdp,
)

Array = jax.Array

__all__ = [
    "LinearMDPObs",
    "LinearMDPParams",
    "LinearMixtureObs",
    "LinearMixtureParams",
    "linear_backward_induction",
    "linear_mdp",
    "linear_mdp_from_tabular",
    "linear_mixture_hard_instance",
    "linear_mixture_mdp",
    "linear_mixture_to_tabular",
    "linear_policy_value",
    "linear_to_tabular",
    "random_linear_mdp",
    "random_linear_mixture_mdp",
    "sample_linear_mdp_params",
    "sample_linear_mixture_params",
    "tabular_as_linear_mdp",
    "two_state_linear_mdp",
]

# The tabular env's step and reset work for any TabularMDPParams (they do not close over
# an instance): the linear families reuse them for simulation and exact regret.
_TABULAR = random_tabular_mdp(1, 1, 1)


class LinearMDPParams(NamedTuple):
    """A linear MDP with a finite state space (the horizon is ``theta.shape[0]``)."""

    features: Array  # [S, A, d] phi(s, a)
    mu: Array  # [H, d, S] mu_h(s'), P_h(s' | s, a) = phi(s, a) . mu_h(s')
    theta: Array  # [H, d] r_h(s, a) = phi(s, a) . theta_h
    initial: Array  # [S] initial state distribution


class LinearMDPObs(NamedTuple):
    """What a linear-MDP learner is told: the known features."""

    features: Array  # [S, A, d]


class LinearMixtureParams(NamedTuple):
    """A linear mixture MDP (time-homogeneous transitions, known rewards)."""

    features: Array  # [S, A, S, d] phi(s' | s, a)
    theta: Array  # [d] P(s' | s, a) = phi(s' | s, a) . theta
    rewards: Array  # [H, S, A] known rewards in [0, 1]
    initial: Array  # [S]


class LinearMixtureObs(NamedTuple):
    """What a linear-mixture learner is told: the features and the known rewards."""

    features: Array  # [S, A, S, d]
    rewards: Array  # [H, S, A]


class LinearEnvState(NamedTuple):
    """The tabular form of the instance (computed once, at reset) and ``V*``."""

    tabular: TabularMDPParams
    inner: TabularMDPState  # the cached optimal value V*_0(rho)


class LinearMDPEnvState(NamedTuple):
    """A linear MDP's tabular form and ``V*`` (as :class:`LinearEnvState`), and its
    features as ``[d, S, A]`` for the per-episode policy evaluation."""

    tabular: TabularMDPParams
    inner: TabularMDPState  # the cached optimal value V*_0(rho)
    features_t: Array  # [d, S, A]


def linear_to_tabular(params: LinearMDPParams) -> TabularMDPParams:
    """The tabular MDP of a linear MDP: ``P = phi mu^T``, ``r = phi theta``."""
    chex.assert_rank(params.features, 3)
    chex.assert_rank(params.mu, 3)
    transitions = jnp.einsum("sad,hdt->hsat", params.features, params.mu)
    rewards = jnp.einsum("sad,hd->hsa", params.features, params.theta)
    return TabularMDPParams(transitions, rewards, params.initial)


def linear_mixture_to_tabular(params: LinearMixtureParams) -> TabularMDPParams:
    """The tabular MDP of a linear mixture MDP: ``P(s'|s,a) = phi(s'|s,a) . theta``."""
    chex.assert_rank(params.features, 4)
    horizon = params.rewards.shape[0]
    transitions = jnp.einsum("satd,d->sat", params.features, params.theta)
    transitions = jnp.broadcast_to(transitions, (horizon, *transitions.shape))
    return TabularMDPParams(transitions, params.rewards, params.initial)


def _features_t(params: LinearMDPParams) -> Array:
    """The features as ``[d, S, A]`` (see :func:`_linear_backup`)."""
    return jnp.moveaxis(params.features, -1, 0)


def _linear_backup(
    params: LinearMDPParams, features_t: Array, h: int, value_next: Array
) -> Array:
    """``Q_h(s, a) = r_h(s, a) + sum_s' P_h(s' | s, a) V_{h+1}(s')`` in linear form,

    .. math::

        Q_h(s, a) = \\phi(s, a)^\\top \\big(\\theta_h + \\mu_h V_{h+1}\\big),

    ``O(d S + S A d)`` per step instead of the tabular ``O(S^2 A)`` (and without
    reading the ``[H, S, A, S]`` kernel: under ``vmap`` over 100 seeds that table is
    32 MB and its reads dominated the environment's cost).
    """
    weights = params.theta[h] + params.mu[h] @ value_next  # [d]
    # With the features as [d, S, A] the contraction is a sum of d scaled [S, A]
    # planes, vectorised over (s, a): measured ~2x faster on CPU under vmap than
    # ``features @ weights`` with d = 10 innermost.
    return jnp.einsum("d,dsa->sa", weights, features_t)  # [S, A]


def linear_backward_induction(params: LinearMDPParams) -> tuple[Array, Array]:
    """``(Q*, V*)`` of a linear MDP, shapes ``[H, S, A]`` and ``[H + 1, S]``.

    The backward induction of :func:`envs.tabular_mdp.backward_induction` (Puterman
    1994, Chapter 4) with the backup computed through the linear structure
    (:func:`_linear_backup`): the same values up to float rounding.
    """
    horizon = params.theta.shape[0]
    num_states = params.features.shape[0]
    features_t = _features_t(params)
    value = jnp.zeros((num_states,), params.features.dtype)
    q_values, values = [], [value]
    for h in reversed(range(horizon)):  # H is static and small: unrolled
        q_h = _linear_backup(params, features_t, h, value)
        value = jnp.max(q_h, axis=-1)
        q_values.append(q_h)
        values.append(value)
    return jnp.stack(q_values[::-1]), jnp.stack(values[::-1])


def linear_policy_value(
    params: LinearMDPParams, policy: Array, features_t: Array | None = None
) -> Array:
    """``V^pi [H + 1, S]`` of a (stochastic, non-stationary) policy ``[H, S, A]``.

    :func:`envs.tabular_mdp.policy_value` through the linear structure:
    ``V^pi_h(s) = sum_a pi_h(a | s) phi(s, a)^T (theta_h + mu_h V^pi_{h+1})``,
    ``V^pi_H = 0``. Exact (float rounding aside), ``O(H S A d)``. ``features_t``:
    the features as ``[d, S, A]`` if the caller keeps them (the env does).
    """
    horizon = params.theta.shape[0]
    num_states = params.features.shape[0]
    chex.assert_shape(policy, (horizon, num_states, params.features.shape[1]))
    policy = policy.astype(params.features.dtype)
    if features_t is None:
        features_t = _features_t(params)
    value = jnp.zeros((num_states,), params.features.dtype)
    values = [value]
    for h in reversed(range(horizon)):
        backup = _linear_backup(params, features_t, h, value)
        value = jnp.sum(policy[h] * backup, axis=-1)
        values.append(value)
    return jnp.stack(values[::-1])


def _linear_env(name, params, sample_params) -> Env:
    """A linear MDP env: simulated on its tabular form (built once, at reset; the
    episode is ``envs.tabular_mdp.simulate_episode`` bit for bit, with the unrolled
    Threefry draws and the ``P_h(. | s, a)`` rows gathered), values (``V*`` at reset,
    ``V^{pi_k}`` for the regret) computed in linear form."""

    def reset(key, params):
        del key
        _, optimal_values = linear_backward_induction(params)
        optimal = TabularMDPState(jnp.dot(params.initial, optimal_values[0]))
        state = LinearMDPEnvState(
            linear_to_tabular(params), optimal, _features_t(params)
        )
        return state, _linear_obs(params)

    def step(key, state, policy, params):
        policy = policy.astype(params.features.dtype)
        trajectory = _simulate_episode_unrolled(
            key, state.tabular, policy, gather_rows=True
        )
        values = linear_policy_value(params, policy, state.features_t)
        regret = state.inner.optimal_value - jnp.dot(params.initial, values[0])
        return state, _linear_obs(params), trajectory, StepInfo(regret=regret)

    return Env(reset, step, params, sample_params, name)


def _structured_env(name, params, sample_params, to_tabular, to_obs) -> Env:
    def reset(key, params):
        tabular = to_tabular(params)
        inner, _ = _TABULAR.reset(key, tabular)
        return LinearEnvState(tabular, inner), to_obs(params)

    def step(key, state, policy, params):
        inner, _, trajectory, info = _TABULAR.step(
            key, state.inner, policy, state.tabular
        )
        return state._replace(inner=inner), to_obs(params), trajectory, info

    return Env(reset, step, params, sample_params, name)


def _linear_obs(params: LinearMDPParams) -> LinearMDPObs:
    return LinearMDPObs(params.features)


def _mixture_obs(params: LinearMixtureParams) -> LinearMixtureObs:
    return LinearMixtureObs(params.features, params.rewards)


# --------------------------------------------------------------------------------------
# Linear MDPs.
# --------------------------------------------------------------------------------------


def linear_mdp(features, mu, theta, initial, horizon: int) -> Env:
    """A linear MDP from its features ``phi``, measures ``mu`` and reward weights.

    Args:
        features: ``[S, A, d]`` known features ``phi(s, a)``.
        mu: ``[d, S]`` (the same at every step) or ``[H, d, S]``: ``mu_h(s')``.
        theta: ``[d]`` or ``[H, d]`` reward weights.
        initial: ``[S]`` initial state distribution.
        horizon: H >= 1.

    Returns:
        An :class:`~envs.core.Env` with :class:`LinearMDPParams`; observation
        :class:`LinearMDPObs`; action a policy ``[H, S, A]``; feedback a
        :class:`~envs.tabular_mdp.Trajectory`; ``info.regret`` exact.

    Raises:
        ValueError: on shapes that do not match, if ``phi mu^T`` is not a transition
            kernel (a row negative or not summing to 1), or ``phi theta`` leaves [0, 1].
    """
    horizon = check_int(horizon, "horizon")
    features = np.asarray(features, np.float64)
    mu = np.asarray(mu, np.float64)
    theta = np.asarray(theta, np.float64)
    if features.ndim != 3:
        raise ValueError(f"features must have shape [S, A, d], got {features.shape}")
    num_states, _, dim = features.shape
    if mu.ndim == 2:
        mu = np.broadcast_to(mu, (horizon, *mu.shape))
    if theta.ndim == 1:
        theta = np.broadcast_to(theta, (horizon, *theta.shape))
    if mu.shape != (horizon, dim, num_states):
        raise ValueError(
            f"mu must have shape [d, S] or [H, d, S] = {(horizon, dim, num_states)} "
            f"for features of shape {features.shape}, got {mu.shape}"
        )
    if theta.shape != (horizon, dim):
        raise ValueError(
            f"theta must have shape [d] or [H, d] with d = {dim}, got {theta.shape}"
        )
    transitions = np.einsum("sad,hdt->hsat", features, mu)
    rewards = np.einsum("sad,hd->hsa", features, theta)
    # tabular_mdp validates the kernel, the rewards and the initial distribution.
    tabular = tabular_mdp(transitions, np.clip(rewards, 0.0, 1.0), initial, horizon)
    if not np.all((rewards >= -1e-9) & (rewards <= 1 + 1e-9)):
        raise ValueError("rewards phi(s, a) . theta_h must lie in [0, 1]")
    dtype = float_dtype()
    params = LinearMDPParams(
        jnp.asarray(features, dtype),
        jnp.asarray(mu, dtype),
        jnp.asarray(theta, dtype),
        tabular.params.initial,
    )
    return _linear_env("linear_mdp", params, None)


def sample_linear_mdp_params(
    key,
    num_states: int,
    num_actions: int,
    dim: int,
    horizon: int,
    *,
    concentration=1.0,
) -> LinearMDPParams:
    """A random linear MDP: features on the simplex, so ``phi mu^T`` is a kernel.

    ``phi(s, a) ~ Dirichlet(concentration 1_d)``; each ``mu_h(., i)`` (the ``i``-th
    base distribution over next states) ``~ Dirichlet(1_S)``; ``theta_h ~ U[0, 1]^d``.
    Then ``P_h(. | s, a) = sum_i phi_i(s, a) mu_{h,i}`` is a mixture of distributions
    and ``r_h = phi . theta_h in [0, 1]``. The initial state is 0. Small
    ``concentration`` puts the features near the simplex's vertices.
    """
    dtype = float_dtype()
    k_phi, k_mu, k_theta = jax.random.split(key, 3)
    features = jax.random.dirichlet(
        k_phi, jnp.full((dim,), concentration, dtype), (num_states, num_actions), dtype
    )
    mu = jax.random.dirichlet(
        k_mu, jnp.ones((num_states,), dtype), (horizon, dim), dtype
    )
    theta = jax.random.uniform(k_theta, (horizon, dim), dtype)
    initial = jnp.zeros((num_states,), dtype).at[0].set(1.0)
    return LinearMDPParams(features, mu, theta, initial)


def random_linear_mdp(
    num_states: int, num_actions: int, dim: int, horizon: int, *, concentration=1.0
) -> Env:
    """Random linear MDPs drawn per seed by :func:`sample_linear_mdp_params`.

    ``params`` is ``None``: the runner draws one instance per seed (the same for the
    same seed across learners). Pass a batch from :func:`sample_linear_mdp_params` as
    ``instances`` to sweep fixed instances.
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    dim = check_int(dim, "dim")
    horizon = check_int(horizon, "horizon")
    check_positive(concentration, "concentration")

    def sample_params(key):
        return sample_linear_mdp_params(
            key, num_states, num_actions, dim, horizon, concentration=concentration
        )

    return _linear_env("random_linear_mdp", None, sample_params)


def linear_mdp_from_tabular(params: TabularMDPParams) -> LinearMDPParams:
    """A tabular MDP as a linear MDP with one-hot features, ``d = S A``.

    ``phi(s, a) = e_{(s, a)}``, ``mu_h((s, a), s') = P_h(s' | s, a)``,
    ``theta_h((s, a)) = r_h(s, a)`` (index ``(s, a) -> s A + a``).
    """
    horizon, num_states, num_actions = params.rewards.shape
    dim = num_states * num_actions
    features = jnp.eye(dim, dtype=params.rewards.dtype).reshape(
        num_states, num_actions, dim
    )
    mu = params.transitions.reshape(horizon, dim, num_states)
    theta = params.rewards.reshape(horizon, dim)
    return LinearMDPParams(features, mu, theta, params.initial)


def tabular_as_linear_mdp(transitions, rewards, initial, horizon: int) -> Env:
    """:func:`~envs.tabular_mdp.tabular_mdp` as a linear MDP (one-hot features).

    Arguments and validation as :func:`~envs.tabular_mdp.tabular_mdp`; ``d = S A``.
    """
    tabular = tabular_mdp(transitions, rewards, initial, horizon)
    return _linear_env(
        "tabular_as_linear_mdp", linear_mdp_from_tabular(tabular.params), None
    )


def two_state_linear_mdp(action_probs, horizon: int) -> Env:
    """A 2-state, d = 4 linear MDP whose optimal value is ``(H - 1) max_a p_a``.

    States 0 (bad, the start) and 1 (good); from either state action ``a`` leads to the
    good state w.p. ``p_a``, else to the bad one; the reward is 1 in the good state.
    Features ``phi(s, a) = (1 - s)(1 - p_a, p_a, 0, 0) + s (0, 0, 1 - p_a, p_a)`` (on
    the simplex); ``mu_0 = mu_2 = e_bad``, ``mu_1 = mu_3 = e_good``;
    ``theta = (0, 0, 1, 1)``. The optimal policy plays ``argmax_a p_a`` everywhere, and

    .. math::

        V^*_0(s_0 = 0) = (H - 1) \\max_a p_a ,

    while a policy that plays ``a`` always has value ``(H - 1) p_a``.

    Args:
        action_probs: ``[A]`` probabilities in [0, 1].
        horizon: H >= 1.
    """
    probs = np.asarray(action_probs, np.float64)
    if probs.ndim != 1 or np.any((probs < 0) | (probs > 1)):
        raise ValueError(f"action_probs must be a 1-D array in [0, 1], got {probs}")
    num_actions = probs.shape[0]
    features = np.zeros((2, num_actions, 4))
    features[0, :, 0], features[0, :, 1] = 1 - probs, probs
    features[1, :, 2], features[1, :, 3] = 1 - probs, probs
    mu = np.zeros((4, 2))
    mu[[0, 2], 0] = 1.0
    mu[[1, 3], 1] = 1.0
    env = linear_mdp(features, mu, [0.0, 0.0, 1.0, 1.0], [1.0, 0.0], horizon)
    return env._replace(name="two_state_linear_mdp")


# --------------------------------------------------------------------------------------
# Linear mixture MDPs.
# --------------------------------------------------------------------------------------


def linear_mixture_mdp(features, theta, rewards, initial, horizon: int) -> Env:
    """A linear mixture MDP from its features ``phi(s' | s, a)`` and ``theta*``.

    Args:
        features: ``[S, A, S, d]`` (``features[s, a, s']`` is ``phi(s' | s, a)``).
        theta: ``[d]`` the mixture weights.
        rewards: ``[S, A]`` or ``[H, S, A]`` known rewards in [0, 1].
        initial: ``[S]``.
        horizon: H >= 1.

    Returns:
        An :class:`~envs.core.Env` with :class:`LinearMixtureParams`; observation
        :class:`LinearMixtureObs`.

    Raises:
        ValueError: on shapes that do not match or if ``phi . theta`` is not a kernel.
    """
    horizon = check_int(horizon, "horizon")
    features = np.asarray(features, np.float64)
    theta = np.asarray(theta, np.float64)
    if features.ndim != 4 or features.shape[0] != features.shape[2]:
        raise ValueError(f"features must have shape [S, A, S, d], got {features.shape}")
    if theta.shape != (features.shape[-1],):
        raise ValueError(
            f"theta must have shape [d] = ({features.shape[-1]},), got {theta.shape}"
        )
    transitions = np.einsum("satd,d->sat", features, theta)
    tabular = tabular_mdp(transitions, rewards, initial, horizon)
    dtype = float_dtype()
    params = LinearMixtureParams(
        jnp.asarray(features, dtype),
        jnp.asarray(theta, dtype),
        tabular.params.rewards,
        tabular.params.initial,
    )
    return _structured_env(
        "linear_mixture_mdp", params, None, linear_mixture_to_tabular, _mixture_obs
    )


def sample_linear_mixture_params(
    key, num_states: int, num_actions: int, dim: int, horizon: int
) -> LinearMixtureParams:
    """A random linear mixture MDP: ``d`` base kernels mixed by ``theta* ~ Dir(1_d)``.

    ``phi(. | s, a)_i ~ Dirichlet(1_S)`` (the ``i``-th base kernel), ``theta*`` on the
    simplex, so ``P = sum_i theta*_i P_i`` is a kernel; rewards ``r_h(s, a) ~ U[0, 1]``
    (time-homogeneous); start in state 0.
    """
    dtype = float_dtype()
    k_phi, k_theta, k_r = jax.random.split(key, 3)
    base = jax.random.dirichlet(
        k_phi, jnp.ones((num_states,), dtype), (num_states, num_actions, dim), dtype
    )  # [S, A, d, S]
    features = jnp.swapaxes(base, -1, -2)  # [S, A, S, d]
    theta = jax.random.dirichlet(k_theta, jnp.ones((dim,), dtype), (), dtype)
    rewards = jax.random.uniform(k_r, (num_states, num_actions), dtype)
    rewards = jnp.broadcast_to(rewards, (horizon, num_states, num_actions))
    initial = jnp.zeros((num_states,), dtype).at[0].set(1.0)
    return LinearMixtureParams(features, theta, rewards, initial)


def random_linear_mixture_mdp(
    num_states: int, num_actions: int, dim: int, horizon: int
) -> Env:
    """Random linear mixture MDPs drawn per seed.

    See :func:`sample_linear_mixture_params`; ``params`` is ``None``.
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    dim = check_int(dim, "dim")
    horizon = check_int(horizon, "horizon")

    def sample_params(key):
        return sample_linear_mixture_params(key, num_states, num_actions, dim, horizon)

    return _structured_env(
        "random_linear_mixture_mdp",
        None,
        sample_params,
        linear_mixture_to_tabular,
        _mixture_obs,
    )


def linear_mixture_hard_instance(
    dim: int, horizon: int, *, delta=None, gap=None, signs=None
) -> Env:
    """The two-state hard linear mixture MDP with ``2^(d-1)`` actions.

    States ``x_1`` (start, reward 0) and ``x_2`` (absorbing, reward 1); actions
    ``a in {-1, 1}^(d-1)``. From ``x_1``, action ``a`` moves to ``x_2`` with probability
    ``delta + <mu, a>``, ``mu in {-gap, gap}^(d-1)``, else stays. Parametrised as a
    linear mixture with ``theta* = (1, mu)``, ``phi(x_2 | x_1, a) = (delta, a)``,
    ``phi(x_1 | x_1, a) = (1 - delta, -a)``, ``phi(x_2 | x_2, a) = (1, 0)``,
    ``phi(x_1 | x_2, a) = 0``. The best action is ``sign(mu)``; finding it means
    identifying ``d - 1`` signs from transitions whose probabilities differ by
    ``O(gap)``, which gives the ``Omega(d H sqrt(T))`` lower bound.

    Args:
        dim: d >= 2 (``2^(d-1)`` actions; keep d <= 10).
        horizon: H >= 2.
        delta: base probability of reaching ``x_2`` (default ``1 / H``).
        gap: ``|mu_i|`` (default ``delta / (2 (d - 1))``); needs ``(d - 1) gap <=
            delta`` and ``delta + (d - 1) gap <= 1``.
        signs: ``[d - 1]`` signs of ``mu`` (default all +1).

    References:
        Zhou, Gu and Szepesvari, "Nearly Minimax Optimal Reinforcement Learning for
        Linear Mixture Markov Decision Processes", COLT 2021, the lower-bound
        construction (Theorem 5.6; theorem number from memory, unverified). The
        parametrisation above is this module's; it realises the same kernel.
    """
    dim = check_int(dim, "dim", minimum=2)
    horizon = check_int(horizon, "horizon", minimum=2)
    if dim > 12:
        raise ValueError(f"dim must be <= 12 (2^(d-1) actions), got {dim}")
    delta = 1.0 / horizon if delta is None else float(delta)
    gap = delta / (2 * (dim - 1)) if gap is None else float(gap)
    signs = np.ones(dim - 1) if signs is None else np.asarray(signs, np.float64)
    if signs.shape != (dim - 1,) or not np.all(np.abs(signs) == 1):
        raise ValueError(f"signs must be d - 1 = {dim - 1} values in {{-1, 1}}")
    if not (0 < delta and (dim - 1) * gap <= delta and delta + (dim - 1) * gap <= 1):
        raise ValueError("need 0 < delta, (d - 1) gap <= delta, delta + (d-1) gap <= 1")
    actions = np.array(list(itertools.product([-1.0, 1.0], repeat=dim - 1)))
    num_actions = actions.shape[0]
    features = np.zeros((2, num_actions, 2, dim))
    features[0, :, 1, 0], features[0, :, 1, 1:] = delta, actions
    features[0, :, 0, 0], features[0, :, 0, 1:] = 1 - delta, -actions
    features[1, :, 1, 0] = 1.0
    theta = np.concatenate([[1.0], gap * signs])
    rewards = np.zeros((2, num_actions))
    rewards[1] = 1.0
    env = linear_mixture_mdp(features, theta, rewards, [1.0, 0.0], horizon)
    return env._replace(name="linear_mixture_hard_instance")
