"""Dueling bandits: K arms compared in pairs through a preference matrix.

One round is one duel. The learner picks a pair ``(a1, a2)`` (``int32 [2]``, a1 = a2
allowed) and observes ``y = 1`` when ``a1`` wins, which happens with probability
``P[a1, a2]``; ``P + P^T = 1`` (so ``P[i, i] = 1/2``). One uniform ``u_t`` per round
decides ``y = 1{u_t < P[a1, a2]}`` (common random numbers across algorithms).

**Observation.** Every instance has arm features ``[K, d]``, returned as the (constant)
observation of every round: the linear dueling instance's features, or the one-hot
identity (``d = K``) for instances given by a matrix, so every dueling learner runs on
every instance (a linear learner on one-hot features is a Bradley-Terry model of the
arms).

**Regret** (``DuelingInfo``; the first field is the strong regret).

* With a Condorcet winner ``b*`` (``P[b*, j] > 1/2`` for all ``j != b*``):
  strong (average) regret ``(P[b*, a1] + P[b*, a2] - 1) / 2`` and weak regret
  ``min(P[b*, a1], P[b*, a2]) - 1/2`` (Yue et al. 2012; Zoghi et al. 2014).
* Without one (cyclic preferences): Copeland regret, with the normalised Copeland score
  ``C(i) = #{j != i: P[i, j] > 1/2} / (K - 1)`` and ``C* = max_i C(i)``: strong
  ``C* - (C(a1) + C(a2)) / 2`` and weak ``C* - max(C(a1), C(a2))`` (Zoghi et al. 2015,
  Copeland Dueling Bandits). Both are zero exactly when the winner(s) are played.

``has_condorcet`` is decided from the instance's matrix (traced, so random instances
work).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, check_int, float_dtype

Array = jax.Array


class DuelingInfo(NamedTuple):
    """Per-duel oracle quantities."""

    regret: Array  # [] strong (average) regret of the pair
    weak_regret: Array  # [] weak regret of the pair
    winner_played: Array  # [] 1.0 when a winner is one of the pair


class DuelingParams(NamedTuple):
    """A dueling bandit instance."""

    pref: Array  # [K, K] P[i, j] = probability that i beats j
    features: Array  # [K, d] arm features (one-hot for matrix instances)


def validate_preference_matrix(pref) -> np.ndarray:
    """A clear ``ValueError`` unless ``pref`` is a square [K, K] (K >= 2) matrix of
    probabilities with ``P + P^T = 1``.
    """
    arr = np.asarray(pref, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"a preference matrix must be square [K, K], got {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"a dueling bandit needs at least 2 arms, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ValueError("preference probabilities must be finite and in [0, 1]")
    if not np.allclose(arr + arr.T, 1.0, atol=1e-6):
        worst = np.max(np.abs(arr + arr.T - 1.0))
        raise ValueError(
            f"a preference matrix needs P + P^T = 1 (P[i, j] + P[j, i] = 1, "
            f"P[i, i] = 1/2); max deviation {worst:.3g}"
        )
    return arr


def copeland_scores(pref: Array) -> Array:
    """Normalised Copeland scores ``#{j != i: P[i, j] > 1/2} / (K - 1)``, ``[K]``."""
    num_arms = pref.shape[0]
    return jnp.sum(pref > 0.5, axis=1).astype(pref.dtype) / (num_arms - 1)


def condorcet_winner(pref: Array) -> tuple[Array, Array]:
    """``(index, exists)``: the arm beating every other with probability > 1/2."""
    scores = copeland_scores(pref)
    best = jnp.argmax(scores)
    return best.astype(jnp.int32), scores[best] == 1.0


def duel_regrets(pref: Array, a1: Array, a2: Array) -> tuple[Array, Array, Array]:
    """``(strong, weak, winner_played)`` of the pair (see the module docstring)."""
    scores = copeland_scores(pref)
    best, exists = condorcet_winner(pref)
    p1, p2 = pref[best, a1], pref[best, a2]
    c_star = jnp.max(scores)
    c1, c2 = scores[a1], scores[a2]
    strong = jnp.where(exists, 0.5 * (p1 + p2 - 1.0), c_star - 0.5 * (c1 + c2))
    weak = jnp.where(exists, jnp.minimum(p1, p2) - 0.5, c_star - jnp.maximum(c1, c2))
    played = jnp.maximum(c1, c2) == c_star
    return strong, weak, played.astype(pref.dtype)


def _make_env(name: str, params, sample_params=None) -> Env:
    def reset(key, params):
        del key
        return (), params.features

    def step(key, state, action, params):
        a1, a2 = action[0], action[1]
        pref = params.pref
        u = jax.random.uniform(key, (), pref.dtype)
        outcome = (u < pref[a1, a2]).astype(pref.dtype)
        strong, weak, played = duel_regrets(pref, a1, a2)
        return state, params.features, outcome, DuelingInfo(strong, weak, played)

    return Env(reset, step, params, sample_params, name)


