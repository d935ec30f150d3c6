"""Multi-armed bandit environments: stochastic (Bernoulli, Gaussian, Beta) and
adversarial.

Rewards lie in [0, 1] for every environment but the Gaussian one; adversarial
environments are specified by losses and hand the learner the reward ``1 - loss`` of the
pulled arm, so that every multi-armed learner runs on every multi-armed environment.

**Common random numbers.** A stochastic environment draws ONE uniform ``u_t`` per round
and returns the pulled arm's reward ``F_a^{-1}(u_t)`` (its quantile function). A learner
only observes the arm it pulls, so the law of a whole trajectory depends only on each
arm's marginal, which is exact; and two algorithms that pull the same arm in the same
round of the same seed see the same reward, so comparisons across algorithms are paired.

**Regret.** Stochastic: pseudo-regret ``mu* - mu_{a_t}``. Adversarial: regret against
the best fixed arm in hindsight, made additive by telescoping. With ``L_t(i)`` the
cumulative loss of arm ``i`` after round ``t`` (carried in the environment state), round
``t`` contributes ``l_t(a_t) - (min_i L_t(i) - min_i L_{t-1}(i))``, so the cumulative
regret after ``T`` rounds is exactly ``sum_t l_t(a_t) - min_i L_T(i)`` on every recorded
round.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc, ndtri

from envs import threefry
from envs.core import Env, check_int, float_dtype

Array = jax.Array


class BanditInfo(NamedTuple):
    """Per-round oracle quantities of a multi-armed bandit."""

    regret: Array  # [] instantaneous (pseudo-)regret
    best_arm_played: Array  # [] 1.0 when the pulled arm is optimal (for the comparator)


class StochasticParams(NamedTuple):
    """A stochastic bandit instance."""

    means: Array  # [K] arm means
    scale: Array  # [K] Gaussian standard deviations, or Beta concentrations a + b


def _validate_means(means, *, unit: bool) -> np.ndarray:
    arr = np.asarray(means, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(
            f"means must be a 1-D array of arm means, got shape {arr.shape}"
        )
    if arr.shape[0] < 2:
        raise ValueError(f"a bandit needs at least 2 arms, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"means must be finite, got {arr}")
    if unit and not np.all((arr >= 0) & (arr <= 1)):
        raise ValueError(f"means must lie in [0, 1], got {arr}")
    return arr


def _stochastic_env(name: str, quantile_fn, params, sample_params=None) -> Env:
    """An Env that draws one uniform per round and returns the pulled arm's quantile."""

    def reset(key, params):
        del key, params
        return (), ()

    def step(key, state, action, params):
        dtype = params.means.dtype
        u = threefry.uniform(key, dtype, minval=jnp.finfo(dtype).tiny)
        reward = quantile_fn(u, params.means[action], params.scale[action])
        best = jnp.max(params.means)
        info = BanditInfo(
            regret=best - params.means[action],
            best_arm_played=(params.means[action] == best).astype(dtype),
        )
        return state, (), reward, info

    return Env(reset, step, params, sample_params, name)


def _bernoulli_quantile(u, mean, scale):
    del scale
    return (u < mean).astype(u.dtype)


def _gaussian_quantile(u, mean, std):
    return mean + std * ndtri(u)


def _beta_quantile(u, mean, concentration, num_iters: int = 40):
    """Inverse CDF of Beta(mean c, (1 - mean) c) by fixed-iteration bisection on
    betainc.
    """
    a = jnp.maximum(mean * concentration, 1e-6)
    b = jnp.maximum((1.0 - mean) * concentration, 1e-6)

    def body(_, lo_hi):
        lo, hi = lo_hi
        mid = 0.5 * (lo + hi)
        below = betainc(a, b, mid) < u
        return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

    lo, hi = jax.lax.fori_loop(
        0, num_iters, body, (jnp.zeros_like(u), jnp.ones_like(u))
    )
    return 0.5 * (lo + hi)


