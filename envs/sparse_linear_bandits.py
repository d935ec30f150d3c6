r"""Sparse, uniformly misspecified linear bandits on a fixed finite action set.

The reward of action ``x_a`` (rows of a fixed ``[K, d]`` feature matrix, ``||x_a||
<= 1``) is

.. math::

    \mu_a = \langle x_a, \theta^* \rangle + b_a, \qquad \|\theta^*\|_0 \le s,\;
    \|\theta^*\|_2 \le B,\; |b_a| \le \varepsilon,

observed with Gaussian noise of level ``sigma`` (0: the noiseless query model).
This is ``envs.linear_bandits.linear_bandit`` (which already carries the
misspecification ``bias``) with two additions: each seed draws an s-sparse ``theta*``
and a misspecification ``b`` of size ``epsilon`` on the fixed action set, and the info
reports whether the pull was ``c epsilon``-optimal (``near_optimal``, ``c = 4``: the
guarantee of ``algorithms.bandits.sparse.sparse_net_search``) and whether it differs
from the previous pull (``switched``; the env state carries the previous action), so
that the last switch tells when a learner settled on its answer.

The misspecification is adversarial to least squares: ``b_a = -epsilon`` on the
actions whose linear value is within ``epsilon`` of the linear maximum, ``+epsilon``
elsewhere, so the best action by reward differs from the linear argmax (when some action
has linear value within ``2 epsilon`` of it) and the rewards are not linear.

References:
  Dong and Yang, "Does Sparsity Help in Learning Misspecified Linear Bandits?", ICML
  2023 (the setting: linear features with uniform misspecification epsilon and an
  s-sparse ground truth); Du, Kakade, Wang and Yang, "Is a Good Representation
  Sufficient for Sample Efficient Reinforcement Learning?", ICLR 2020 (uniform
  misspecification).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, check_int, float_dtype
from envs.linear_bandits import LinearBanditParams, linear_bandit

Array = jax.Array

__all__ = [
    "NEAR_OPTIMAL_FACTOR",
    "SparseBanditInfo",
    "sample_sparse_theta",
    "sparse_misspecified_bandit",
]

# An action is "near optimal" when its gap is at most NEAR_OPTIMAL_FACTOR * epsilon.
NEAR_OPTIMAL_FACTOR = 4.0


class SparseBanditInfo(NamedTuple):
    """Per-round oracle quantities."""

    regret: Array  # [] max_a mu_a - mu_{A_t}
    best_arm_played: Array  # [] 1.0 when the pull is optimal
    near_optimal: Array  # [] 1.0 when the gap is <= 4 epsilon
    switched: Array  # [] 1.0 when the pull differs from the previous one (round 1: 1)


def sample_sparse_theta(key, dim: int, sparsity: int, norm, dtype=None) -> Array:
    """``[d]``: a uniformly random support of size ``s`` and a direction uniform on its
    unit sphere, scaled to ``norm``."""
    dtype = float_dtype() if dtype is None else dtype
    k_support, k_dir = jax.random.split(key)
    # The s largest of d uniforms: a uniformly random support (cheaper to compile
    # than a permutation).
    _, support = jax.lax.top_k(jax.random.uniform(k_support, (dim,)), sparsity)
    g = jax.random.normal(k_dir, (sparsity,), dtype)
    g = g / jnp.maximum(jnp.linalg.norm(g), jnp.finfo(dtype).tiny)
    return jnp.zeros((dim,), dtype).at[support].set(jnp.asarray(norm, dtype) * g)


def adversarial_bias(features: Array, theta: Array, epsilon) -> Array:
    """``-epsilon`` on actions within ``epsilon`` of the linear maximum, ``+epsilon``
    elsewhere (``[K]``)."""
    linear = features @ theta
    return jnp.where(linear >= jnp.max(linear) - epsilon, -epsilon, epsilon).astype(
        linear.dtype
    )


def sparse_misspecified_bandit(
    features, sparsity: int, epsilon, *, theta_norm=1.0, noise_std=0.0
) -> Env:
    """Random sparse misspecified instances on a fixed action set.

    Each seed draws ``theta*`` (:func:`sample_sparse_theta`, ``||theta*|| =
    theta_norm``) and the adversarial misspecification of size ``epsilon``.

    Args:
      features: ``[K, d]`` actions with ``||x_a|| <= 1``.
      sparsity: s, the number of nonzero coordinates of ``theta*`` (static).
      epsilon: misspecification level ``>= 0``.
      theta_norm: ``||theta*||_2``.
      noise_std: Gaussian reward noise (0: noiseless queries).

    Raises:
      ValueError: on ``s`` outside ``[1, d]``, feature rows longer than 1, or negative
        ``epsilon`` / ``noise_std``.
    """
    x = np.asarray(features, np.float64)
    base = linear_bandit(x, np.zeros(x.shape[-1]), noise_std=noise_std)
    num_arms, dim = x.shape
    sparsity = check_int(sparsity, "sparsity")
    if sparsity > dim:
        raise ValueError(f"sparsity must be <= d = {dim}, got {sparsity}")
    if np.any(np.linalg.norm(x, axis=1) > 1 + 1e-6):
        raise ValueError("feature rows must have norm <= 1")
    if not float(epsilon) >= 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    feats = base.params.features
    eps = float(epsilon)

    def sample_params(key):
        theta = sample_sparse_theta(key, dim, sparsity, theta_norm, feats.dtype)
        bias = adversarial_bias(feats, theta, eps)
        return LinearBanditParams(feats, theta, bias, base.params.noise_std)

    def reset(key, params):
        state, obs = base.reset(key, params)
        return (state, jnp.asarray(-1, jnp.int32)), obs

    def step(key, state, action, params):
        inner, previous = state
        inner, obs, reward, info = base.step(key, inner, action, params)
        dtype = info.regret.dtype
        near = (info.regret <= NEAR_OPTIMAL_FACTOR * eps).astype(dtype)
        switched = (action != previous).astype(dtype)
        info = SparseBanditInfo(*info, near, switched)
        return (inner, jnp.asarray(action, jnp.int32)), obs, reward, info

    del num_arms
    return Env(reset, step, None, sample_params, "sparse_misspecified")
