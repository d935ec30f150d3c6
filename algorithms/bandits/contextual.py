"""Contextual bandit learners: reductions to regression (SquareCB, FALCON) and LinUCB.

Observation: one context vector ``x`` of shape ``[d]`` per round (see
``envs.contextual_bandits``); action: an ``int32`` arm index in ``{0..K-1}``; feedback:
the pulled arm's reward.

**Regression oracles** (pluggable). A :class:`RegressionOracle` predicts the mean
reward of every arm from a context and learns online from ``(x, a, y)``:

* ``init(key) -> state``; ``predict(state, x) -> [K]``; ``update(state, x, a, y) ->
  state`` (deterministic);
* ``sample(key, state) -> state``: draws, in the learner's ``act``, whatever randomness
  the next ``update`` needs (the minibatch of a replay buffer), so ``update`` stays
  deterministic and no key is stored.

:func:`ridge_oracle` (per-arm ridge regression on ``phi(x) = [x, 1]``,
Sherman-Morrison updates) lives here; the neural oracle (a flax MLP trained online with
optax) is ``algorithms.bandits.neural.neural_oracle``.

``CONTEXTUAL_ALGORITHMS`` maps a command-line name to a builder
``(num_arms, dim, horizon) -> Learner`` with the default tuning (the neural entries are
built by ``algorithms.bandits.neural``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import (
    Learner,
    argmax_tiebreak,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
    sample_categorical,
)

Array = jax.Array
PyTree = Any


# --------------------------------------------------------------------------------------
# Shared pieces: features, Sherman-Morrison, action selection rules.
# --------------------------------------------------------------------------------------


def features(x: Array) -> Array:
    """``phi(x) = [x, 1]``: the context with an intercept, ``[d + 1]``."""
    return jnp.concatenate([x, jnp.ones((1,), x.dtype)])


def sherman_morrison(a_inv: Array, v: Array) -> Array:
    """``(A + v v^T)^{-1}`` from ``A^{-1}`` (symmetric form: an outer product of
    ``u = A^{-1} v``, so the result stays exactly symmetric).
    """
    u = a_inv @ v
    return a_inv - jnp.outer(u, u) / (1.0 + v @ u)


def inverse_gap_weighting(predictions: Array, gamma) -> Array:
    """SquareCB's inverse gap weighting over predicted rewards, ``[K] -> [K]``.

    .. math::

        b = \\arg\\max_a \\hat y_a,\\quad
        p_a = \\frac{1}{K + \\gamma (\\hat y_b - \\hat y_a)}\\ (a \\ne b),\\quad
        p_b = 1 - \\sum_{a \\ne b} p_a.

    (Foster and Rakhlin 2020, Algorithm 1, written for losses; here for rewards, so the
    gap is ``y_b - y_a``; the learning-rate ``mu`` of the paper is K.)
    """
    num_arms = predictions.shape[0]
    best = jnp.argmax(predictions)
    gaps = predictions[best] - predictions
    probs = 1.0 / (num_arms + gamma * gaps)
    probs = probs.at[best].set(0.0)
    return probs.at[best].set(1.0 - jnp.sum(probs))


def fastcb_weighting(predictions: Array, gamma) -> Array:
    """FastCB's first-order weighting over predicted rewards in [0, 1], ``[K] -> [K]``.

    With predicted losses ``l = 1 - y`` and ``b = argmin l``:

    .. math::

        p_a = \\frac{\\hat l_b}{K \\hat l_b + \\gamma (\\hat l_a - \\hat l_b)}\\
        (a \\ne b),\\qquad p_b = 1 - \\sum_{a \\ne b} p_a

    (Foster and Krishnamurthy 2021, "Efficient First-Order Contextual Bandits",
    Algorithm 1; the rule the neural KL-loss bandit of Deb et al. 2024 uses. Formula
    from memory, unverified against the paper's text.) A zero predicted best loss
    gives the greedy arm probability one.
    """
    num_arms = predictions.shape[0]
    losses = jnp.clip(1.0 - predictions, 0.0, 1.0)
    best = jnp.argmin(losses)
    lb = losses[best]
    denom = num_arms * lb + gamma * (losses - lb)
    probs = jnp.where(denom > 0, lb / jnp.where(denom > 0, denom, 1.0), 0.0)
    probs = probs.at[best].set(0.0)
    return probs.at[best].set(1.0 - jnp.sum(probs))


# --------------------------------------------------------------------------------------
# Regression oracles.
# --------------------------------------------------------------------------------------


class RegressionOracle(NamedTuple):
    """An online regression oracle over (context, arm) (see the module docstring)."""

    init: Callable[[jax.Array], PyTree]
    predict: Callable[[PyTree, Array], Array]
    update: Callable[[PyTree, Array, Array, Array], PyTree]
    sample: Callable[[jax.Array, PyTree], PyTree]


class RidgeState(NamedTuple):
    a_inv: Array  # [K, p, p] (lambda I + sum phi phi^T)^{-1} per arm, p = d + 1
    b: Array  # [K, p] sum phi y per arm


def ridge_oracle(num_arms: int, dim: int, *, reg=1.0) -> RegressionOracle:
    """Per-arm ridge regression on ``phi(x) = [x, 1]``, updated by Sherman-Morrison.

    .. math::

        \\hat\\theta_a = (\\lambda I + \\textstyle\\sum_{s: a_s = a}
        \\phi_s \\phi_s^\\top)^{-1} \\sum_{s: a_s = a} \\phi_s y_s,\\qquad
        \\hat y_a(x) = \\langle \\hat\\theta_a, \\phi(x) \\rangle.

    Online ridge (Vovk-Azoury-Warmuth style forecaster without the current point) has
    square-loss regret ``O(K p log T)`` on the linear class, the ``Reg_Sq`` SquareCB
    needs (Foster and Rakhlin 2020, Section 2).

    Args:
      num_arms: K.
      dim: context dimension d.
      reg: ridge parameter lambda > 0 (traceable).
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")
    check_positive(reg, "reg")
    p = dim + 1

    def init(key):
        del key
        dtype = float_dtype()
        eye = jnp.eye(p, dtype=dtype) / jnp.asarray(reg, dtype)
        return RidgeState(
            jnp.broadcast_to(eye, (num_arms, p, p)), jnp.zeros((num_arms, p), dtype)
        )

    def predict(state, x):
        theta = jnp.einsum("kij,kj->ki", state.a_inv, state.b)
        return theta @ features(x)

    def update(state, x, a, y):
        phi = features(x)
        return RidgeState(
            state.a_inv.at[a].set(sherman_morrison(state.a_inv[a], phi)),
            state.b.at[a].add(phi * y),
        )

    def sample(key, state):
        del key
        return state

    return RegressionOracle(init, predict, update, sample)


def _check_obs(obs, dim: int) -> None:
    if jnp.ndim(obs) != 1 or jnp.shape(obs)[0] != dim:
        raise ValueError(
            f"contextual learners take a context of shape [{dim}], got {jnp.shape(obs)}"
        )


# --------------------------------------------------------------------------------------
# SquareCB.
# --------------------------------------------------------------------------------------


class SquareCBState(NamedTuple):
    oracle: PyTree  # the regression oracle's state
    t: Array  # [] int32 rounds played


def squarecb(
    num_arms: int,
    dim: int,
    *,
    oracle: RegressionOracle | None = None,
    gamma=100.0,
    gamma_exponent=0.0,
    weighting: str = "igw",
) -> Learner:
    """SquareCB: inverse gap weighting over an online regression oracle's predictions.

    .. math::

        \\hat y_t = \\text{oracle}(x_t),\\quad a_t \\sim
        \\mathrm{IGW}_{\\gamma_t}(\\hat y_t),\\quad \\gamma_t = \\gamma\\, t^{\\rho},

    then the oracle is updated on ``(x_t, a_t, r_t)``. With ``rho = 0`` and
    ``gamma = sqrt(K T / Reg_Sq(T))`` the regret is ``O(sqrt(K T Reg_Sq(T)))`` against
    any (even adversarial) context sequence under realizability (Foster and Rakhlin
    2020, Theorem 1); ``rho = 1/2`` is the anytime schedule (gamma_t ~ sqrt(t)).

    Args:
      num_arms: K.
      dim: context dimension d.
      oracle: a :class:`RegressionOracle` (default: :func:`ridge_oracle`).
      gamma: learning rate gamma > 0 (traceable).
      gamma_exponent: rho >= 0, ``gamma_t = gamma t^rho`` (traceable).
      weighting: 'igw' (SquareCB) or 'fastcb' (the first-order rule of
        :func:`fastcb_weighting`, for rewards in [0, 1]).

    References:
      D. Foster and A. Rakhlin. Beyond UCB: Optimal and Efficient Contextual Bandits
      with Regression Oracles. ICML 2020. Algorithm 1 (SquareCB), Theorem 1.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")
    check_positive(gamma, "gamma")
    check_nonnegative(gamma_exponent, "gamma_exponent")
    if weighting not in ("igw", "fastcb"):
        raise ValueError(f"weighting must be 'igw' or 'fastcb', got {weighting!r}")
    oracle = ridge_oracle(num_arms, dim) if oracle is None else oracle
    weigh = inverse_gap_weighting if weighting == "igw" else fastcb_weighting

    def init(key):
        return SquareCBState(oracle.init(key), jnp.zeros((), jnp.int32))

    def act(key, state, obs):
        _check_obs(obs, dim)
        k_oracle, k_arm = jax.random.split(key)
        oracle_state = oracle.sample(k_oracle, state.oracle)
        preds = oracle.predict(oracle_state, obs)
        t = (state.t + 1).astype(preds.dtype)
        probs = weigh(preds, gamma * t**gamma_exponent)
        action = sample_categorical(k_arm, probs)
        return action, state._replace(oracle=oracle_state)

    def update(state, obs, action, feedback):
        return SquareCBState(
            oracle.update(state.oracle, obs, action, feedback), state.t + 1
        )

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# FALCON.
# --------------------------------------------------------------------------------------


class FalconState(NamedTuple):
    theta: Array  # [K, p] least-squares fit on the previous epoch's data
    gram: Array  # [K, p, p] current epoch's sum phi phi^T per arm
    xty: Array  # [K, p] current epoch's sum phi y per arm
    gamma: Array  # [] current epoch's learning rate gamma_m
    t: Array  # [] int32 rounds played
    epoch_end: Array  # [] int32 last round of the current epoch (tau_m)
    epoch_len: Array  # [] int32 length of the current epoch


def falcon(
    num_arms: int,
    dim: int,
    *,
    first_epoch: int = 16,
    gamma_scale=1.0,
    reg=1e-3,
) -> Learner:
    """FALCON: epoch-wise least squares on the previous epoch and inverse gap weighting.

    Epochs end at ``tau_m = first_epoch 2^{m-1}``. At the start of epoch ``m + 1`` the
    per-arm least-squares fit on epoch ``m``'s data only is computed in closed form from
    running sufficient statistics (the "offline oracle" call), and

    .. math::

        \\gamma_{m+1} = c\\,\\sqrt{\\frac{K n_m}{P \\log n_m}},\\qquad
        p_t = \\mathrm{IGW}_{\\gamma_{m+1}}(\\hat f_{m+1}(x_t, \\cdot)),

    with ``n_m`` the length of epoch m and ``P = K (d + 1)`` the number of parameters of
    the linear class. The paper's finite-class rate is
    ``gamma_m = (1/30) sqrt(K tau_{m-1} / log(|F| tau_{m-1} / delta))``; for the linear
    class we replace ``log |F|`` by ``P`` (a covering-number heuristic, our choice) and
    expose the constant ``c`` (the paper's 1/30 is very conservative: near-uniform play
    for a long time). Epoch 1 plays uniformly (``f_1 = 0``).

    Regret ``O(sqrt(K T log(|F| T / delta)))`` with ``O(log T)`` oracle calls
    (Simchi-Levi and Xu 2021, Theorem 1 for the finite class; number from memory,
    unverified).

    Args:
      num_arms: K.
      dim: context dimension d.
      first_epoch: length of epoch 1 (a Python int, fixes the schedule).
      gamma_scale: c > 0 (traceable).
      reg: a small ridge lambda > 0 keeping the per-arm solves well posed (traceable).

    References:
      D. Simchi-Levi and Y. Xu. Bypassing the Monster: A Faster and Simpler Optimal
      Algorithm for Contextual Bandits under Realizability. Mathematics of Operations
      Research 2021. Algorithm 1 (FALCON).
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")
    first_epoch = check_int(first_epoch, "first_epoch", minimum=2)
    check_positive(gamma_scale, "gamma_scale")
    check_positive(reg, "reg")
    p = dim + 1
    num_params = num_arms * p

    def init(key):
        del key
        dtype = float_dtype()
        return FalconState(
            theta=jnp.zeros((num_arms, p), dtype),
            gram=jnp.zeros((num_arms, p, p), dtype),
            xty=jnp.zeros((num_arms, p), dtype),
            gamma=jnp.ones((), dtype),
            t=jnp.zeros((), jnp.int32),
            epoch_end=jnp.asarray(first_epoch, jnp.int32),
            epoch_len=jnp.asarray(first_epoch, jnp.int32),
        )

    def act(key, state, obs):
        _check_obs(obs, dim)
        preds = state.theta @ features(obs)
        action = sample_categorical(key, inverse_gap_weighting(preds, state.gamma))
        return action, state

    def update(state, obs, action, feedback):
        phi = features(obs)
        gram = state.gram.at[action].add(jnp.outer(phi, phi))
        xty = state.xty.at[action].add(phi * feedback)
        t = state.t + 1
        done = t == state.epoch_end
        # The offline least-squares oracle on this epoch's data (closed form per arm).
        eye = jnp.eye(p, dtype=gram.dtype)
        fit = jnp.linalg.solve(gram + reg * eye[None], xty[..., None])[..., 0]
        n = state.epoch_len.astype(gram.dtype)
        gamma = gamma_scale * jnp.sqrt(num_arms * n / (num_params * jnp.log(n)))
        return FalconState(
            theta=jnp.where(done, fit, state.theta),
            gram=jnp.where(done, jnp.zeros_like(gram), gram),
            xty=jnp.where(done, jnp.zeros_like(xty), xty),
            gamma=jnp.where(done, gamma, state.gamma),
            t=t,
            epoch_end=jnp.where(done, 2 * state.epoch_end, state.epoch_end),
            epoch_len=jnp.where(done, state.epoch_end, state.epoch_len),
        )

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# LinUCB (disjoint) and uniform exploration.
# --------------------------------------------------------------------------------------


class LinUCBState(NamedTuple):
    ridge: RidgeState  # per-arm (A_a^{-1}, b_a)


def lin_ucb(num_arms: int, dim: int, *, alpha=1.0, reg=1.0) -> Learner:
    """Disjoint LinUCB: one ridge model per arm and an optimistic index.

    .. math::

        \\hat\\theta_a = A_a^{-1} b_a,\\qquad
        a_t = \\arg\\max_a \\langle \\hat\\theta_a, \\phi(x_t) \\rangle
              + \\alpha \\sqrt{\\phi(x_t)^\\top A_a^{-1} \\phi(x_t)},

    ``A_a = lambda I + sum phi phi^T`` over the rounds arm a was pulled (updated by
    Sherman-Morrison), ``phi(x) = [x, 1]``; ties broken at random.

    Args:
      num_arms: K.
      dim: context dimension d.
      alpha: exploration width alpha >= 0 (traceable).
      reg: ridge lambda > 0 (traceable).

    References:
      L. Li, W. Chu, J. Langford and R. Schapire. A Contextual-Bandit Approach to
      Personalized News Article Recommendation. WWW 2010. Algorithm 1 (LinUCB with
      disjoint linear models). Regret ``O~(d sqrt(K T))`` holds for the SupLinUCB
      variant (Chu et al. 2011), not proved for this one.
    """
    check_nonnegative(alpha, "alpha")
    ridge = ridge_oracle(num_arms, dim, reg=reg)

    def init(key):
        return LinUCBState(ridge.init(key))

    def act(key, state, obs):
        _check_obs(obs, dim)
        phi = features(obs)
        mean = ridge.predict(state.ridge, obs)
        width = jnp.sqrt(jnp.einsum("i,kij,j->k", phi, state.ridge.a_inv, phi))
        return argmax_tiebreak(key, mean + alpha * width), state

    def update(state, obs, action, feedback):
        return LinUCBState(ridge.update(state.ridge, obs, action, feedback))

    return Learner(init, act, update)


def uniform_exploration(num_arms: int, dim: int) -> Learner:
    """Pulls an arm uniformly at random every round (the baseline to beat)."""
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")

    def init(key):
        del key
        return ()

    def act(key, state, obs):
        _check_obs(obs, dim)
        return jax.random.randint(key, (), 0, num_arms, jnp.int32), state

    def update(state, obs, action, feedback):
        return state

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Registry.
# --------------------------------------------------------------------------------------


def squarecb_gamma(num_arms: int, horizon: int, num_params: int, scale=1.0) -> float:
    """``scale * sqrt(K T / Reg_Sq)`` with ``Reg_Sq = P log T`` (ridge on P parameters),
    the fixed learning rate of Foster and Rakhlin (2020), Theorem 1.
    """
    reg_sq = num_params * math.log(max(horizon, 3))
    return scale * math.sqrt(num_arms * horizon / reg_sq)


def _squarecb_ridge(k: int, d: int, n: int) -> Learner:
    # Theory gamma with constant 30: the theorem's sqrt(K T / Reg_Sq) is a worst-case
    # rate whose constant we scale up (see the figure's notes); fixed over the horizon.
    return squarecb(k, d, gamma=squarecb_gamma(k, n, k * (d + 1), scale=30.0))


def _neural(name: str):
    def build(k: int, d: int, n: int) -> Learner:
        from algorithms.bandits import neural

        return neural.NEURAL_BUILDERS[name](k, d, n)

    return build


CONTEXTUAL_ALGORITHMS: dict[str, Callable[[int, int, int], Learner]] = {
    "uniform": lambda k, d, n: uniform_exploration(k, d),
    "linucb": lambda k, d, n: lin_ucb(k, d, alpha=1.0),
    "squarecb_ridge": _squarecb_ridge,
    "falcon": lambda k, d, n: falcon(k, d, gamma_scale=30.0),
    "squarecb_neural": _neural("squarecb_neural"),
    "neu_squarecb": _neural("neu_squarecb"),
    "neu_fastcb": _neural("neu_fastcb"),
    "neural_ucb": _neural("neural_ucb"),
    "neural_ts": _neural("neural_ts"),
}


def make_contextual_learner(
    name: str, num_arms: int, dim: int, horizon: int
) -> Learner:
    """A registered contextual learner with its default tuning."""
    if name not in CONTEXTUAL_ALGORITHMS:
        raise ValueError(
            f"unknown contextual algorithm {name!r}; choose from "
            f"{', '.join(CONTEXTUAL_ALGORITHMS)}"
        )
    check_int(num_arms, "num_arms", minimum=2)
    check_int(dim, "dim")
    check_int(horizon, "horizon")
    return CONTEXTUAL_ALGORITHMS[name](num_arms, dim, horizon)
