"""Linear bandit learners over finite action sets, and their registry.

Protocol: ``obs`` is the round's action set, a feature matrix ``[K, d]``; the action is
an arm index (int32); the feedback is the pulled arm's reward. Every learner keeps
``O(d^2)`` statistics updated by rank-one (Sherman-Morrison) steps
(``algorithms.bandits.ridge``), so a round costs ``O(K d^2)`` whatever its index.

``LINEAR_ALGORITHMS`` maps a command-line name to a builder
``(dim, num_arms, horizon, noise_std=1.0) -> Learner`` applying the default (theory)
tuning: ``lambda = 1``, ``S = 1`` (the envs' ``||theta*||``), ``delta = 1 / T``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.bandits.ridge import (
    RidgeState,
    feature_norms,
    oful_radius,
    ridge_estimate,
    ridge_init,
    ridge_update,
)
from algorithms.core import (
    Learner,
    argmax_tiebreak,
    check_in_unit_interval,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
    lockstep_cond,
)
from envs import threefry

Array = jax.Array


def _check_obs(obs: Array, dim: int) -> None:
    if jnp.ndim(obs) != 2 or obs.shape[-1] != dim:
        raise ValueError(
            f"linear bandit learners take obs = the action set [K, d] with d = {dim}, "
            f"got shape {jnp.shape(obs)}"
        )


def _check_common(dim, regularization, noise_std, theta_bound, delta) -> int:
    dim = check_int(dim, "dim")
    check_positive(regularization, "regularization")
    check_nonnegative(noise_std, "noise_std")
    check_nonnegative(theta_bound, "theta_bound")
    check_in_unit_interval(delta, "delta", open_left=True)
    return dim


def _ridge_update_fn():
    """``update`` of the ridge-based learners: one rank-one step (a fresh closure per
    learner, so each learner's jit cache is its own)."""

    def update(state, obs, action, reward):
        _check_obs(obs, state.ridge.b.shape[0])
        ridge = ridge_update(state.ridge, obs[action], reward)
        return state._replace(ridge=ridge)

    return update


# --------------------------------------------------------------------------------------
# OFUL / LinUCB.
# --------------------------------------------------------------------------------------


class OFULState(NamedTuple):
    ridge: RidgeState  # V^{-1}, b, log det V


def oful_index(state: RidgeState, features: Array, radius) -> Array:
    """``<x_a, theta_hat> + radius ||x_a||_{V^{-1}}`` for each row of ``features``."""
    return features @ ridge_estimate(state) + radius * feature_norms(state, features)


def _radius_fn(regularization, noise_std, theta_bound, delta):
    """``ridge -> sqrt(beta_t(delta))`` (Theorem 2) with the hyperparameters bound."""

    def radius_fn(ridge: RidgeState):
        return oful_radius(
            ridge,
            regularization=regularization,
            noise_std=noise_std,
            theta_bound=theta_bound,
            delta=delta,
        )

    return radius_fn


def oful(
    dim: int,
    *,
    regularization=1.0,
    noise_std=1.0,
    theta_bound=1.0,
    delta=0.01,
    radius_scale=1.0,
) -> Learner:
    """OFUL (LinUCB with the self-normalised confidence ellipsoid).

    .. math::

        A_t = \\arg\\max_a \\; \\langle x_a, \\hat\\theta_{t-1} \\rangle
        + c \\sqrt{\\beta_{t-1}(\\delta)} \\, \\|x_a\\|_{V_{t-1}^{-1}},

    with ``sqrt(beta)`` of :func:`algorithms.bandits.ridge.oful_radius` (``c =
    radius_scale``, 1 for the theory) and ridge statistics updated by Sherman-Morrison.

    Args:
      dim: feature dimension d (static).
      regularization: ridge lambda > 0.
      noise_std: sub-Gaussian noise level R.
      theta_bound: S >= ||theta*||.
      delta: confidence level in (0, 1].
      radius_scale: multiplies the radius (1 = theory).

    References:
      Abbasi-Yadkori, Pal and Szepesvari, "Improved Algorithms for Linear Stochastic
      Bandits", NeurIPS 2011: Algorithm 1 (OFUL) with the radius of Theorem 2; Theorem 3
      bounds the regret by ``4 sqrt(T d log(lambda + T L / d)) (lambda^{1/2} S + R
      sqrt(2 log(1/delta) + d log(1 + T L / (lambda d))))``, i.e.
      ``O~(d sqrt(T))``, with probability ``1 - delta``.
    """
    dim = _check_common(dim, regularization, noise_std, theta_bound, delta)
    radius_fn = _radius_fn(regularization, noise_std, theta_bound, delta)

    def init(key):
        del key
        return OFULState(ridge_init(dim, regularization, float_dtype()))

    def act(key, state, obs):
        _check_obs(obs, dim)
        radius = radius_scale * radius_fn(state.ridge)
        return argmax_tiebreak(key, oful_index(state.ridge, obs, radius)), state

    return Learner(init, act, _ridge_update_fn())


def _select_bit(word: Array, m: Array) -> Array:
    """Position (0-31) of the ``m``-th set bit, counted from 0 and from the least
    significant end, of the uint32 ``word`` (``m < popcount(word)``): a binary search
    on population counts, five steps of scalar integer operations.
    """
    pos = jnp.zeros_like(m)
    for width in (16, 8, 4, 2, 1):
        low = (word >> pos.astype(jnp.uint32)) & jnp.uint32((1 << width) - 1)
        below = jax.lax.population_count(low).astype(m.dtype)
        skip = m >= below
        m = jnp.where(skip, m - below, m)
        pos = jnp.where(skip, pos + width, pos)
    return pos


def mth_true_index(mask: Array, u: Array) -> Array:
    """Index of the ``m``-th ``True`` of the 1-D bool ``mask`` in index order, ``m =
    min(floor(u * #True), #True - 1)`` (0-based), ``u`` in [0, 1).

    Equal to ``argmax(mask & (cumsum(mask) - 1 == m))`` (tested) without the prefix
    sum: XLA's CPU backend lowers ``cumsum`` to a reduce-window that dominated a
    vmapped OFUL round at K = 50. Here ``mask`` is packed into ``ceil(K / 32)`` uint32
    words (one pass over ``mask``), the word holding the ``m``-th ``True`` is found
    from the words' population counts, and the bit within it by
    :func:`_select_bit`. Returns 0 when ``mask`` has no ``True``.
    """
    num = mask.shape[-1]
    num_words = -(-num // 32)
    padded = jnp.pad(mask, (0, 32 * num_words - num)).reshape(num_words, 32)
    bits = jnp.uint32(1) << jnp.arange(32, dtype=jnp.uint32)
    # Distinct powers of two: the sum is the bitwise or.
    words = jnp.sum(jnp.where(padded, bits, jnp.uint32(0)), axis=-1, dtype=jnp.uint32)
    counts = jax.lax.population_count(words).astype(jnp.int32)
    total = jnp.sum(counts)
    m = jnp.minimum(jnp.floor(u * total).astype(jnp.int32), total - 1)
    if num_words == 1:
        word_index, before, word = jnp.zeros((), jnp.int32), 0, words[0]
    else:
        ends = jnp.cumsum(counts)  # num_words <= K / 32 entries
        word_index = jnp.sum(ends <= m).astype(jnp.int32)
        here = jnp.arange(num_words) == word_index
        before = jnp.sum(jnp.where(jnp.arange(num_words) < word_index, counts, 0))
        word = jnp.sum(jnp.where(here, words, jnp.uint32(0)), dtype=jnp.uint32)
    index = 32 * word_index + _select_bit(word, jnp.maximum(m - before, 0))
    return jnp.where(total > 0, jnp.minimum(index, num - 1), 0).astype(jnp.int32)


def _fold_reduce(op, x: Array) -> Array:
    """``op``-reduction of the 1-D ``x`` (``op`` associative and commutative, exact
    on its inputs: max, min, integer add) by folding it in halves,
    ``x[:n/2] op x[n/2:]``, down to at most 32 entries before one ``reduce``.

    XLA's CPU compiler rewrites a reduction over more than 32 entries into a
    reduce-window plus a reduce (its tree-reduction rewrite), which under ``vmap`` over
    seeds ran ~3x slower than the folded form (a max over K = 50 arms: 86 -> 28 ns per
    seed-round in the runner, measured in one process).
    """
    while x.shape[-1] > 32:
        half = x.shape[-1] // 2
        folded = op(x[..., :half], x[..., half : 2 * half])
        x = jnp.concatenate([folded, x[..., 2 * half :]], axis=-1)
    return _FINAL_REDUCE[op](x, axis=-1)


_FINAL_REDUCE = {jnp.maximum: jnp.max, jnp.minimum: jnp.min, jnp.add: jnp.sum}


@functools.cache
def _tied_choice(dtype) -> Callable:
    """``(pred, first, key, best) -> first``, or when ``pred`` the
    ``floor(u * #maximisers)``-th ``True`` of ``best`` with ``u`` drawn from ``key`` in
    ``dtype`` by ``envs.threefry.uniform`` (bit for bit ``jax.random.uniform(key, (),
    dtype)``; JAX's rolled threefry loop is several times slower under ``vmap`` on
    CPU). One batch-level ``cond`` (``algorithms.core.lockstep_cond``): under
    ``vmap`` the uniform and the search run only in a round where some element ties.
    """
    return lockstep_cond(
        lambda key, best: mth_true_index(best, threefry.uniform(key, dtype))
    )


def argmax_uniform_ties(key, values: Array) -> Array:
    """Argmax with ties broken uniformly at random from ONE uniform draw.

    Same law as ``algorithms.core.argmax_tiebreak`` (uniform on the maximisers), but
    that draws ``K`` uniforms (``K / 2`` threefry blocks per round, the dominant cost
    of a vmapped OFUL round at K = 50); here the ``m``-th maximiser in index order is
    taken with ``m = floor(u * #maximisers)``, ``u ~ U[0, 1)``
    (:func:`mth_true_index`). With a single maximiser (``m = 0``) that is the first
    maximiser, computed directly; the uniform and the search run under
    :func:`algorithms.core.lockstep_cond`, so under ``vmap`` they run only in a round
    where some batch element has a tie (with continuous rewards: rarely after the
    first rounds). The choice is the same as always drawing ``u`` (tested), at about
    half the cost of a vmapped OFUL ``act``.
    """
    num = values.shape[-1]
    best = values == _fold_reduce(jnp.maximum, values)
    first = _fold_reduce(
        jnp.minimum, jnp.where(best, jnp.arange(num, dtype=jnp.int32), num - 1)
    )
    count = _fold_reduce(jnp.add, best.astype(jnp.int32))
    return _tied_choice(jnp.result_type(values, float))(count > 1, first, key, best)


class OFULFixedState(NamedTuple):
    ridge: RidgeState  # V^{-1}, b, log det V, count; V itself not kept ([0, 0])
    norms_sq: Array  # [K] ||x_a||^2_{V^{-1}} of every arm (rank-one updates)
    means: Array  # [K] <x_a, theta_hat> of every arm (recursive least squares)
    features_t: Array  # [d, K] the action set, transposed, stored at the first update


# X^T of the (fixed) action set, computed once: one batch-level cond under vmap.
_transposed_once = lockstep_cond(lambda obs: obs.T)


def oful_fixed_actions(
    dim: int,
    num_arms: int,
    *,
    regularization=1.0,
    noise_std=1.0,
    theta_bound=1.0,
    delta=0.01,
    radius_scale=1.0,
) -> Learner:
    """OFUL for a FIXED action set, in ``O(K d + d^2)`` per round instead of
    ``O(K d^2)``.

    The same algorithm as :func:`oful` (same index, radius and ridge statistics; the
    same actions up to floating-point rounding), with every arm's squared width
    ``g_a = ||x_a||^2_{V^{-1}}`` kept in the state and updated by the rank-one
    identity that Sherman-Morrison implies,

    .. math::

        g_a \\leftarrow g_a - \\frac{(x_a^\\top u)^2}{1 + x_t^\\top u}, \\qquad
        u = V_{t-1}^{-1} x_t,

    and every arm's estimate ``m_a = <x_a, theta_hat>`` by recursive least squares,
    ``m_a <- m_a + (x_a^T u) (y_t - m_{A_t}) / (1 + x_t^T u)``: one matvec
    ``V^{-1} x_t`` and ONE pass ``X u`` over the action set per round (``act`` is
    ``O(K)``). Rounding drift is bounded by refreshing one arm per round exactly
    (``g_j = x_j^T V^{-1} x_j`` and ``m_j = x_j^T V^{-1} b`` for ``j = t mod K``,
    ``O(d^2)``), so every arm is recomputed every ``K`` rounds (fixed shape: no
    data-dependent branch under ``vmap``). The refresh shares the round's one pass
    over ``V_{t-1}^{-1}``: ``[u, w] = V_{t-1}^{-1} [x_t, x_j]`` in a single
    broadcast-multiply-sum, then ``w <- w - u (u^T x_j) / (1 + x_t^T u)`` (Sherman-
    Morrison applied to the vector: ``w = V_t^{-1} x_j``), ``g_j = x_j^T w`` and
    ``m_j = b_t^T w`` (``V^{-1}`` symmetric): no second ``d x d`` pass (measured ~5%
    less CPU per vmapped round than two separate refresh matvecs, with the reward
    materialised once, see ``update``). Before the first update ``g_a =
    ||x_a||^2 / lambda`` is computed from ``obs``; ``m_a = 0``.

    Layout (speed only, same arithmetic): the first update stores the action set
    transposed, ``X^T`` ``[d, K]``, in the state (``features_t``, computed once:
    ``algorithms.core.lockstep_cond``), and both passes reduce over the MAJOR axis
    (``X u`` as ``sum_i X^T[i] u_i``, ``V^{-1} x`` as ``sum_i V^{-1}[i] x_i``), which
    XLA:CPU vectorises over the trailing axis; reducing over the minor axis of ``[K,
    d]`` ran a short scalar loop per arm. Measured ~1.25x less CPU per vmapped round
    (same-process paired A/B, one core, 1,000 seeds, d = 10, K = 50).

    Args:
      dim: d (static).
      num_arms: K (static); ``obs`` must be the same ``[K, d]`` set every round.
      regularization, noise_std, theta_bound, delta, radius_scale: as in
        :func:`oful`.

    References:
      Abbasi-Yadkori, Pal and Szepesvari, "Improved Algorithms for Linear Stochastic
      Bandits", NeurIPS 2011: Algorithm 1 (OFUL) with the radius of Theorem 2; the
      rank-one update of the widths is Sherman and Morrison (1950) applied to
      ``x_a^T V^{-1} x_a``.
    """
    dim = _check_common(dim, regularization, noise_std, theta_bound, delta)
    num_arms = check_int(num_arms, "num_arms")
    radius_fn = _radius_fn(regularization, noise_std, theta_bound, delta)

    def _check_fixed(obs):
        _check_obs(obs, dim)
        if obs.shape[0] != num_arms:
            raise ValueError(f"expected {num_arms} actions, got {obs.shape[0]}")

    def _norms_sq(state, obs):
        first = jnp.sum(obs * obs, axis=-1) / jnp.asarray(regularization, obs.dtype)
        return jnp.where(state.ridge.count == 0, first, state.norms_sq)

    def init(key):
        del key
        dtype = float_dtype()
        zeros = jnp.zeros(num_arms, dtype)
        # V itself is not kept (OFUL uses V^{-1} only; updating it cost ~7% of a
        # vmapped round): an empty [0, 0] placeholder.
        ridge = ridge_init(dim, regularization, dtype)._replace(
            V=jnp.zeros((0, 0), dtype)
        )
        return OFULFixedState(ridge, zeros, zeros, jnp.zeros((dim, num_arms), dtype))

    def act(key, state, obs):
        _check_fixed(obs)
        radius = radius_scale * radius_fn(state.ridge)
        widths = jnp.sqrt(jnp.maximum(_norms_sq(state, obs), 0.0))
        index = state.means + radius * widths
        return argmax_uniform_ties(key, index), state

    def update(state, obs, action, reward):
        _check_fixed(obs)
        ridge = state.ridge
        # The reward is materialised once: otherwise XLA fuses the env's noise
        # (threefry + erfinv) into each of its consumers here (b and the means) and
        # computes it twice (same values; ~9% of a vmapped round, measured).
        reward = jax.lax.optimization_barrier(reward)
        # X^T, stored at the first update (the action set is fixed): the pass X u
        # below then reduces over d along the MAJOR axis of [d, K], which XLA:CPU
        # vectorises over the K arms; over the minor axis of [K, d] (d = 10 floats
        # per arm) it ran a short scalar loop per arm.
        features_t = _transposed_once(ridge.count == 0, state.features_t, obs)
        # Round-robin exact refresh of arm j = t mod K (bounds the drift, below).
        j = jnp.mod(ridge.count, num_arms)
        xs = obs[jnp.stack([action, j])]  # [2, d]: x_t and x_j, one gather
        # ONE pass over V^{-1} for both u = V^{-1} x_t and w = V^{-1} x_j, reduced
        # over the major axis (V^{-1} is exactly symmetric, below).
        uw = jnp.sum(ridge.V_inv[None, :, :] * xs[:, :, None], axis=1)
        x, x_j, u, w = xs[0], xs[1], uw[0], uw[1]
        denom = 1.0 + jnp.maximum(jnp.sum(x * u), 0.0)
        # [K] x_a^T V^{-1} x_t: the one O(K d) pass over X.
        Xu = jnp.sum(features_t * u[:, None], axis=0)
        norms_sq = _norms_sq(state, obs) - Xu**2 / denom
        # Recursive least squares: theta_t = theta_{t-1} + V_t^{-1} x_t (y_t - x_t^T
        # theta_{t-1}) with V_t^{-1} x_t = u / denom.
        means = state.means + Xu * ((reward - state.means[action]) / denom)
        # Sherman-Morrison. No re-symmetrisation (unlike ridge_update): entry (i, k)
        # and (k, i) are the same float operations on u_i u_k = u_k u_i, so V^{-1}
        # stays exactly symmetric (tested), and the transpose cost ~1/3 of a round.
        V_inv = ridge.V_inv - jnp.outer(u, u) / denom
        b = ridge.b + reward * x
        ridge = RidgeState(
            V=ridge.V,  # [0, 0]: not kept
            V_inv=V_inv,
            b=b,
            log_det=ridge.log_det + jnp.log(denom),
            count=ridge.count + 1,
        )
        # Exact refresh of arm j from w_new = V_t^{-1} x_j = w - u (u . x_j) / denom
        # (Sherman-Morrison applied to the vector, no second pass over V^{-1}):
        # g_j = x_j . w_new, m_j = x_j^T V_t^{-1} b_t = b_t . w_new (V^{-1}
        # symmetric). A select rather than a scatter (a batched scatter under vmap is
        # slow on CPU).
        w = w - u * (jnp.sum(u * x_j) / denom)
        refresh = jnp.arange(num_arms) == j
        norms_sq = jnp.where(refresh, jnp.sum(x_j * w), norms_sq)
        means = jnp.where(refresh, jnp.sum(b * w), means)
        return OFULFixedState(ridge, jnp.maximum(norms_sq, 0.0), means, features_t)

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Linear Thompson sampling.
# --------------------------------------------------------------------------------------


class LinTSState(NamedTuple):
    ridge: RidgeState


def lints_sample(key, state: RidgeState, scale) -> Array:
    """``theta_tilde = theta_hat + scale V^{-1/2} eta`` with ``eta ~ N(0, I_d)``.

    ``V^{-1/2}`` is realised as ``L^{-T}`` for the Cholesky factor ``V = L L^T`` (so
    the perturbation has covariance ``scale^2 V^{-1}``); ``V`` is kept by exact sums.
    """
    dim = state.b.shape[0]
    eta = jax.random.normal(key, (dim,), state.b.dtype)
    chol = jnp.linalg.cholesky(state.V)
    z = jax.scipy.linalg.solve_triangular(chol, eta, lower=True, trans="T")
    return ridge_estimate(state) + scale * z


def lin_ts(
    dim: int,
    *,
    regularization=1.0,
    noise_std=1.0,
    theta_bound=1.0,
    delta=0.01,
    inflation=1.0,
) -> Learner:
    """Linear Thompson sampling with a Gaussian perturbation of the ridge estimate.

    .. math::

        \\tilde\\theta_t = \\hat\\theta_{t-1}
        + c \\sqrt{\\beta_{t-1}(\\delta)} \\, V_{t-1}^{-1/2} \\eta_t,
        \\quad \\eta_t \\sim N(0, I_d), \\qquad
        A_t = \\arg\\max_a \\langle x_a, \\tilde\\theta_t \\rangle.

    With ``c = inflation = 1`` this is the scaling of Abeille and Lazaric (2017):
    the perturbation is the OFUL radius ``sqrt(beta_t)`` times a standard Gaussian
    direction, i.e. an oversampling by ``sqrt(d)`` relative to the confidence
    ellipsoid, which their analysis needs for the anti-concentration; Agrawal and
    Goyal (2013) use the variance
    ``v^2 = R^2 24 d log(1/delta) / epsilon`` instead (both give ``O~(d^{3/2}
    sqrt(T))``). Practitioners often take ``c ~ 1 / sqrt(d)``.

    References:
      Agrawal and Goyal, "Thompson Sampling for Contextual Bandits with Linear
      Payoffs", ICML 2013 (Algorithm 1, Theorem 1).
      Abeille and Lazaric, "Linear Thompson Sampling Revisited", AISTATS 2017
      (Algorithm 1 with beta_t(delta') of Abbasi-Yadkori et al.; regret
      ``O~(d^{3/2} sqrt(T))``, Theorem 1; numbers from memory, unverified).
    """
    dim = _check_common(dim, regularization, noise_std, theta_bound, delta)
    check_nonnegative(inflation, "inflation")

    def init(key):
        del key
        return LinTSState(ridge_init(dim, regularization, float_dtype()))

    def act(key, state, obs):
        _check_obs(obs, dim)
        radius = oful_radius(
            state.ridge,
            regularization=regularization,
            noise_std=noise_std,
            theta_bound=theta_bound,
            delta=delta,
        )
        theta = lints_sample(key, state.ridge, inflation * radius)
        return jnp.argmax(obs @ theta).astype(jnp.int32), state

    return Learner(init, act, _ridge_update_fn())


# --------------------------------------------------------------------------------------
# Linear epsilon-greedy.
# --------------------------------------------------------------------------------------


class LinearEpsilonGreedyState(NamedTuple):
    ridge: RidgeState


def linear_epsilon_greedy(
    dim: int, *, epsilon=1.0, power=1.0 / 3.0, regularization=1.0
) -> Learner:
    """Epsilon-greedy on the ridge estimate.

    .. math::

        \\varepsilon_t = \\min(1, \\varepsilon\\, t^{-p}); \\quad
        A_t \\sim \\mathrm{Unif}(\\mathcal{A})
        \\text{ w.p. } \\varepsilon_t, \\text{ else }
        \\arg\\max_a \\langle x_a, \\hat\\theta_{t-1} \\rangle.

    ``power = 0`` gives a constant rate (linear regret); ``power = 1/3`` the
    ``O(T^{2/3})`` explore-then-exploit rate (Lattimore and Szepesvari, "Bandit
    Algorithms", 2020, Section 6.2 and Exercise 6.5 for the finite-armed analogue).
    """
    dim = check_int(dim, "dim")
    check_nonnegative(epsilon, "epsilon")
    check_nonnegative(power, "power")
    check_positive(regularization, "regularization")

    def init(key):
        del key
        return LinearEpsilonGreedyState(ridge_init(dim, regularization, float_dtype()))

    def act(key, state, obs):
        _check_obs(obs, dim)
        k_explore, k_arm, k_tie = jax.random.split(key, 3)
        dtype = state.ridge.b.dtype
        t = (state.ridge.count + 1).astype(dtype)
        rate = jnp.minimum(1.0, epsilon * t ** (-jnp.asarray(power, dtype)))
        greedy = argmax_tiebreak(k_tie, obs @ ridge_estimate(state.ridge))
        uniform = jax.random.randint(k_arm, (), 0, obs.shape[0], jnp.int32)
        explore = jax.random.uniform(k_explore, (), dtype) < rate
        return jnp.where(explore, uniform, greedy), state

    return Learner(init, act, _ridge_update_fn())


# --------------------------------------------------------------------------------------
# Phased elimination with a G-optimal design.
# --------------------------------------------------------------------------------------


def g_optimal_design(
    features: Array, active: Array | None = None, *, num_iters: int = 50, ridge=1e-4
) -> tuple[Array, Array]:
    """An approximate G-optimal (= D-optimal) design by Frank-Wolfe / Fedorov-Wynn.

    Maximises ``log det V(pi)``, ``V(pi) = sum_a pi_a x_a x_a^T``, over distributions
    on the active rows; by the Kiefer-Wolfowitz theorem the maximiser minimises
    ``g(pi) = max_a ||x_a||^2_{V(pi)^{-1}}`` and attains ``g = d`` (the dimension of
    the span). Each of the ``num_iters`` (static) steps moves mass to
    ``a* = argmax_a ||x_a||^2_{V^{-1}}`` with the exact line-search step

    .. math::

        \\gamma = \\frac{g_{a^*} / d - 1}{g_{a^*} - 1}, \\qquad
        \\pi \\leftarrow (1 - \\gamma) \\pi + \\gamma e_{a^*},

    and updates ``V^{-1}`` and every ``g_a`` by Sherman-Morrison in ``O(K d + d^2)``.
    The start is uniform on the active set; ``ridge * I`` (decaying with the steps)
    keeps ``V`` invertible when the active set does not span ``R^d``; ``d`` in the
    step is ``min(d, #active)``.

    Returns:
      ``(pi [K], g [K])``: the design (zero off the active set) and
      ``||x_a||^2_{V(pi)^{-1}}`` for every row.

    References:
      Lattimore and Szepesvari, "Bandit Algorithms", 2020, Theorem 21.1
      (Kiefer-Wolfowitz) and Note 21.2 (Frank-Wolfe with this step size); Kiefer and
      Wolfowitz, "The equivalence of two extremum problems", 1960.
    """
    num_arms, dim = features.shape
    dtype = features.dtype
    active = jnp.ones(num_arms, bool) if active is None else active
    num_active = jnp.maximum(jnp.sum(active), 1)
    pi = active.astype(dtype) / num_active.astype(dtype)
    V = jnp.einsum("k,kd,ke->de", pi, features, features) + ridge * jnp.eye(
        dim, dtype=dtype
    )
    V_inv = jax.scipy.linalg.cho_solve(
        (jnp.linalg.cholesky(V), True), jnp.eye(dim, dtype=dtype)
    )
    V_inv = 0.5 * (V_inv + V_inv.T)
    g = jnp.einsum("kd,de,ke->k", features, V_inv, features)
    d_eff = jnp.minimum(dim, num_active).astype(dtype)

    def body(_, carry):
        pi, V_inv, g = carry
        masked = jnp.where(active, g, -jnp.inf)
        star = jnp.argmax(masked)
        g_star = g[star]
        gamma = (g_star / d_eff - 1.0) / jnp.maximum(g_star - 1.0, 1e-12)
        gamma = jnp.clip(gamma, 0.0, 0.5)
        x = features[star]
        u = V_inv @ x
        denom = (1.0 - gamma) + gamma * g_star
        V_inv = (V_inv - (gamma / denom) * jnp.outer(u, u)) / (1.0 - gamma)
        V_inv = 0.5 * (V_inv + V_inv.T)
        g = (g - (gamma / denom) * (features @ u) ** 2) / (1.0 - gamma)
        pi = (1.0 - gamma) * pi + gamma * jax.nn.one_hot(star, num_arms, dtype=dtype)
        return pi, V_inv, g

    pi, V_inv, g = jax.lax.fori_loop(0, num_iters, body, (pi, V_inv, g))
    return pi, g


class PhasedEliminationState(NamedTuple):
    active: Array  # [K] bool, the active set A_l
    allocation: Array  # [K] int32, T_l(a) of the current phase
    remaining: Array  # [K] int32, pulls of each arm left in the phase
    b: Array  # [d] sum of reward * x over the phase
    phase: Array  # [] int32, l (0 before the first phase starts)


def phase_allocation(pi: Array, phase, dim: int, num_arms: int, delta, noise_std):
    """``T_l(a) = ceil(2 d R^2 pi(a) / eps_l^2 log(k l (l + 1) / delta))``,
    ``eps_l = 2^-l``.

    ``R = noise_std`` (the book's 1-sub-Gaussian case is ``R = 1``); capped at
    ``2^30 / K`` to stay within int32.
    """
    dtype = pi.dtype
    ell = jnp.asarray(phase, dtype)
    eps = 2.0 ** (-ell)
    log_term = jnp.log(num_arms * ell * (ell + 1.0) / delta)
    alloc = jnp.ceil(2.0 * dim * noise_std**2 * pi / eps**2 * log_term)
    alloc = jnp.where(pi > 0, jnp.maximum(alloc, 1.0), 0.0)
    return jnp.minimum(alloc, 2.0**30 / num_arms).astype(jnp.int32)


def phased_elimination(
    dim: int, num_arms: int, *, delta=0.01, noise_std=1.0, num_design_iters: int = 10
) -> Learner:
    """Phased elimination with G-optimal exploration (fixed action sets).

    Phase ``l = 1, 2, ...`` with ``eps_l = 2^{-l}``: compute a G-optimal design
    ``pi_l`` on the active set ``A_l`` (:func:`g_optimal_design`); play each ``a`` for
    ``T_l(a)`` rounds (:func:`phase_allocation`); compute the least-squares estimate
    of the phase's data

    .. math::

        \\hat\\theta_l = V_l^{-1} \\sum_{t \\in \\text{phase}} A_t X_t, \\qquad
        V_l = \\sum_{a} T_l(a) x_a x_a^\\top,

    and keep ``A_{l+1} = {a in A_l : max_{b in A_l} <theta_hat_l, x_b - x_a> <= 2
    eps_l}``. A phase ends when every allocation is spent; the next phase starts in the
    following ``act``. Fixed-shape: the transition is computed every round and selected
    with a mask (its cost is ``num_design_iters`` Sherman-Morrison steps, ``O(K d)``
    each). The default 10 Frank-Wolfe steps give ``g(pi) <= 1.2 d`` on 50 random
    actions in ``R^10`` (an approximate design: the book's Note 21.2 / 22 allow ``g <=
    2d`` at the price of a constant factor in ``T_l``).

    The action set must be fixed (the same ``obs`` every round).

    References:
      Lattimore and Szepesvari, "Bandit Algorithms", 2020, Chapter 22, Algorithm 12;
      Theorem 22.1: with ``delta = 1/n``, ``R_n <= C sqrt(n d log(k log(n) / delta))``
      (constant from memory, unverified).
    """
    dim = check_int(dim, "dim")
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    num_design_iters = check_int(num_design_iters, "num_design_iters", minimum=0)
    check_in_unit_interval(delta, "delta", open_left=True)
    check_nonnegative(noise_std, "noise_std")

    def init(key):
        del key
        dtype = float_dtype()
        return PhasedEliminationState(
            active=jnp.ones(num_arms, bool),
            allocation=jnp.zeros(num_arms, jnp.int32),
            remaining=jnp.zeros(num_arms, jnp.int32),
            b=jnp.zeros(dim, dtype),
            phase=jnp.zeros((), jnp.int32),
        )

    def next_phase(state, features):
        dtype = features.dtype
        # Least squares on the finished phase (none before phase 1).
        counts = state.allocation.astype(dtype)
        V = jnp.einsum("k,kd,ke->de", counts, features, features)
        scale = jnp.maximum(jnp.sum(counts), 1.0)
        V = V + 1e-6 * scale * jnp.eye(dim, dtype=dtype)
        theta = jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(V), True), state.b)
        values = features @ theta
        best = jnp.max(jnp.where(state.active, values, -jnp.inf))
        eps_prev = 2.0 ** (-state.phase.astype(dtype))
        keep = state.active & (best - values <= 2.0 * eps_prev)
        active = jnp.where(state.phase > 0, keep, state.active)
        phase = state.phase + 1
        pi, _ = g_optimal_design(features, active, num_iters=num_design_iters)
        alloc = phase_allocation(pi, phase, dim, num_arms, delta, noise_std)
        return PhasedEliminationState(
            active, alloc, alloc, jnp.zeros_like(state.b), phase
        )

    def act(key, state, obs):
        del key
        _check_obs(obs, dim)
        if obs.shape[0] != num_arms:
            raise ValueError(f"expected {num_arms} actions, got {obs.shape[0]}")
        done = jnp.all(state.remaining <= 0)
        fresh = next_phase(state, obs)
        state = jax.tree.map(lambda n, o: jnp.where(done, n, o), fresh, state)
        action = jnp.argmax(state.remaining > 0).astype(jnp.int32)
        return action, state

    def update(state, obs, action, reward):
        return state._replace(
            remaining=state.remaining.at[action].add(-1),
            b=state.b + reward * obs[action],
        )

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Registry.
# --------------------------------------------------------------------------------------


