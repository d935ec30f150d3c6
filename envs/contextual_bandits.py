"""Contextual bandits with K arms and a context vector per round.

**Design (one for the whole family).** The observation of round t is ONE context vector
``x_t`` of shape ``[d]`` (unit norm); the learner picks an arm ``a_t in {0..K-1}``
(``int32``) and observes the reward ``r_t = mu(x_t, a_t) + sigma * xi_t`` with
``xi_t ~ N(0, 1)`` (one draw per round, shared by every arm: common random numbers).
Each arm has its own parameter ``theta_a`` (``[K, d]``, unit rows), and the mean reward
is one of

* ``linear``:    ``mu(x, a) = (1 + <theta_a, x>) / 2``                  in [0, 1];
* ``logistic``:  ``mu(x, a) = sigmoid(scale * <theta_a, x>)``           (a GLM);
* ``cosine``:    ``mu(x, a) = (1 + cos(scale * <theta_a, x>)) / 2``     (nonlinear:
  the best arm is not a linear function of x; with ``scale = 3`` every arm's mean is
  even in ``x``, so a linear model of each arm is near constant).

**Context streams.** ``iid``: ``x_t`` uniform on the unit sphere, fresh every round.
``sorted``: an adversarially ordered stream over a pool of ``num_contexts`` contexts
drawn with the instance, sorted by their optimal arm (ties by the first coordinate) and
replayed cyclically: the best arm stays the same for long blocks and then switches, an
order under which an i.i.d.-assuming learner's early data misrepresent later rounds.

**Regret.** ``info.regret = max_b mu(x_t, b) - mu(x_t, a_t)`` (expected instantaneous
pseudo-regret given the context), computed from the instance's parameters.

The environment state is ``(t, x_t)``: ``reset`` draws the first context, ``step`` pays
for the current one and draws the next (returned as the next observation).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, check_int, check_nonnegative, float_dtype

Array = jax.Array

REWARD_FUNCTIONS = ("linear", "logistic", "cosine")
STREAMS = ("iid", "sorted")


class ContextualInfo(NamedTuple):
    """Per-round oracle quantities of a contextual bandit."""

    regret: Array  # [] max_b mu(x_t, b) - mu(x_t, a_t)
    best_arm_played: Array  # [] 1.0 when a_t is optimal for x_t


class ContextualParams(NamedTuple):
    """A contextual bandit instance."""

    theta: Array  # [K, d] unit-norm arm parameters
    contexts: Array  # [N, d] context pool of the 'sorted' stream (N = 1 for 'iid')
    noise_std: Array  # [] reward noise standard deviation sigma
    scale: Array  # [] inner-product scale of the logistic / cosine link


class ContextualState(NamedTuple):
    t: Array  # [] int32 round index
    context: Array  # [d] the current round's context


def mean_rewards(reward_fn: str, theta: Array, x: Array, scale) -> Array:
    """``mu(x, a)`` for every arm, ``[K]`` (see the module docstring)."""
    z = theta @ x
    if reward_fn == "linear":
        return 0.5 * (1.0 + z)
    if reward_fn == "logistic":
        return jax.nn.sigmoid(scale * z)
    if reward_fn == "cosine":
        return 0.5 * (1.0 + jnp.cos(scale * z))
    raise ValueError(f"reward_fn must be one of {REWARD_FUNCTIONS}, got {reward_fn!r}")


def _unit(key, shape, dtype) -> Array:
    v = jax.random.normal(key, shape, dtype)
    return v / jnp.linalg.norm(v, axis=-1, keepdims=True)


def _sort_pool(reward_fn: str, theta, pool, scale):
    """The pool ordered by optimal arm, then by first coordinate (the 'sorted'
    stream).
    """
    best = jax.vmap(lambda x: jnp.argmax(mean_rewards(reward_fn, theta, x, scale)))(
        pool
    )
    order = jnp.lexsort((pool[:, 0], best))
    return pool[order]


def _check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def contextual_bandit(
    theta,
    *,
    reward_fn: str = "linear",
    stream: str = "iid",
    noise_std=0.1,
    scale=3.0,
    contexts=None,
) -> Env:
    """A fixed contextual bandit instance.

    Args:
      theta: ``[K, d]`` arm parameters (rows are normalised to unit norm), K >= 2.
      reward_fn: 'linear', 'logistic' or 'cosine'.
      stream: 'iid' (fresh uniform contexts) or 'sorted' (``contexts`` replayed in
        order of their optimal arm).
      noise_std: Gaussian reward noise sigma >= 0.
      scale: inner-product scale of the logistic and cosine links.
      contexts: ``[N, d]`` pool for the 'sorted' stream (rows normalised).

    Returns:
      An ``Env``; observations are ``[d]`` contexts, actions ``int32`` arm indices.
    """
    _check_choice(reward_fn, "reward_fn", REWARD_FUNCTIONS)
    _check_choice(stream, "stream", STREAMS)
    arr = np.asarray(theta, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"theta must have shape [K >= 2, d >= 1], got {arr.shape}")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    if not np.all(np.isfinite(arr)) or np.any(norms == 0):
        raise ValueError("theta rows must be finite and nonzero")
    check_nonnegative(noise_std, "noise_std")
    dim = arr.shape[1]
    if stream == "sorted":
        if contexts is None:
            raise ValueError("stream='sorted' needs a contexts pool [N, d]")
        pool = np.asarray(contexts, dtype=np.float64)
        if pool.ndim != 2 or pool.shape[1] != dim:
            raise ValueError(
                f"contexts must have shape [N, {dim}] (d of theta), got {pool.shape}"
            )
        pool = pool / np.linalg.norm(pool, axis=1, keepdims=True)
    else:
        pool = np.zeros((1, dim))
    dtype = float_dtype()
    params = ContextualParams(
        jnp.asarray(arr / norms, dtype),
        jnp.asarray(pool, dtype),
        jnp.asarray(noise_std, dtype),
        jnp.asarray(scale, dtype),
    )
    if stream == "sorted":
        params = params._replace(
            contexts=_sort_pool(reward_fn, params.theta, params.contexts, params.scale)
        )
    return _make_env(reward_fn, stream, params, None)


def random_contextual_bandit(
    num_arms: int,
    dim: int,
    *,
    reward_fn: str = "linear",
    stream: str = "iid",
    noise_std=0.1,
    scale=3.0,
    num_contexts: int = 256,
) -> Env:
    """Contextual bandits whose arm parameters (and 'sorted' pool) are drawn per seed.

    ``theta_a`` are uniform on the unit sphere of R^d; the 'sorted' stream's pool holds
    ``num_contexts`` uniform unit contexts, ordered by optimal arm.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")
    num_contexts = check_int(num_contexts, "num_contexts")
    _check_choice(reward_fn, "reward_fn", REWARD_FUNCTIONS)
    _check_choice(stream, "stream", STREAMS)
    check_nonnegative(noise_std, "noise_std")
    pool_size = num_contexts if stream == "sorted" else 1

    def sample_params(key):
        dtype = float_dtype()
        k_theta, k_pool = jax.random.split(key)
        theta = _unit(k_theta, (num_arms, dim), dtype)
        pool = _unit(k_pool, (pool_size, dim), dtype)
        scale_ = jnp.asarray(scale, dtype)
        if stream == "sorted":
            pool = _sort_pool(reward_fn, theta, pool, scale_)
        return ContextualParams(theta, pool, jnp.asarray(noise_std, dtype), scale_)

    return _make_env(reward_fn, stream, None, sample_params)


def _make_env(reward_fn: str, stream: str, params, sample_params) -> Env:
    def context_at(key, t, params):
        if stream == "iid":
            return _unit(key, params.theta.shape[1:], params.theta.dtype)
        return params.contexts[t % params.contexts.shape[0]]

    def reset(key, params):
        t = jnp.zeros((), jnp.int32)
        x = context_at(key, t, params)
        return ContextualState(t, x), x

    def step(key, state, action, params):
        k_noise, k_next = jax.random.split(key)
        mu = mean_rewards(reward_fn, params.theta, state.context, params.scale)
        dtype = mu.dtype
        reward = mu[action] + params.noise_std * jax.random.normal(k_noise, (), dtype)
        best = jnp.max(mu)
        info = ContextualInfo(
            regret=best - mu[action],
            best_arm_played=(mu[action] == best).astype(dtype),
        )
        t = state.t + 1
        x = context_at(k_next, t, params)
        return ContextualState(t, x), x, reward, info

    return Env(reset, step, params, sample_params, f"contextual_{reward_fn}_{stream}")