def _as_params(means: np.ndarray, scale) -> StochasticParams:
    dtype = float_dtype()
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), means.shape)
    return StochasticParams(jnp.asarray(means, dtype), jnp.asarray(scale, dtype))


def bernoulli_bandit(means) -> Env:
    """Bernoulli arms with the given means in [0, 1].

    Example: ``bernoulli_bandit([0.1, 0.5, 0.6])``.
    """
    arr = _validate_means(means, unit=True)
    return _stochastic_env("bernoulli", _bernoulli_quantile, _as_params(arr, 0.0))


def gaussian_bandit(means, std=1.0) -> Env:
    """Gaussian arms ``N(means[a], std[a]^2)``; ``std`` a scalar or one per arm, > 0."""
    arr = _validate_means(means, unit=False)
    std_arr = np.asarray(std, dtype=np.float64)
    if not np.all(std_arr > 0):
        raise ValueError(f"std must be > 0, got {std}")
    return _stochastic_env("gaussian", _gaussian_quantile, _as_params(arr, std_arr))


def beta_bandit(means, concentration=10.0) -> Env:
    """Bounded arms ``Beta(m c, (1 - m) c)`` with means ``m`` in (0, 1) and
    concentration c.
    """
    arr = _validate_means(means, unit=True)
    if not np.all((arr > 0) & (arr < 1)):
        raise ValueError(f"Beta arm means must lie in (0, 1), got {arr}")
    conc = np.asarray(concentration, dtype=np.float64)
    if not np.all(conc > 0):
        raise ValueError(f"concentration must be > 0, got {concentration}")
    return _stochastic_env("beta", _beta_quantile, _as_params(arr, conc))


def sample_means(key, num_arms: int, gap=None) -> Array:
    """Random arm means in [0, 1]: uniform, or with a prescribed minimum gap.

    With ``gap``: the best mean is uniform on [gap, 1], the second best is exactly
    ``best - gap`` and the others are uniform on [0, best - gap]; arms are shuffled.
    ``gap`` may be traced (a sweep over gaps is one program).
    """
    dtype = float_dtype()
    if gap is None:
        return jax.random.uniform(key, (num_arms,), dtype)
    k_best, k_rest, k_perm = jax.random.split(key, 3)
    gap = jnp.asarray(gap, dtype)
    best = gap + (1.0 - gap) * jax.random.uniform(k_best, (), dtype)
    rest = (best - gap) * jax.random.uniform(k_rest, (num_arms - 2,), dtype)
    means = jnp.concatenate([best[None], (best - gap)[None], rest])
    return jax.random.permutation(k_perm, means)


def random_bernoulli_bandit(num_arms: int, *, gap=None) -> Env:
    """Bernoulli bandits whose means are drawn per seed by :func:`sample_means`.

    The runner draws one instance per seed from the seed's key, so algorithms run on the
    same seeds see the same instances.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    if gap is not None and not isinstance(gap, jax.core.Tracer):
        if not 0 < float(gap) <= 1:
            raise ValueError(f"gap must lie in (0, 1], got {gap}")

    def sample_params(key):
        means = sample_means(key, num_arms, gap)
        return StochasticParams(means, jnp.zeros_like(means))

    return _stochastic_env("random_bernoulli", _bernoulli_quantile, None, sample_params)


def lai_robbins_constant(means) -> float:
    """Lai and Robbins (1985) constant for Bernoulli arms.

    ``sum_{a: Delta_a > 0} Delta_a / kl(mu_a, mu*)``: any uniformly efficient algorithm
    has ``liminf_T R_T / log T >= `` this constant (Lai and Robbins 1985, Theorem 2).
    """
    mu = np.asarray(means, dtype=np.float64)
    best = mu.max()
    sub = mu < best
    p, q = mu[sub], np.clip(best, 1e-15, 1 - 1e-15)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(p > 0, p * np.log(p / q), 0.0) + np.where(
            p < 1, (1 - p) * np.log((1 - p) / (1 - q)), 0.0
        )
    return float(np.sum((best - p) / kl))
