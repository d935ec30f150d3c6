"""Stochastic linear bandits: finite action sets, fixed or redrawn every round.

One round is one pull. The observation is the round's action set, a feature matrix
``[K, d]`` (the same every round for a fixed action set; redrawn from the round's key
for a changing one); the action is an arm index (int32); the feedback is the reward

.. math::

    Y_t = \\langle x_{t, A_t}, \\theta^* \\rangle + b_{A_t} + \\sigma \\eta_t,
    \\qquad \\eta_t \\sim N(0, 1),

where ``b`` is a per-arm misspecification (zero for a well-specified linear bandit;
``|b_a| <= epsilon`` for the uniformly misspecified bandits of
``envs.misspecified_bandits``). ``info.regret`` is the pseudo-regret
``max_a mu_{t, a} - mu_{t, A_t}`` with ``mu_{t, a} = <x_{t, a}, theta*> + b_a`` (the
best arm of the round's action set given its features). Learners see the features
only, never ``theta*`` nor ``b``.

**Common random numbers.** A fixed-action-set env draws one standard normal per round
(its reward noise); a changing one draws the next round's action set from the round key
independently of the pulled arm. Two learners on the same seed therefore see the same
instance, the same action sets and the same noise sequence.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs import threefry
from envs.core import Env, check_int, float_dtype

Array = jax.Array


class LinearBanditInfo(NamedTuple):
    """Per-round oracle quantities of a linear bandit."""

    regret: Array  # [] max_a mu_a - mu_{A_t} on the round's action set
    best_arm_played: Array  # [] 1.0 when the pulled arm is optimal in the round


class LinearBanditParams(NamedTuple):
    """A linear bandit instance."""

    features: Array  # [K, d] the fixed action set (ignored when action sets change)
    theta: Array  # [d] the unknown parameter theta*
    bias: Array  # [K] misspecification b_a added to <x_a, theta*> (zero if linear)
    noise_std: Array  # [] Gaussian noise standard deviation sigma


def sphere_sample(key, shape: tuple[int, ...], dim: int, dtype=None) -> Array:
    """Uniform draws on the unit sphere of R^dim: ``[*shape, dim]`` normalised
    Gaussians.
    """
    dtype = float_dtype() if dtype is None else dtype
    g = jax.random.normal(key, (*shape, dim), dtype)
    norm = jnp.linalg.norm(g, axis=-1, keepdims=True)
    return g / jnp.maximum(norm, jnp.finfo(dtype).tiny)


def expected_rewards(features: Array, params: LinearBanditParams) -> Array:
    """``mu_a = <x_a, theta*> + b_a`` for every arm of ``features`` ``[K, d]``."""
    return features @ params.theta + params.bias


def _standard_normal(key, dtype) -> Array:
    """``jax.random.normal(key, (), dtype)``, bit for bit: ``sqrt(2) erfinv(u)`` with
    ``u`` uniform on ``[nextafter(-1, 0), 1)`` drawn by ``envs.threefry.uniform``
    (unrolled cipher; JAX's rolled threefry loop dominated a vmapped linear-bandit
    round on CPU).
    """
    dtype = np.dtype(dtype)
    low = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype), dtype=dtype)
    u = threefry.uniform(key, dtype, low, np.array(1.0, dtype))
    return jax.lax.mul(np.array(np.sqrt(2), dtype), jax.lax.erf_inv(u))


def _info(mu: Array, action: Array) -> LinearBanditInfo:
    best = jnp.max(mu)
    return LinearBanditInfo(
        regret=best - mu[action],
        best_arm_played=(mu[action] >= best).astype(mu.dtype),
    )


def _linear_env(name: str, params, sample_params, *, changing: bool, shape) -> Env:
    """The Env for fixed (``changing=False``) or per-round (``True``) action sets.

    ``shape = (K, d)``; changing action sets are drawn uniformly on the unit sphere.
    """
    num_arms, dim = shape

    def draw(key, dtype):
        return sphere_sample(key, (num_arms,), dim, dtype)

    def reset(key, params):
        if changing:
            features = draw(key, params.theta.dtype)
            return features, features
        return (), params.features

    def step(key, state, action, params):
        dtype = params.theta.dtype
        features = state if changing else params.features
        k_noise, k_next = threefry.split(key)  # jax.random.split, unrolled cipher
        mu = expected_rewards(features, params)
        reward = mu[action] + params.noise_std * _standard_normal(k_noise, dtype)
        info = _info(mu, action)
        if changing:
            nxt = draw(k_next, dtype)
            return nxt, nxt, reward, info
        return state, params.features, reward, info

    return Env(reset, step, params, sample_params, name)


def _validate(features, theta, bias, noise_std) -> LinearBanditParams:
    x = np.asarray(features, dtype=np.float64)
    th = np.asarray(theta, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"features must be a [K, d] matrix, got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"a bandit needs at least 2 actions, got {x.shape[0]}")
    if th.ndim != 1:
        raise ValueError(f"theta must be a 1-D [d] vector, got shape {th.shape}")
    if th.shape[0] != x.shape[1]:
        raise ValueError(
            f"dimension mismatch: features are [K, d] = {x.shape} but theta has "
            f"d = {th.shape[0]}"
        )
    b = np.zeros(x.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64)
    if b.shape != (x.shape[0],):
        raise ValueError(
            f"bias must have one entry per action ({x.shape[0]}), got shape {b.shape}"
        )
    for name, arr in (("features", x), ("theta", th), ("bias", b)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    sigma = np.asarray(noise_std, dtype=np.float64)
    if sigma.ndim != 0 or not sigma >= 0:
        raise ValueError(f"noise_std must be a scalar >= 0, got {noise_std!r}")
    dtype = float_dtype()
    return LinearBanditParams(
        jnp.asarray(x, dtype),
        jnp.asarray(th, dtype),
        jnp.asarray(b, dtype),
        jnp.asarray(sigma, dtype),
    )


def linear_bandit(features, theta, *, noise_std=1.0, bias=None) -> Env:
    """A linear bandit on a fixed finite action set.

    Args:
      features: ``[K, d]`` action vectors (rows).
      theta: ``[d]`` the unknown parameter.
      noise_std: Gaussian noise standard deviation (>= 0).
      bias: optional ``[K]`` misspecification added to the linear means.

    Raises:
      ValueError: on shape mismatches (``theta`` not of length ``d``, ``bias`` not of
        length ``K``), non-finite entries or a negative noise level.
    """
    params = _validate(features, theta, bias, noise_std)
    return _linear_env(
        "linear", params, None, changing=False, shape=params.features.shape
    )


def random_linear_bandit(
    dim: int,
    num_arms: int,
    *,
    noise_std=1.0,
    theta_norm=1.0,
    changing: bool = False,
) -> Env:
    """Random linear bandits: ``K`` actions and ``theta*`` uniform on spheres.

    Each seed draws its own instance (``sample_params``): the actions uniform on the
    unit sphere of ``R^d`` and ``theta*`` uniform on the sphere of radius
    ``theta_norm`` (so ``||theta*|| = S = theta_norm`` exactly, the bound OFUL uses).
    With ``changing=True`` the action set is redrawn uniformly on the sphere every round
    from the round's key (``params.features`` is then unused).

    ``noise_std`` and ``theta_norm`` may be traced.
    """
    dim = check_int(dim, "dim")
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    for name, value in (("noise_std", noise_std), ("theta_norm", theta_norm)):
        if not isinstance(value, jax.core.Tracer) and not float(value) >= 0:
            raise ValueError(f"{name} must be >= 0, got {value}")

    def sample_params(key):
        dtype = float_dtype()
        k_x, k_theta = jax.random.split(key)
        features = sphere_sample(k_x, (num_arms,), dim, dtype)
        theta = jnp.asarray(theta_norm, dtype) * sphere_sample(k_theta, (), dim, dtype)
        return LinearBanditParams(
            features, theta, jnp.zeros(num_arms, dtype), jnp.asarray(noise_std, dtype)
        )

    name = "changing_linear" if changing else "random_linear"
    return _linear_env(
        name, None, sample_params, changing=changing, shape=(num_arms, dim)
    )


def end_of_optimism_bandit(epsilon=0.01, gamma=4.0, *, noise_std=1.0) -> Env:
    """The two-dimensional instance on which optimism is far from asymptotically
    optimal.

    Actions ``a1 = e1``, ``a2 = e2``, ``a3 = (1 - epsilon, gamma epsilon)`` and
    ``theta* = e1``: ``a1`` is optimal, ``a3`` has gap ``epsilon`` and ``a2`` gap 1.
    Playing the costly ``a2`` about ``2 gamma^2 log n`` times identifies ``a1`` (the
    optimal asymptotic rate is ``c(A, theta) = 2 gamma^2`` for ``2 gamma^2 <= 2 /
    epsilon``), while a consistent optimistic algorithm avoids ``a2`` and pays
    ``Omega(log(n) / epsilon)`` on ``a3``.

    References:
      Lattimore and Szepesvari, "The End of Optimism? An Asymptotic Analysis of
      Finite-Armed Linear Bandits", AISTATS 2017; the example as presented in
      Lattimore and Szepesvari, "Bandit Algorithms", 2020, Section 25.2.
    """
    eps = float(epsilon)
    if not 0 < eps < 1:
        raise ValueError(f"epsilon must lie in (0, 1), got {epsilon}")
    if not float(gamma) > 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    features = [[1.0, 0.0], [0.0, 1.0], [1.0 - eps, float(gamma) * eps]]
    env = linear_bandit(features, [1.0, 0.0], noise_std=noise_std)
    return env._replace(name="end_of_optimism")
