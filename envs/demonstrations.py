"""A tabular episodic MDP with expert demonstrations (demonstration-regularised RL).

Tiapkin et al. (2024) study an agent that receives, before interacting, a dataset
``D^E`` of ``N^E`` trajectories of an expert policy ``pi^E`` (states and actions, no
rewards), and then explores the MDP online. Here one round is one online episode, as in
:mod:`envs.tabular_mdp`: the action is a policy ``[H, S, A]``, the feedback the
episode's :class:`~envs.tabular_mdp.Trajectory`. The demonstrations are the
**observation** (the same at every round), drawn at ``reset`` from the instance: the
expert is the optimal policy ``argmax_a Q*_h(s, a)`` of the true model (ties to the
lowest index), run for ``N_max`` independent episodes with the reset key, in JAX.

**Number of demonstrations as a traceable parameter.** The instance
(:class:`DemonstrationParams`) carries ``num_demonstrations``, an integer array; the
observation always has ``N_max`` rows and a ``mask [N_max]`` that keeps the first
``num_demonstrations`` of them. So instances that differ only in ``N^E`` stack into a
batch (``runner.run(..., instances=...)``) and a sweep over ``N^E`` is ONE compiled
program; the first ``n`` demonstrations of a seed are the same whatever the other
entries of the grid (common random numbers across ``N^E``).

``info.regret`` is the exact ``V*_0(rho) - V^{pi_k}_0(rho)`` of the episode's policy
(summed by the runner), ``info.gap`` the same number recorded as a SNAPSHOT (the
suboptimality of the policy the learner plays after ``k`` episodes).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from envs.core import Env, check_int
from envs.tabular_mdp import (
    TabularMDPParams,
    backward_induction,
    policy_value,
    simulate_episode,
)

Array = jax.Array

__all__ = [
    "DemonstrationEnvState",
    "DemonstrationInfo",
    "DemonstrationParams",
    "Demonstrations",
    "expert_policy",
    "sample_demonstrations",
    "with_demonstrations",
]


class DemonstrationParams(NamedTuple):
    """An MDP instance and how many of the ``N_max`` demonstrations are revealed."""

    mdp: TabularMDPParams
    num_demonstrations: Array  # [] int32 N^E in [0, N_max]


class Demonstrations(NamedTuple):
    """The observation: ``N_max`` expert trajectories, the first ``N^E`` valid."""

    states: Array  # [N_max, H] int32
    actions: Array  # [N_max, H] int32
    mask: Array  # [N_max] float, 1 for the N^E revealed trajectories


class DemonstrationEnvState(NamedTuple):
    optimal_value: Array  # [] V*_0(rho), computed at reset
    demonstrations: Demonstrations  # drawn at reset, the observation of every round


class DemonstrationInfo(NamedTuple):
    regret: Array  # [] V*(rho) - V^pi(rho) of this episode (summed)
    gap: Array  # [] the same, recorded as a snapshot
    SNAPSHOT_FIELDS = ("gap",)


def expert_policy(mdp: TabularMDPParams) -> Array:
    """The deterministic optimal policy ``[H, S, A]`` (one-hot, lowest-index ties)."""
    q_star, _ = backward_induction(mdp)
    return jax.nn.one_hot(
        jnp.argmax(q_star, axis=-1), q_star.shape[-1], dtype=q_star.dtype
    )


def sample_demonstrations(
    key, mdp: TabularMDPParams, num_max: int, num_demonstrations
) -> Demonstrations:
    """``num_max`` independent episodes of :func:`expert_policy`, the first
    ``num_demonstrations`` unmasked."""
    policy = expert_policy(mdp)
    keys = jax.random.split(key, num_max)
    trajectories = jax.vmap(lambda k: simulate_episode(k, mdp, policy))(keys)
    mask = (jnp.arange(num_max) < num_demonstrations).astype(mdp.rewards.dtype)
    return Demonstrations(trajectories.states, trajectories.actions, mask)


def with_demonstrations(env: Env, max_demonstrations: int, num_demonstrations=None):
    """The MDPs of a tabular ``env`` with ``N^E`` expert demonstrations as observation.

    Args:
        env: an ``envs.tabular_mdp`` environment (fixed ``params`` or a sampler).
        max_demonstrations: ``N_max >= 1``, the observation's number of rows (fixes
            shapes).
        num_demonstrations: ``N^E`` in ``[0, N_max]`` revealed (default ``N_max``);
            may also be set per instance through :class:`DemonstrationParams`.

    Returns:
        An :class:`~envs.core.Env` with params :class:`DemonstrationParams`,
        observation :class:`Demonstrations`, action a policy ``[H, S, A]``, feedback a
        ``Trajectory`` and info :class:`DemonstrationInfo`.

    Raises:
        ValueError: ``num_demonstrations`` outside ``[0, N_max]``.

    References:
        Tiapkin, Belomestny, Calandriello, Moulines, Munos, Naumov, Perrault, Valko and
        Menard, "Demonstration-Regularized RL", ICLR 2024 (the setting: ``N^E``
        trajectories of an expert policy, then online interaction).
    """
    num_max = check_int(max_demonstrations, "max_demonstrations")
    if num_demonstrations is None:
        num_demonstrations = num_max
    if not isinstance(num_demonstrations, jax.core.Tracer):
        if not 0 <= int(num_demonstrations) <= num_max:
            raise ValueError(
                f"num_demonstrations must lie in [0, {num_max}], got "
                f"{num_demonstrations}"
            )
    count = jnp.asarray(num_demonstrations, jnp.int32)

    def sample_params(key):
        return DemonstrationParams(env.sample_params(key), count)

    params = None if env.params is None else DemonstrationParams(env.params, count)

    def reset(key, params):
        mdp = params.mdp
        _, optimal_values = backward_induction(mdp)
        demos = sample_demonstrations(key, mdp, num_max, params.num_demonstrations)
        return DemonstrationEnvState(
            jnp.dot(mdp.initial, optimal_values[0]), demos
        ), demos

    def step(key, state, policy, params):
        mdp = params.mdp
        policy = policy.astype(mdp.rewards.dtype)
        trajectory = simulate_episode(key, mdp, policy)
        values = policy_value(mdp, policy)
        regret = state.optimal_value - jnp.dot(mdp.initial, values[0])
        # The demonstrations do not change: every round's observation is the same.
        return (
            state,
            state.demonstrations,
            trajectory,
            DemonstrationInfo(regret, regret),
        )

    return Env(
        reset,
        step,
        params,
        sample_params if env.sample_params is not None else None,
        f"demonstrations_{env.name}",
    )
