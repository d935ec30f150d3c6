"""Reward-free exploration on linear mixture MDPs (horizon-free normalisation).

The reward-free setting of ``envs.reward_free`` (explore without rewards, then output a
policy for each of ``R`` reward functions; ``info.gap`` the exact mean suboptimality of
the output policies, a SNAPSHOT field) on the linear mixture MDPs of
``envs.linear_mdp``. Two differences, both needed by a linear-mixture learner:

* the observation carries the known features ``phi(s' | s, a) [S, A, S, d]`` next to
  the reward functions (:class:`MixtureRewardFreeObs`), so the runner can draw a fresh
  random instance per seed while the learner still knows its features;
* the reward functions are drawn in the *horizon-free* normalisation of Zhang, Zhang
  and Gu (2023): ``r_h(s, a) ~ U[0, 1] / H``, so every return lies in ``[0, 1]`` and
  the gaps of different horizons are on the same scale.

The episode simulation and the exact gaps are those of ``envs.reward_free`` (its
``step`` reads only its params: reused, not re-implemented), on the tabular form of
the instance (``envs.linear_mdp.linear_mixture_to_tabular``).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from envs.core import Env, check_int, float_dtype
from envs.linear_mdp import (
    LinearMixtureParams,
    linear_mixture_to_tabular,
    sample_linear_mixture_params,
)
from envs.reward_free import RewardFreeParams, reward_free
from envs.tabular_mdp import random_tabular_mdp

Array = jax.Array

__all__ = [
    "MixtureRewardFreeObs",
    "MixtureRewardFreeParams",
    "mixture_reward_free",
    "random_mixture_reward_free",
    "sample_mixture_params",
]

# envs.reward_free's step and reset read only their params (not the wrapped env).
_REWARD_FREE = reward_free(random_tabular_mdp(1, 1, 1))


class MixtureRewardFreeParams(NamedTuple):
    mixture: LinearMixtureParams  # the instance (its own rewards are not used)
    reward_functions: Array  # [R, H, S, A] in [0, 1 / H]


class MixtureRewardFreeObs(NamedTuple):
    """What the learner is told: the features, and the rewards for planning only."""

    features: Array  # [S, A, S, d] phi(s' | s, a)
    reward_functions: Array  # [R, H, S, A]


def _sample_rewards(key, num_rewards, mixture: LinearMixtureParams) -> Array:
    horizon = mixture.rewards.shape[0]
    shape = (num_rewards, *mixture.rewards.shape)
    return jax.random.uniform(key, shape, float_dtype()) / horizon


def _env(name, params, sample_params) -> Env:
    def reset(key, params):
        del key
        obs = MixtureRewardFreeObs(params.mixture.features, params.reward_functions)
        return linear_mixture_to_tabular(params.mixture), obs

    def step(key, tabular, action, params):
        inner = RewardFreeParams(tabular, params.reward_functions)
        _, _, trajectory, info = _REWARD_FREE.step(key, (), action, inner)
        obs = MixtureRewardFreeObs(params.mixture.features, params.reward_functions)
        return tabular, obs, trajectory, info

    return Env(reset, step, params, sample_params, name)


def mixture_reward_free(env: Env, num_rewards: int = 8) -> Env:
    """Reward-free exploration on the linear mixture MDP(s) of ``env``.

    Args:
        env: an ``envs.linear_mdp`` linear-mixture environment (fixed ``params``, e.g.
            ``linear_mixture_hard_instance``, or sampled per seed, e.g.
            ``random_linear_mixture_mdp``).
        num_rewards: R >= 1 reward functions ``U[0, 1] / H`` drawn per instance.

    Returns:
        An :class:`~envs.core.Env`: observation :class:`MixtureRewardFreeObs`, action
        an ``envs.reward_free.RewardFreeAction``, feedback the exploration episode's
        trajectory (rewards zeroed), info ``envs.reward_free.RewardFreeInfo`` (``gap``
        and ``max_gap`` snapshots, in ``[0, 1]``).
    """
    num_rewards = check_int(num_rewards, "num_rewards")

    def sample_params(key):
        key_mdp, key_rewards = jax.random.split(key)
        mixture = env.params if env.params is not None else env.sample_params(key_mdp)
        rewards = _sample_rewards(key_rewards, num_rewards, mixture)
        return MixtureRewardFreeParams(mixture, rewards)

    return _env(f"reward_free_{env.name}", None, sample_params)


def sample_mixture_params(
    key, num_states: int, num_actions: int, dim: int, horizon: int, concentration=1.0
) -> LinearMixtureParams:
    """A random linear mixture with base kernels ``Dirichlet(concentration 1_S)``.

    ``concentration = 1`` is ``envs.linear_mdp.sample_linear_mixture_params``
    (reused). Smaller values give near-deterministic base kernels, so the ``d``
    kernels (and the actions) lead to different places and planning matters: with
    ``Dirichlet(1)`` kernels every mixture is close to uniform and a myopic policy is
    already nearly optimal for random rewards.
    """
    params = sample_linear_mixture_params(key, num_states, num_actions, dim, horizon)
    if concentration == 1.0:
        return params
    dtype = float_dtype()
    base = jax.random.dirichlet(
        jax.random.fold_in(key, 1),
        jnp.full((num_states,), concentration, dtype),
        (num_states, num_actions, dim),
        dtype,
    )  # [S, A, d, S]
    return params._replace(features=jnp.swapaxes(base, -1, -2))


def random_mixture_reward_free(
    num_states: int,
    num_actions: int,
    dim: int,
    horizon: int,
    num_rewards: int = 8,
    *,
    concentration=1.0,
) -> Env:
    """Reward-free exploration on random linear mixtures (``d`` Dirichlet base kernels,
    :func:`sample_mixture_params`), a fresh instance per seed."""
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    dim = check_int(dim, "dim")
    horizon = check_int(horizon, "horizon")
    num_rewards = check_int(num_rewards, "num_rewards")
    concentration = float(concentration)
    if not concentration > 0:
        raise ValueError(f"concentration must be > 0, got {concentration}")

    def sample_params(key):
        key_mdp, key_rewards = jax.random.split(key)
        mixture = sample_mixture_params(
            key_mdp, num_states, num_actions, dim, horizon, concentration
        )
        rewards = _sample_rewards(key_rewards, num_rewards, mixture)
        return MixtureRewardFreeParams(mixture, rewards)

    return _env("random_mixture_reward_free", None, sample_params)