def _delta(horizon: int) -> float:
    return 1.0 / max(int(horizon), 2)


LINEAR_ALGORITHMS: dict[str, Callable[..., Learner]] = {
    "oful": lambda d, k, n, noise_std=1.0: oful(
        d, noise_std=noise_std, delta=_delta(n)
    ),
    "lin_ts": lambda d, k, n, noise_std=1.0: lin_ts(
        d, noise_std=noise_std, delta=_delta(n)
    ),
    # eps_t = min(1, t^{-1/3}): the T^{2/3} schedule.
    "lin_eps_greedy": lambda d, k, n, noise_std=1.0: linear_epsilon_greedy(d),
    "phased_elim": lambda d, k, n, noise_std=1.0: phased_elimination(
        d, k, noise_std=noise_std, delta=_delta(n)
    ),
}


def make_linear_learner(
    name: str, *, dim: int, num_arms: int, horizon: int, noise_std=1.0
) -> Learner:
    """The learner ``name`` of :data:`LINEAR_ALGORITHMS` with its default tuning."""
    if name not in LINEAR_ALGORITHMS:
        raise ValueError(
            f"unknown linear algorithm {name!r}; choose from "
            f"{', '.join(LINEAR_ALGORITHMS)}"
        )
    return LINEAR_ALGORITHMS[name](dim, num_arms, horizon, noise_std=noise_std)
