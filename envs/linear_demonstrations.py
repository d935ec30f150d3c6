"""A linear MDP with expert demonstrations (demonstration-regularised RL, linear case).

The linear-MDP counterpart of :mod:`envs.demonstrations`: before interacting, the
learner receives ``N^E`` trajectories (states and actions, no rewards) of the expert,
the optimal policy ``argmax_a Q*_h(s, a)`` of the instance (lowest-index ties), and it
knows the features ``phi(s, a)``. One round is one online episode (as in
:mod:`envs.linear_mdp`): the action is a policy ``[H, S, A]`` (stochastic policies
allowed), the feedback the episode's :class:`~envs.tabular_mdp.Trajectory`.

Nothing is re-implemented: the instance is turned into its tabular form
(:func:`envs.linear_mdp.linear_to_tabular`) and the demonstrations, the simulation and
the exact regret are those of :func:`envs.demonstrations.with_demonstrations`. The
observation adds the features: :class:`LinearDemonstrationObs` ``(features,
demonstrations)``, so every linear-MDP learner that reads ``obs.features`` (LSVI-UCB,
LSVI-PHE) runs on this env unchanged and ignores the demonstrations.

``N^E`` is a traceable field of the params (:class:`LinearDemonstrationParams`), so a
grid over ``N^E`` stacks into ``instances`` (one compiled program) with common random
numbers: the first ``n`` demonstrations of a seed are the same for every ``N^E``.
``info`` is :class:`~envs.demonstrations.DemonstrationInfo`: ``regret`` the exact
``V*_0(rho) - V^{pi_k}_0(rho)`` against the unregularised optimum (summed), ``gap``
the same number as a snapshot.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from envs.core import Env, check_int
from envs.demonstrations import (
    DemonstrationEnvState,
    DemonstrationParams,
    Demonstrations,
    with_demonstrations,
)
from envs.linear_mdp import LinearMDPParams, linear_to_tabular
from envs.tabular_mdp import TabularMDPParams, random_tabular_mdp

Array = jax.Array

__all__ = [
    "LinearDemonstrationObs",
    "LinearDemonstrationParams",
    "with_linear_demonstrations",
]


class LinearDemonstrationParams(NamedTuple):
    """A linear MDP and how many of the ``N_max`` demonstrations are revealed."""

    linear: LinearMDPParams
    num_demonstrations: Array  # [] int32 N^E in [0, N_max]


class LinearDemonstrationObs(NamedTuple):
    """What the learner is told: the features and the demonstrations."""

    features: Array  # [S, A, d] phi(s, a)
    demonstrations: Demonstrations  # states / actions [N_max, H], mask [N_max]


class LinearDemonstrationState(NamedTuple):
    inner: DemonstrationEnvState  # V*_0(rho) and the demonstrations
    tabular: TabularMDPParams  # the instance's tabular form, computed at reset


def with_linear_demonstrations(
    env: Env, max_demonstrations: int, num_demonstrations=None
) -> Env:
    """The linear MDPs of ``env`` with ``N^E`` optimal-policy demonstrations.

    Args:
        env: an :mod:`envs.linear_mdp` linear-MDP environment (params
            :class:`~envs.linear_mdp.LinearMDPParams`, fixed or sampled per seed).
        max_demonstrations: ``N_max >= 1`` rows of the observation (fixes shapes).
        num_demonstrations: ``N^E`` in ``[0, N_max]`` revealed (default ``N_max``);
            may also be set per instance through :class:`LinearDemonstrationParams`.

    Returns:
        An :class:`~envs.core.Env` with params :class:`LinearDemonstrationParams`,
        observation :class:`LinearDemonstrationObs`, action a policy ``[H, S, A]``,
        feedback a ``Trajectory`` and info
        :class:`~envs.demonstrations.DemonstrationInfo`.

    Raises:
        ValueError: ``num_demonstrations`` outside ``[0, N_max]``.

    References:
        Tiapkin et al., "Demonstration-Regularized RL", ICLR 2024 (the setting:
        ``N^E`` expert trajectories, then online interaction; its linear-MDP part).
    """
    num_max = check_int(max_demonstrations, "max_demonstrations")
    # The tabular wrapper validates num_demonstrations; its reset / step read only
    # their params, so it serves every instance.
    inner = with_demonstrations(
        random_tabular_mdp(1, 1, 1), num_max, num_demonstrations
    )
    count = jnp.asarray(num_max if num_demonstrations is None else num_demonstrations)
    count = count.astype(jnp.int32)

    def to_inner(params: LinearDemonstrationParams) -> DemonstrationParams:
        return DemonstrationParams(
            linear_to_tabular(params.linear), params.num_demonstrations
        )

    def reset(key, params):
        inner_params = to_inner(params)
        state, demos = inner.reset(key, inner_params)
        obs = LinearDemonstrationObs(params.linear.features, demos)
        return LinearDemonstrationState(state, inner_params.mdp), obs

    def step(key, state, policy, params):
        inner_params = DemonstrationParams(state.tabular, params.num_demonstrations)
        inner_state, demos, trajectory, info = inner.step(
            key, state.inner, policy, inner_params
        )
        obs = LinearDemonstrationObs(params.linear.features, demos)
        return state._replace(inner=inner_state), obs, trajectory, info

    params = (
        None if env.params is None else LinearDemonstrationParams(env.params, count)
    )

    def sample_params(key):
        return LinearDemonstrationParams(env.sample_params(key), count)

    return Env(
        reset,
        step,
        params,
        sample_params if env.sample_params is not None else None,
        f"demonstrations_{env.name}",
    )
