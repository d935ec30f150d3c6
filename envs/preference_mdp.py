"""Preference feedback over pairs of trajectories in a linear MDP (RLHF setting).

Each round the learner plays two policies, one episode each, and *may* ask which of the
two trajectories is better. The reward is never observed; the comparison follows the
Bradley-Terry model on the trajectories' returns,

.. math::

    \\Pr(\\tau^1 \\succ \\tau^0) = \\sigma\\big(c\\,(R(\\tau^1) - R(\\tau^0))\\big),
    \\qquad R(\\tau) = \\sum_h r(s_h, a_h) = \\langle \\phi(\\tau), \\theta^* \\rangle,
    \\quad \\phi(\\tau) = \\sum_h \\phi(s_h, a_h),

with the linear MDP's known features ``phi(s, a)`` (so the trajectory features are
known) and a stationary reward ``r = phi . theta*`` (Wu and Sun 2023, the linear-MDP
setting). The instance is an ``envs.linear_mdp`` linear MDP; the simulation and the
exact values are those of ``envs.tabular_mdp`` (reused through ``envs.linear_mdp``).

**Protocol.** Action :class:`PreferenceAction`: the two policies and the learner's
*query rule* ``(M, threshold)``: the env reveals the comparison only when the realised
feature difference is uncertain, ``||phi(tau^1) - phi(tau^0)||_M > threshold``
(:func:`query_rule`; with ``M = Sigma^{-1}`` the learner's reward-model covariance).
Feedback :class:`PreferenceFeedback`: both trajectories (rewards zeroed), whether the
comparison was queried, and the label (0 when not queried). Info
:class:`PreferenceInfo`: ``regret = (V* - V^{pi^1}) + (V* - V^{pi^0})`` exactly (both
policies are played), and ``queries`` (1 when queried; the runner sums it into the
number of queries so far).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from envs.core import Env, check_int, check_positive
from envs.linear_mdp import (
    LinearMDPObs,
    LinearMDPParams,
    linear_to_tabular,
    sample_linear_mdp_params,
)
from envs.tabular_mdp import Trajectory, random_tabular_mdp

Array = jax.Array

__all__ = [
    "PreferenceAction",
    "PreferenceFeedback",
    "PreferenceInfo",
    "linear_preference_mdp",
    "query_rule",
    "random_preference_mdp",
    "trajectory_features",
]

_TABULAR = random_tabular_mdp(1, 1, 1)  # its reset / step read only their params


class PreferenceAction(NamedTuple):
    policy1: Array  # [H, S, A]
    policy0: Array  # [H, S, A]
    query_matrix: Array  # [d, d] M of the query rule (the learner's Sigma^{-1})
    threshold: Array  # [] query iff ||phi(tau^1) - phi(tau^0)||_M > threshold


class PreferenceFeedback(NamedTuple):
    trajectory1: Trajectory  # rewards zeroed
    trajectory0: Trajectory  # rewards zeroed
    queried: Array  # [] bool
    label: Array  # [] 1.0 if tau^1 preferred (only meaningful when queried), else 0


class PreferenceInfo(NamedTuple):
    regret: Array  # [] (V* - V^{pi^1}) + (V* - V^{pi^0})
    queries: Array  # [] 1.0 when the comparison was queried


class PreferenceState(NamedTuple):
    tabular: object  # TabularMDPParams of the instance
    inner: object  # TabularMDPState (cached V*)


def trajectory_features(features: Array, trajectory: Trajectory) -> Array:
    """``phi(tau) = sum_h phi(s_h, a_h)`` (``features [S, A, d]`` -> ``[d]``)."""
    return jnp.sum(features[trajectory.states, trajectory.actions], axis=0)


def query_rule(delta: Array, matrix: Array, threshold) -> Array:
    """The active query rule: ``sqrt(delta^T M delta) > threshold`` (a bool)."""
    width = jnp.sqrt(jnp.maximum(delta @ matrix @ delta, 0.0))
    return width > threshold


def _preference_env(name, params, sample_params, scale) -> Env:
    def reset(key, params):
        tabular = linear_to_tabular(params)
        inner, _ = _TABULAR.reset(key, tabular)
        return PreferenceState(tabular, inner), LinearMDPObs(params.features)

    def step(key, state, action, params):
        key1, key0, key_label = jax.random.split(key, 3)
        dtype = params.features.dtype
        _, _, traj1, info1 = _TABULAR.step(
            key1, state.inner, action.policy1.astype(dtype), state.tabular
        )
        _, _, traj0, info0 = _TABULAR.step(
            key0, state.inner, action.policy0.astype(dtype), state.tabular
        )
        margin = scale * (jnp.sum(traj1.rewards) - jnp.sum(traj0.rewards))
        delta = trajectory_features(params.features, traj1) - trajectory_features(
            params.features, traj0
        )
        queried = query_rule(delta, action.query_matrix.astype(dtype), action.threshold)
        preferred = jax.random.uniform(key_label, (), dtype) < jax.nn.sigmoid(margin)
        label = jnp.where(queried & preferred, 1.0, 0.0).astype(dtype)
        hide = lambda t: t._replace(rewards=jnp.zeros_like(t.rewards))  # noqa: E731
        feedback = PreferenceFeedback(hide(traj1), hide(traj0), queried, label)
        info = PreferenceInfo(info1.regret + info0.regret, queried.astype(dtype))
        return state, LinearMDPObs(params.features), feedback, info

    return Env(reset, step, params, sample_params, name)


def _stationary(params: LinearMDPParams) -> LinearMDPParams:
    return params._replace(theta=jnp.broadcast_to(params.theta[:1], params.theta.shape))


def linear_preference_mdp(env: Env, *, scale=1.0) -> Env:
    """Preference feedback on the linear MDP(s) of an ``envs.linear_mdp`` env.

    The reward weights are made stationary (``theta_h = theta_0`` for all h), so the
    return is linear in the trajectory features.

    Args:
        env: a linear-MDP env (``params`` fixed or ``sample_params``).
        scale: Bradley-Terry inverse temperature ``c > 0`` on return differences.
    """
    check_positive(scale, "scale")
    if env.params is not None:
        return _preference_env(
            f"preference_{env.name}", _stationary(env.params), None, scale
        )
    return _preference_env(
        f"preference_{env.name}",
        None,
        lambda key: _stationary(env.sample_params(key)),
        scale,
    )


def random_preference_mdp(
    num_states: int,
    num_actions: int,
    dim: int,
    horizon: int,
    *,
    concentration=1.0,
    scale=1.0,
) -> Env:
    """Preference feedback on random linear MDPs
    (``envs.linear_mdp.sample_linear_mdp_params``, stationary reward), one per seed."""
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    dim = check_int(dim, "dim")
    horizon = check_int(horizon, "horizon")
    check_positive(scale, "scale")

    def sample_params(key):
        return _stationary(
            sample_linear_mdp_params(
                key,
                num_states,
                num_actions,
                dim,
                horizon,
                concentration=concentration,
            )
        )

    return _preference_env("random_preference_mdp", None, sample_params, scale)
