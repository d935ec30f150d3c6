"""Latent MDPs with the context revealed in hindsight; exact regret against the best
history-independent (Markov) policy.

A latent MDP (Kwon et al. 2021) is a finite collection of ``M`` MDPs
``M_m = (S, A, H, nu_m, P_m, R_m)`` sharing states, actions and horizon, with mixing
weights ``w_m > 0``. At the start of each episode a context ``m ~ w`` is drawn and
the episode runs in ``M_m``; the agent does not observe ``m`` during the episode, only
after it ("context in hindsight", Zhou, Wang and Du 2023).

**Protocol** (as :mod:`envs.tabular_mdp`): one round is one episode; the action is a
Markov policy ``pi [H, S, A]`` (shared by all contexts, since the context is hidden);
the observation is ``()``; the feedback is a :class:`LatentTrajectory` (the
episode's states, actions, rewards and, in hindsight, its context).

**Comparator.** The value of a Markov policy is ``V(pi) = sum_m w_m <nu_m,
V^pi_{m,0}>``; the comparator is ``V* = max_pi V(pi)`` over Markov policies (the
history-independent class). ``V(pi)`` is multilinear in the decision rules
``pi_h(.|s)`` (each ``(h, s)`` is met at most once per episode), so the maximum is
attained at a deterministic policy and is computed EXACTLY at ``reset`` by evaluating
all ``A^(S H)`` deterministic Markov policies (vmapped; planning in latent MDPs is
NP-hard in general, so this is for small instances: at most ``2^16`` policies).
``info.regret = V* - V(pi_k)`` exactly.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, StepInfo, check_int, float_dtype, sample_categorical
from envs.tabular_mdp import TabularMDPParams, policy_value, simulate_episode

Array = jax.Array

MAX_POLICIES = 2**16

__all__ = [
    "LatentMDPParams",
    "LatentMDPState",
    "LatentTrajectory",
    "MAX_POLICIES",
    "best_markov_policy",
    "deterministic_policies",
    "latent_mdp",
    "latent_policy_value",
    "random_latent_mdp",
    "sample_latent_mdp_params",
]


class LatentMDPParams(NamedTuple):
    """M MDPs on shared (S, A, H) and their mixing weights."""

    transitions: Array  # [M, H, S, A, S] P_{m,h}(s' | s, a)
    rewards: Array  # [M, H, S, A] r_{m,h}(s, a) in [0, 1]
    initial: Array  # [M, S] nu_m
    weights: Array  # [M] w_m > 0, summing to 1


class LatentTrajectory(NamedTuple):
    """The feedback of one episode: a ``Trajectory`` plus the context in hindsight."""

    states: Array  # [H] int32
    actions: Array  # [H] int32
    rewards: Array  # [H]
    context: Array  # [] int32 m, revealed at the end of the episode


class LatentMDPState(NamedTuple):
    optimal_value: Array  # [] V* over Markov policies, computed at reset


def _context_mdp(params: LatentMDPParams, m) -> TabularMDPParams:
    return TabularMDPParams(params.transitions[m], params.rewards[m], params.initial[m])


def latent_policy_value(params: LatentMDPParams, policy: Array) -> Array:
    """``V(pi) = sum_m w_m <nu_m, V^pi_{m,0}>`` for a Markov policy ``[H, S, A]``."""
    chex.assert_rank(params.transitions, 5)
    policy = policy.astype(params.rewards.dtype)

    def one(transitions, rewards, initial):
        values = policy_value(TabularMDPParams(transitions, rewards, initial), policy)
        return jnp.dot(initial, values[0])

    per_context = jax.vmap(one)(params.transitions, params.rewards, params.initial)
    return jnp.dot(params.weights, per_context)


def deterministic_policies(num_states: int, num_actions: int, horizon: int) -> Array:
    """All ``A^(S H)`` deterministic Markov policies as actions ``[P, H, S]`` (int32).

    Raises:
        ValueError: more than :data:`MAX_POLICIES` policies.
    """
    count = num_actions ** (num_states * horizon)
    if count > MAX_POLICIES:
        raise ValueError(
            f"A^(S H) = {num_actions}^{num_states * horizon} deterministic policies "
            f"exceed {MAX_POLICIES}: the exact latent-MDP comparator is for small "
            "instances"
        )
    table = np.asarray(
        list(itertools.product(range(num_actions), repeat=num_states * horizon)),
        np.int32,
    ).reshape(count, horizon, num_states)
    return jnp.asarray(table)


def best_markov_policy(params: LatentMDPParams, policies: Array | None = None):
    """``(V*, pi* [H, S, A] one-hot)``: the best deterministic Markov policy, by
    evaluating every one (see the module docstring for why that is the best Markov
    policy)."""
    _, horizon, num_states, num_actions = params.rewards.shape
    if policies is None:
        policies = deterministic_policies(num_states, num_actions, horizon)
    dtype = params.rewards.dtype
    values = jax.lax.map(
        lambda acts: latent_policy_value(
            params, jax.nn.one_hot(acts, num_actions, dtype=dtype)
        ),
        policies,
        batch_size=256,
    )
    best = jnp.argmax(values)
    return values[best], jax.nn.one_hot(policies[best], num_actions, dtype=dtype)


def _latent_env(name: str, params, sample_params, shape) -> Env:
    num_states, num_actions, horizon = shape
    policies = deterministic_policies(num_states, num_actions, horizon)

    def reset(key, params):
        del key
        value, _ = best_markov_policy(params, policies)
        return LatentMDPState(value), ()

    def step(key, state, policy, params):
        policy = policy.astype(params.rewards.dtype)
        key_context, key_episode = jax.random.split(key)
        context = sample_categorical(key_context, params.weights)
        trajectory = simulate_episode(
            key_episode, _context_mdp(params, context), policy
        )
        regret = state.optimal_value - latent_policy_value(params, policy)
        feedback = LatentTrajectory(*trajectory, context)
        return state, (), feedback, StepInfo(regret=regret)

    return Env(reset, step, params, sample_params, name)


def latent_mdp(transitions, rewards, initial, weights, horizon: int) -> Env:
    """A latent MDP from explicit tables.

    Args:
        transitions: ``[M, S, A, S]`` or ``[M, H, S, A, S]``, rows distributions.
        rewards: ``[M, S, A]`` or ``[M, H, S, A]`` in [0, 1].
        initial: ``[M, S]`` distributions.
        weights: ``[M]`` positive, summing to 1.
        horizon: H.

    Raises:
        ValueError: shapes, non-stochastic rows, rewards outside [0, 1], weights not a
            positive distribution, or too many deterministic policies.
    """
    horizon = check_int(horizon, "horizon")
    transitions = np.asarray(transitions, np.float64)
    rewards = np.asarray(rewards, np.float64)
    initial = np.asarray(initial, np.float64)
    weights = np.asarray(weights, np.float64)
    if transitions.ndim == 4:
        transitions = np.broadcast_to(
            transitions[:, None],
            (transitions.shape[0], horizon, *transitions.shape[1:]),
        )
    if rewards.ndim == 3:
        rewards = np.broadcast_to(
            rewards[:, None], (rewards.shape[0], horizon, *rewards.shape[1:])
        )
    if transitions.ndim != 5 or rewards.ndim != 4:
        raise ValueError(
            "transitions must be [M, (H,) S, A, S], rewards [M, (H,) S, A]"
        )
    num_contexts, _, num_states, num_actions, _ = transitions.shape
    if transitions.shape != (
        num_contexts,
        horizon,
        num_states,
        num_actions,
        num_states,
    ):
        raise ValueError(f"transitions has shape {transitions.shape}")
    if rewards.shape != transitions.shape[:-1]:
        raise ValueError(
            f"rewards must have shape {transitions.shape[:-1]}, got {rewards.shape}"
        )
    if initial.shape != (num_contexts, num_states):
        raise ValueError(f"initial must have shape {(num_contexts, num_states)}")
    if weights.shape != (num_contexts,):
        raise ValueError(f"weights must have shape ({num_contexts},)")
    if np.any(transitions < 0) or not np.allclose(transitions.sum(-1), 1, atol=1e-6):
        raise ValueError("every transition row P_m(. | s, a) must be a distribution")
    if not np.all((rewards >= 0) & (rewards <= 1)):
        raise ValueError("rewards must lie in [0, 1]")
    if np.any(initial < 0) or not np.allclose(initial.sum(-1), 1, atol=1e-6):
        raise ValueError("every initial distribution nu_m must be a distribution")
    if np.any(weights <= 0) or not np.isclose(weights.sum(), 1, atol=1e-6):
        raise ValueError("weights must be positive and sum to 1")
    dtype = float_dtype()
    params = LatentMDPParams(
        *(jnp.asarray(x, dtype) for x in (transitions, rewards, initial, weights))
    )
    return _latent_env("latent_mdp", params, None, (num_states, num_actions, horizon))


def sample_latent_mdp_params(
    key, num_contexts, num_states, num_actions, horizon, *, concentration=0.5
) -> LatentMDPParams:
    """A random latent MDP: per context, stationary ``P_m(. | s, a) ~
    Dir(concentration)``, rewards ``U[0, 1] / H`` (so every return lies in [0, 1], the
    horizon-free normalisation of Zhou et al.), ``nu_m ~ Dir(1)``, and
    ``w ~ Dir(2 * 1_M)`` (bounded away from 0 most of the time)."""
    dtype = float_dtype()
    k_p, k_r, k_nu, k_w = jax.random.split(key, 4)
    shape = (num_contexts, num_states, num_actions)
    transitions = jax.random.dirichlet(
        k_p, jnp.full((num_states,), concentration, dtype), shape, dtype
    )
    rewards = jax.random.uniform(k_r, shape, dtype) / horizon
    initial = jax.random.dirichlet(
        k_nu, jnp.ones((num_states,), dtype), (num_contexts,), dtype
    )
    weights = jax.random.dirichlet(
        k_w, jnp.full((num_contexts,), 2.0, dtype), (), dtype
    )
    broadcast = (
        lambda x: jnp.broadcast_to(  # noqa: E731
            x[:, None], (num_contexts, horizon, *x.shape[1:])
        )
    )
    return LatentMDPParams(broadcast(transitions), broadcast(rewards), initial, weights)


def random_latent_mdp(
    num_contexts: int,
    num_states: int,
    num_actions: int,
    horizon: int,
    *,
    concentration=0.5,
) -> Env:
    """Random latent MDPs drawn per seed by :func:`sample_latent_mdp_params`.

    References:
        Kwon, Efroni, Caramanis and Mannor, "RL for Latent MDPs: Regret Guarantees and
        a Lower Bound", NeurIPS 2021 (latent MDPs); Zhou, Wang and Du, "Horizon-Free
        and Variance-Dependent Reinforcement Learning for Latent Markov Decision
        Processes", ICML 2023 (context in hindsight, returns in [0, 1]).
    """
    shape = tuple(
        check_int(v, n)
        for v, n in (
            (num_states, "num_states"),
            (num_actions, "num_actions"),
            (horizon, "horizon"),
        )
    )
    num_contexts = check_int(num_contexts, "num_contexts")

    def sample_params(key):
        return sample_latent_mdp_params(
            key, num_contexts, *shape, concentration=concentration
        )

    return _latent_env("random_latent_mdp", None, sample_params, shape)
