"""Reward-free exploration on a tabular MDP: explore without rewards, then plan for any.

Kaufmann et al. (2021) / Jin et al. (2020): an agent explores an MDP for ``t`` episodes
without observing rewards, then must output, for any reward function ``r``, a policy
that is ``epsilon``-optimal for ``(P, r)``. Here one round is one exploration episode.
The instance carries ``R`` reward functions ``r_1, ..., r_R ~ U[0, 1]^{H x S x A}``
(drawn per instance); they are revealed to the learner as the observation, to be used
only by its planning phase. The learner's action is a :class:`RewardFreeAction`: the
exploration policy of the episode and the ``R`` policies it would output now.

``info.gap`` (a SNAPSHOT field, ``envs.core.snapshot_fields``) is the mean over the
``R`` rewards of ``V*_r(s_1) - V^{pi_r}_r(s_1)`` for the output policies, computed
exactly by backward induction; ``info.max_gap`` its maximum (also a snapshot);
``info.regret`` is ``gap`` as well (summed by the runner: the cumulative planning
suboptimality), so the first field keeps the runner's convention.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from envs.core import Env, check_int, float_dtype
from envs.tabular_mdp import (
    TabularMDPParams,
    backward_induction,
    policy_value,
    simulate_episode,
)

Array = jax.Array

__all__ = [
    "RewardFreeAction",
    "RewardFreeInfo",
    "RewardFreeParams",
    "reward_free",
]


class RewardFreeParams(NamedTuple):
    mdp: TabularMDPParams  # the MDP (its own rewards are not used)
    reward_functions: Array  # [R, H, S, A] in [0, 1]


class RewardFreeAction(NamedTuple):
    explore: Array  # [H, S, A] the exploration policy of this episode
    planned: Array  # [R, H, S, A] the policy output for each reward function


class RewardFreeInfo(NamedTuple):
    regret: Array  # [] = gap, summed over rounds by the runner
    gap: Array  # [] mean over rewards of V*_r - V^{pi_r}_r (snapshot)
    max_gap: Array  # [] max over rewards (snapshot)
    SNAPSHOT_FIELDS = ("gap", "max_gap")


def _with_rewards(mdp: TabularMDPParams, rewards: Array) -> TabularMDPParams:
    return mdp._replace(rewards=rewards)


def reward_free(env: Env, num_rewards: int = 8) -> Env:
    """Reward-free exploration on the MDPs of a tabular ``env`` (fixed or sampled).

    Args:
        env: an ``envs.tabular_mdp`` environment (its ``params`` or ``sample_params``
            gives the transitions).
        num_rewards: R >= 1 random reward functions per instance.

    Returns:
        An :class:`~envs.core.Env`: observation ``[R, H, S, A]`` rewards, action a
        :class:`RewardFreeAction`, feedback the exploration episode's ``Trajectory``
        (its rewards are zeros: nothing is observed), info :class:`RewardFreeInfo`.
    """
    num_rewards = check_int(num_rewards, "num_rewards")

    def sample_params(key):
        key_mdp, key_rewards = jax.random.split(key)
        mdp = env.params if env.params is not None else env.sample_params(key_mdp)
        shape = (num_rewards, *mdp.rewards.shape)
        rewards = jax.random.uniform(key_rewards, shape, float_dtype())
        return RewardFreeParams(mdp, rewards)

    def reset(key, params):
        del key
        return (), params.reward_functions

    def step(key, state, action, params):
        mdp, rewards = params
        trajectory = simulate_episode(
            key, mdp, action.explore.astype(mdp.rewards.dtype)
        )
        trajectory = trajectory._replace(rewards=jnp.zeros_like(trajectory.rewards))

        def gap_one(reward, policy):
            model = _with_rewards(mdp, reward)
            _, v_star = backward_induction(model)
            v_pi = policy_value(model, policy.astype(reward.dtype))
            return jnp.dot(mdp.initial, v_star[0] - v_pi[0])

        gaps = jax.vmap(gap_one)(rewards, action.planned)
        gap = jnp.mean(gaps)
        return state, rewards, trajectory, RewardFreeInfo(gap, gap, jnp.max(gaps))

    return Env(reset, step, None, sample_params, f"reward_free_{env.name}")