def _as_params(pref: np.ndarray, feats: np.ndarray) -> DuelingParams:
    dtype = float_dtype()
    return DuelingParams(jnp.asarray(pref, dtype), jnp.asarray(feats, dtype))


def dueling_bandit(pref, name: str = "dueling") -> Env:
    """A dueling bandit given by its preference matrix (validated: P + P^T = 1)."""
    arr = validate_preference_matrix(pref)
    return _make_env(name, _as_params(arr, np.eye(arr.shape[0])))


def bradley_terry_matrix(utilities) -> np.ndarray:
    """``P[i, j] = sigmoid(u_i - u_j)`` (Bradley-Terry with log-utilities u)."""
    u = np.asarray(utilities, dtype=np.float64)
    if u.ndim != 1 or u.shape[0] < 2 or not np.all(np.isfinite(u)):
        raise ValueError(f"utilities must be a finite 1-D array of K >= 2, got {u}")
    return 1.0 / (1.0 + np.exp(-(u[:, None] - u[None, :])))


def bradley_terry_bandit(utilities) -> Env:
    """A Bradley-Terry instance; its Condorcet winner is the arm of largest utility
    (when unique).
    """
    return dueling_bandit(bradley_terry_matrix(utilities), name="bradley_terry")


def cyclic_matrix(num_arms: int, margin: float = 0.4, base: float = 0.1) -> np.ndarray:
    """A preference matrix with no Condorcet winner.

    Arms 0, 1, 2 form a rock-paper-scissors cycle (0 beats 1, 1 beats 2, 2 beats 0, each
    with probability ``1/2 + margin``) and each beats every other arm with probability
    ``1/2 + base``; arms ``i < j`` among the rest: i beats j with ``1/2 + base``. The
    Copeland winners are arms 0, 1, 2 (score (K - 2) / (K - 1)).
    """
    num_arms = check_int(num_arms, "num_arms", minimum=4)
    if not (0 < margin <= 0.5 and 0 < base <= 0.5):
        raise ValueError("margin and base must lie in (0, 1/2]")
    pref = np.full((num_arms, num_arms), 0.5)
    upper = np.triu_indices(num_arms, 1)
    pref[upper] = 0.5 + base
    for i, j in ((0, 1), (1, 2)):
        pref[i, j] = 0.5 + margin
    pref[0, 2] = 0.5 - margin
    lower = np.tril_indices(num_arms, -1)
    pref[lower] = 1.0 - pref.T[lower]
    return pref


def cyclic_bandit(num_arms: int, margin: float = 0.4, base: float = 0.1) -> Env:
    """A dueling bandit with cyclic preferences (no Condorcet winner)."""
    return dueling_bandit(cyclic_matrix(num_arms, margin, base), name="cyclic")


def linear_dueling_matrix(features, theta) -> np.ndarray:
    """``P[i, j] = sigmoid(<theta, x_i - x_j>)``."""
    x = np.asarray(features, dtype=np.float64)
    th = np.asarray(theta, dtype=np.float64)
    if x.ndim != 2 or th.ndim != 1 or x.shape[1] != th.shape[0]:
        raise ValueError(
            f"features must be [K, d] and theta [d] with the same d; got {x.shape} and "
            f"{th.shape}"
        )
    return bradley_terry_matrix(x @ th)


def linear_dueling_bandit(features, theta) -> Env:
    """Linear dueling: preferences are a sigmoid of utility differences in features
    (the model of Saha 2021 and of Lin et al. 2024, APOHF).
    """
    pref = linear_dueling_matrix(features, theta)
    x = np.asarray(features, dtype=np.float64)
    return _make_env("linear_dueling", _as_params(pref, x))


def random_linear_dueling_bandit(num_arms: int, dim: int, *, scale=3.0) -> Env:
    """Linear dueling instances drawn per seed: features uniform on the unit sphere,
    ``theta = scale * v`` with v uniform on the sphere.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")

    def sample_params(key):
        dtype = float_dtype()
        k_x, k_theta = jax.random.split(key)
        x = jax.random.normal(k_x, (num_arms, dim), dtype)
        x = x / jnp.linalg.norm(x, axis=1, keepdims=True)
        v = jax.random.normal(k_theta, (dim,), dtype)
        theta = scale * v / jnp.linalg.norm(v)
        u = x @ theta
        return DuelingParams(jax.nn.sigmoid(u[:, None] - u[None, :]), x)

    return _make_env("random_linear_dueling", None, sample_params)
