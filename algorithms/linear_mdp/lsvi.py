"""Least-squares value iteration on finite-state linear MDPs: LSVI-UCB and LSVI-PHE.

Protocol (``envs.linear_mdp``): one round is one episode; the observation is the known
feature table ``phi [S, A, d]`` (:class:`~envs.linear_mdp.LinearMDPObs`); ``act``
returns a one-hot greedy policy ``[H, S, A]`` computed from the learner's action values
at every ``(s, a)`` of the finite state space; ``update`` receives the trajectory.

**Sufficient statistics instead of a history buffer.** LSVI's regression at step ``h``
(Jin et al. 2020, Algorithm 1, line 6) is

.. math::

    w_h = \\Lambda_h^{-1} \\sum_{\\tau < k} \\phi(s^\\tau_h, a^\\tau_h)
    \\big[r^\\tau_h + \\max_a Q_{h+1}(s^\\tau_{h+1}, a)\\big],
    \\qquad \\Lambda_h = \\lambda I + \\sum_{\\tau < k} \\phi \\phi^\\top .

Its targets change every episode (``Q_{h+1}`` does), which is why the textbook
implementation (and rlberry's) re-reads the whole history every episode, at a cost
growing with ``k``. With a finite state space the target depends on the stored
transition only through ``s^\\tau_{h+1}``, so

.. math::

    \\sum_\\tau \\phi_\\tau \\big[r_\\tau + V_{h+1}(s'_\\tau)\\big]
    = b_h + N_h V_{h+1}, \\qquad
    b_h = \\sum_\\tau \\phi_\\tau r_\\tau \\in \\mathbb{R}^d, \\quad
    N_h = \\sum_\\tau \\phi_\\tau e_{s'_\\tau}^\\top \\in \\mathbb{R}^{d \\times S},

two running sums. This is the batched regression over ALL stored transitions, exactly
(not an approximation), at a per-episode cost ``O(H (d S + S A d^2))`` that does not
depend on the episode index: no buffer, no mask, no ``K_max``. LSVI-UCB also keeps
its bonuses ``||phi(s, a)||^2_{Lambda_h^{-1}}`` for every ``(h, s, a)`` and downdates
them by Sherman-Morrison when a transition is added (``O(S A d)`` per step instead of
``O(S A d^2)``), recomputing one step ``h`` exactly per episode in turn
(:func:`downdate_bonus_sq`): ``O(H (d S + S A d) + S A d^2)`` per episode.
``Lambda_h^{-1}`` is kept by symmetric Sherman-Morrison updates and recomputed from
``Lambda_h`` (kept exactly as a running sum) every ``refresh_every`` episodes so
rounding cannot drift.
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from algorithms.core import (
    Learner,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
    lockstep_cond,
)
from algorithms.tabular import greedy_policy
from envs.core import KahanSum, kahan_add

Array = jax.Array

__all__ = [
    "LSVIPHEState",
    "LSVIStats",
    "LSVIUCBState",
    "downdate_bonus_sq",
    "downdate_bonus_sq_all",
    "elliptical_bonus",
    "elliptical_norm_sq",
    "init_lsvi_stats",
    "initial_bonus_sq",
    "lsvi_phe",
    "lsvi_q_values",
    "lsvi_ucb",
    "sherman_morrison",
    "trajectory_features",
    "update_lsvi_stats",
]


class LSVIStats(NamedTuple):
    """Per-step regression statistics of LSVI (``h = 0, ..., H - 1``)."""

    gram: Array  # [H, d, d] Lambda_h = reg I + sum phi phi^T (Kahan running sum)
    gram_compensation: Array  # [H, d, d] its Kahan compensation term
    gram_inv: Array  # [H, d, d] Lambda_h^{-1} (Sherman-Morrison, refreshed)
    phi_reward: Array  # [H, d] b_h = sum phi(s_h, a_h) r_h
    phi_next: Array  # [H, d, S] N_h = sum phi(s_h, a_h) e_{s_{h+1}}^T (0 at h = H-1)
    num_episodes: Array  # [] int32 episodes added


def init_lsvi_stats(num_states: int, dim: int, horizon: int, reg) -> LSVIStats:
    """Empty statistics: ``Lambda_h = reg I``."""
    dtype = float_dtype()
    eye = jnp.eye(dim, dtype=dtype)
    reg = jnp.asarray(reg, dtype)
    return LSVIStats(
        jnp.broadcast_to(reg * eye, (horizon, dim, dim)),
        jnp.zeros((horizon, dim, dim), dtype),
        jnp.broadcast_to(eye / reg, (horizon, dim, dim)),
        jnp.zeros((horizon, dim), dtype),
        jnp.zeros((horizon, dim, num_states), dtype),
        jnp.zeros((), jnp.int32),
    )


def sherman_morrison(matrix_inv: Array, x: Array, weight=1.0) -> Array:
    """``(A + w x x^T)^{-1}`` from ``A^{-1}`` (symmetric form, re-symmetrised).

    .. math::

        (A + w x x^\\top)^{-1} = A^{-1} - \\frac{w\\, u u^\\top}{1 + w\\, x^\\top u},
        \\qquad u = A^{-1} x .
    """
    u = matrix_inv @ x
    updated = matrix_inv - weight * jnp.outer(u, u) / (1.0 + weight * jnp.dot(x, u))
    return 0.5 * (updated + updated.T)


def _refresh_inverse(gram: Array) -> Array:
    """``Lambda^{-1}`` by a Cholesky solve (``[..., d, d]``)."""
    chol = jnp.linalg.cholesky(gram)
    eye = jnp.broadcast_to(jnp.eye(gram.shape[-1], dtype=gram.dtype), gram.shape)
    inv = jax.scipy.linalg.cho_solve((chol, True), eye)
    return 0.5 * (inv + jnp.swapaxes(inv, -1, -2))


def trajectory_features(features: Array, trajectory) -> Array:
    """``phi(s_h, a_h)`` of an episode's ``H`` transitions: ``[H, d]``."""
    return features[trajectory.states, trajectory.actions]


_refresh_or_keep = lockstep_cond(_refresh_inverse)


def _refresh_if(refresh: Array, gram: Array, gram_inv: Array) -> Array:
    """``_refresh_inverse(gram)`` if ``refresh`` else ``gram_inv``.

    Under ``vmap`` a ``lax.cond`` on a batched predicate becomes a ``select`` that
    evaluates both branches, i.e. a Cholesky refresh of every seed in EVERY episode
    (measured as most of the statistics update's cost). Through
    :func:`algorithms.core.lockstep_cond` one ``cond`` serves the whole batch: it
    refreshes (the seeds whose predicate holds) only in episodes where some seed's
    does. The runner plays every seed in lockstep, so that is one episode in
    ``refresh_every``. Same values as the unbatched rule.
    """
    return _refresh_or_keep(refresh, gram_inv, gram)


def update_lsvi_stats(
    stats: LSVIStats,
    features: Array,
    trajectory,
    refresh_every: int,
    phis: Array | None = None,
) -> LSVIStats:
    """Adds one episode's ``H`` transitions to the statistics.

    Args:
        stats: the current statistics.
        features: ``[S, A, d]``.
        trajectory: ``states [H]``, ``actions [H]``, ``rewards [H]``.
        refresh_every: recompute ``Lambda^{-1}`` from ``Lambda`` every this many
            episodes (a Python int).
        phis: ``[H, d]`` the trajectory's features if the caller already has them
            (:func:`trajectory_features`); gathered from ``features`` otherwise.

    Returns:
        The updated statistics.
    """
    horizon, dim, num_states = stats.phi_next.shape
    states = trajectory.states
    if phis is None:
        phis = trajectory_features(features, trajectory)
    phis = phis.astype(stats.gram.dtype)  # [H, d]
    rewards = trajectory.rewards.astype(stats.gram.dtype)
    # The next state of step h is s_{h+1}; step H-1 has none (its target is r only).
    next_one_hot = jax.nn.one_hot(states[1:], num_states, dtype=stats.gram.dtype)
    next_one_hot = jnp.concatenate(
        [next_one_hot, jnp.zeros((1, num_states), stats.gram.dtype)]
    )  # [H, S]
    # Compensated summation: a plain float32 running sum of 10^3 outer products is
    # off by ~1e-5 relative, which no refresh of the inverse could undo.
    gram = kahan_add(
        KahanSum(stats.gram, stats.gram_compensation),
        jnp.einsum("hi,hj->hij", phis, phis),
    )
    gram_inv = jax.vmap(sherman_morrison)(stats.gram_inv, phis)
    num_episodes = stats.num_episodes + 1
    gram_inv = _refresh_if(num_episodes % refresh_every == 0, gram.value, gram_inv)
    return LSVIStats(
        gram.total,
        gram.compensation,
        gram_inv,
        stats.phi_reward + phis * rewards[:, None],
        stats.phi_next + jnp.einsum("hd,hs->hds", phis, next_one_hot),
        num_episodes,
    )


def elliptical_bonus(features: Array, matrix_inv: Array) -> Array:
    """``||phi(s, a)||_{Lambda^{-1}} = sqrt(phi^T Lambda^{-1} phi)`` for all ``(s, a)``.

    Args:
        features: ``[..., d]``.
        matrix_inv: ``[d, d]``.

    Returns:
        ``[...]`` (clipped at 0 under the square root against rounding).
    """
    return jnp.sqrt(elliptical_norm_sq(features, matrix_inv))


def elliptical_norm_sq(features: Array, matrix_inv: Array) -> Array:
    """``phi^T Lambda^{-1} phi`` for all ``(s, a)``: ``[..., d]`` -> ``[...]``, >= 0."""
    quad = jnp.einsum("...i,ij,...j->...", features, matrix_inv, features)
    return jnp.maximum(quad, 0.0)


def _regression_weights(stats: LSVIStats, h, value_next: Array) -> Array:
    """``w_h = Lambda_h^{-1} (b_h + N_h V_{h+1})``, Jin et al. 2020, Alg. 1, line 6."""
    target = stats.phi_reward[h] + stats.phi_next[h] @ value_next
    return stats.gram_inv[h] @ target


def lsvi_q_values(
    features: Array, stats: LSVIStats, beta, bonus: Array | None = None
) -> Array:
    """Optimistic LSVI action values ``Q [H, S, A]`` (Jin et al. 2020, Alg. 1).

    .. math::

        Q_h(s, a) = \\min\\{ w_h^\\top \\phi(s, a)
        + \\beta \\|\\phi(s, a)\\|_{\\Lambda_h^{-1}},\\; H - h \\},
        \\qquad V_h(s) = \\max_a Q_h(s, a), \\qquad V_H = 0 .

    (The paper caps at ``H``; ``H - h`` in 0-based steps is the tighter valid cap for
    rewards in [0, 1].) With ``beta = 0`` this is plain least-squares value iteration.

    Args:
        features: ``[S, A, d]``.
        stats: the regression statistics.
        beta: bonus scale (traceable).
        bonus: ``[H, S, A]`` the elliptical norms ``||phi(s, a)||_{Lambda_h^{-1}}``
            if the caller keeps them (:func:`lsvi_ucb` does, see
            :func:`downdate_bonus_sq`); computed from ``stats.gram_inv`` otherwise.

    Returns:
        ``[H, S, A]``.
    """
    horizon, dim, num_states = stats.phi_next.shape
    chex.assert_shape(features, (num_states, None, dim))
    features = features.astype(stats.gram.dtype)

    # H is static and small: the backward loop is unrolled (a scan over H costs a
    # loop-carried round trip through memory per step under vmap).
    # [d, S, A]: the contraction over d as a sum of d scaled [S, A] planes
    # vectorises over (s, a); measured faster on CPU than ``features @ w``.
    features_t = jnp.moveaxis(features, -1, 0)
    value_next = jnp.zeros((num_states,), stats.gram.dtype)
    q_values = [None] * horizon
    for h in reversed(range(horizon)):
        weights = _regression_weights(stats, h, value_next)
        if bonus is None:
            bonus_h = elliptical_bonus(features, stats.gram_inv[h])
        else:
            bonus_h = bonus[h]
        q_h = jnp.minimum(
            jnp.einsum("d,dsa->sa", weights, features_t) + beta * bonus_h,
            jnp.asarray(horizon - h, stats.gram.dtype),
        )
        value_next = jnp.max(q_h, axis=-1)
        q_values[h] = q_h
    return jnp.stack(q_values)


def initial_bonus_sq(features: Array, reg) -> Array:
    """``||phi(s, a)||^2`` under ``Lambda = reg I`` (no data yet): ``[S, A]``."""
    return jnp.sum(features * features, axis=-1) / reg


def downdate_bonus_sq(
    bonus_sq: Array, features: Array, matrix_inv: Array, x: Array
) -> Array:
    r"""Every ``||phi(s, a)||^2_{Lambda^{-1}}`` after ``Lambda += x x^T``, ``O(S A d)``.

    By Sherman-Morrison, with ``u = Lambda^{-1} x`` (the inverse BEFORE the update),

    .. math::

        \phi^\top (\Lambda + x x^\top)^{-1} \phi
        = \phi^\top \Lambda^{-1} \phi - \frac{(\phi^\top u)^2}{1 + x^\top u},

    one matrix-vector product ``features @ u`` instead of the ``O(S A d^2)`` quadratic
    forms. Clipped at 0 against rounding.

    Args:
        bonus_sq: ``[S, A]`` the squared norms under ``matrix_inv``.
        features: ``[S, A, d]``.
        matrix_inv: ``[d, d]`` ``Lambda^{-1}`` before the update.
        x: ``[d]`` the added feature vector.

    Returns:
        ``[S, A]``.
    """
    u = matrix_inv @ x
    proj = features @ u
    return jnp.maximum(bonus_sq - proj * proj / (1.0 + jnp.dot(x, u)), 0.0)


def downdate_bonus_sq_all(
    bonus_sq: Array, features: Array, matrix_inv: Array, phis: Array
) -> Array:
    """:func:`downdate_bonus_sq` at every step ``h`` at once, ``O(H S A d)``.

    Args:
        bonus_sq: ``[H, S, A]``.
        features: ``[S, A, d]``.
        matrix_inv: ``[H, d, d]`` each ``Lambda_h^{-1}`` before its update.
        phis: ``[H, d]`` the feature added at each step.

    Returns:
        ``[H, S, A]``, the same as ``vmap(downdate_bonus_sq)`` up to rounding, with
        the ``H`` matrix-vector products ``features @ u_h`` as one matrix product.
    """
    u = jnp.einsum("hij,hj->hi", matrix_inv, phis)  # [H, d]
    proj = jnp.einsum("sad,hd->hsa", features, u)  # [H, S, A]
    denom = 1.0 + jnp.sum(phis * u, axis=-1)  # [H]
    return jnp.maximum(bonus_sq - proj * proj / denom[:, None, None], 0.0)


class LSVIUCBState(NamedTuple):
    """State of :func:`lsvi_ucb`."""

    stats: LSVIStats
    bonus_sq: Array  # [H, S, A] ||phi(s, a)||^2 under Lambda_h^{-1} (valid from ep. 1)


def _lsvi_learner(state_cls, q_fn, num_states, dim, horizon, reg, refresh_every):
    """The LSVI loop shared by LSVI-UCB and LSVI-PHE: plan greedily on ``q_fn``'s
    action values, then add the episode to the regression statistics."""
    refresh_every = check_int(refresh_every, "refresh_every")
    check_positive(reg, "reg")

    def init(key):
        del key
        return state_cls(init_lsvi_stats(num_states, dim, horizon, reg))

    def act(key, state, obs):
        return greedy_policy(q_fn(key, obs.features, state.stats)), state

    def update(state, obs, action, trajectory):
        del action
        return state_cls(
            update_lsvi_stats(state.stats, obs.features, trajectory, refresh_every)
        )

    return Learner(init, act, update)


def _check_shapes(num_states, num_actions, dim, horizon):
    return (
        check_int(num_states, "num_states"),
        check_int(num_actions, "num_actions"),
        check_int(dim, "dim"),
        check_int(horizon, "horizon"),
    )


def lsvi_ucb(
    num_states: int,
    num_actions: int,
    dim: int,
    horizon: int,
    *,
    beta=1.0,
    reg=1.0,
    refresh_every: int = 64,
) -> Learner:
    """LSVI-UCB: least-squares value iteration with an elliptical bonus.

    Each episode ``k``: for ``h = H - 1, ..., 0``,

    .. math::

        \\Lambda_h = \\lambda I + \\sum_{\\tau<k} \\phi_\\tau \\phi_\\tau^\\top,\\quad
        w_h = \\Lambda_h^{-1} \\sum_{\\tau<k} \\phi_\\tau
            [r_\\tau + \\max_a Q_{h+1}(s'_\\tau, a)],\\quad
        Q_h = \\min\\{w_h^\\top \\phi + \\beta \\|\\phi\\|_{\\Lambda_h^{-1}}, H - h\\},

    then play the greedy policy of ``Q``. The regression over all past transitions is
    computed from sufficient statistics (module docstring), exactly.

    Args:
        num_states: S (the finite state space).
        num_actions: A.
        dim: d, the feature dimension.
        horizon: H.
        beta: bonus scale (traceable; the theory's value is ``c d H sqrt(log(dT/p))``,
            far more than is needed in practice: sweep it).
        reg: ridge parameter lambda > 0 (traceable; the paper takes 1).
        refresh_every: recompute ``Lambda^{-1}`` from ``Lambda`` every this many
            episodes (int).

    Returns:
        A :class:`~algorithms.core.Learner`; observation
        :class:`~envs.linear_mdp.LinearMDPObs`, action a one-hot ``[H, S, A]``.

    References:
        Jin, Yang, Wang and Jordan, "Provably Efficient Reinforcement Learning with
        Linear Function Approximation", COLT 2020, Algorithm 1; Theorem 3.1: regret
        ``O~(sqrt(d^3 H^3 T))`` (``T = K H``) with ``beta = c d H sqrt(iota)``.
    """
    num_states, num_actions, dim, horizon = _check_shapes(
        num_states, num_actions, dim, horizon
    )
    check_nonnegative(beta, "beta")
    refresh_every = check_int(refresh_every, "refresh_every")
    check_positive(reg, "reg")

    def init(key):
        del key
        stats = init_lsvi_stats(num_states, dim, horizon, reg)
        bonus_sq = jnp.zeros((horizon, num_states, num_actions), stats.gram.dtype)
        return LSVIUCBState(stats, bonus_sq)

    # Before the first update the cache is empty: Lambda = reg I. Through
    # lockstep_cond the [H, S, A] fill runs in the first episode only (a `where` would
    # evaluate it and select in every episode, under vmap).
    initial_or_cached = lockstep_cond(
        lambda features, reg: jnp.broadcast_to(
            initial_bonus_sq(features, reg), (horizon, *features.shape[:2])
        )
    )

    def current_bonus_sq(state, features):
        return initial_or_cached(
            state.stats.num_episodes == 0,
            state.bonus_sq,
            features,
            jnp.asarray(reg, features.dtype),
        )

    def act(key, state, obs):
        del key
        features = obs.features.astype(state.stats.gram.dtype)
        bonus = jnp.sqrt(current_bonus_sq(state, features))
        return greedy_policy(lsvi_q_values(features, state.stats, beta, bonus)), state

    def update(state, obs, action, trajectory):
        del action
        features = obs.features.astype(state.stats.gram.dtype)
        bonus_sq = current_bonus_sq(state, features)
        phis = trajectory_features(features, trajectory)  # [H, d], gathered once
        bonus_sq = downdate_bonus_sq_all(bonus_sq, features, state.stats.gram_inv, phis)
        stats = update_lsvi_stats(
            state.stats, features, trajectory, refresh_every, phis=phis
        )
        # Round-robin exact refresh: one step h per episode gets its norms recomputed
        # from the current inverse, so no rank-one downdate survives more than H
        # episodes (a full refresh every episode would cost H times more).
        refreshed = jnp.arange(horizon) == stats.num_episodes % horizon  # [H]
        # Lambda_h^{-1} selected by a one-hot sum, exact (a gather under vmap is not
        # cheap on CPU).
        inv_h = jnp.einsum(
            "h,hij->ij", refreshed.astype(features.dtype), stats.gram_inv
        )
        exact_h = elliptical_norm_sq(features, inv_h)
        bonus_sq = jnp.where(refreshed[:, None, None], exact_h[None], bonus_sq)
        return LSVIUCBState(stats, bonus_sq)

    return Learner(init, act, update)


class LSVIPHEState(NamedTuple):
    """State of :func:`lsvi_phe`."""

    stats: LSVIStats


def perturbed_q_values(key, features: Array, stats: LSVIStats, sigma, num_samples: int):
    """Optimistic maximum over ``M`` perturbed LSVI solutions ``Q [H, S, A]``.

    .. math::

        \\tilde w^m_h = \\Lambda_h^{-1} \\Big(\\sum_\\tau \\phi_\\tau
        (y_\\tau + \\varepsilon^m_\\tau) + \\lambda \\xi^m\\Big)
        \\sim \\mathcal{N}\\big(w_h, \\sigma^2 \\Lambda_h^{-1}\\big), \\qquad
        Q_h = \\min\\{\\max_m \\phi^\\top \\tilde w^m_h,\\; H - h\\},

    with ``epsilon ~ N(0, sigma^2)`` on every target and ``xi ~ N(0, sigma^2 / lambda
    I)`` on the prior. Given the data, that perturbed solution is Gaussian with mean
    ``w_h`` and covariance ``Lambda^{-1}(sigma^2 sum phi phi^T + sigma^2 lambda I)
    Lambda^{-1} = sigma^2 Lambda^{-1}``: we draw it directly, ``w + sigma L^{-T} z``
    with ``Lambda = L L^T``, the same law at ``O(d^2)`` per sample instead of
    ``O(k d)``.
    """
    horizon, dim, num_states = stats.phi_next.shape
    features = features.astype(stats.gram.dtype)
    chol = jnp.linalg.cholesky(stats.gram - stats.gram_compensation)  # [H, d, d]
    noise = jax.random.normal(key, (horizon, num_samples, dim), stats.gram.dtype)

    def backward_step(value_next, inputs):
        h, chol_h, noise_h = inputs
        weights = _regression_weights(stats, h, value_next)
        # L^{-T} z has covariance (L L^T)^{-1} = Lambda^{-1}.
        offsets = jax.scipy.linalg.solve_triangular(
            chol_h, noise_h.T, lower=True, trans="T"
        ).T  # [M, d]
        samples = weights[None] + sigma * offsets
        q_h = jnp.max(jnp.einsum("sad,md->sam", features, samples), axis=-1)
        q_h = jnp.minimum(q_h, (horizon - h).astype(stats.gram.dtype))
        return jnp.max(q_h, axis=-1), q_h

    terminal = jnp.zeros((num_states,), stats.gram.dtype)
    _, q_values = jax.lax.scan(
        backward_step, terminal, (jnp.arange(horizon), chol, noise), reverse=True
    )
    return q_values


def lsvi_phe(
    num_states: int,
    num_actions: int,
    dim: int,
    horizon: int,
    *,
    sigma=0.5,
    reg=1.0,
    num_samples: int = 10,
    refresh_every: int = 64,
) -> Learner:
    """LSVI-PHE: least-squares value iteration with perturbed history exploration.

    Each episode, for ``h = H - 1, ..., 0``: ``M`` perturbed ridge solutions (targets
    perturbed by ``N(0, sigma^2)``, prior by ``N(0, sigma^2 / lambda)``), optimistic
    maximum over them, greedy policy (see :func:`perturbed_q_values`).

    Args:
        num_states, num_actions, dim, horizon: S, A, d, H.
        sigma: perturbation scale (traceable).
        reg: ridge parameter lambda > 0 (traceable).
        num_samples: M >= 1 perturbed solutions (int; the paper takes ``M`` of order
            ``log(...)``).
        refresh_every: as in :func:`lsvi_ucb` (the statistics are shared).

    References:
        Ishfaq, Cui, Nguyen, Ayoub, Yang, Wang, Precup and Yang, "Randomized Exploration
        for Reinforcement Learning with General Value Function Approximation", ICML
        2021, Algorithm 1 (LSVI-PHE); for linear MDPs regret ``O~(d^{3/2} H^{3/2}
        sqrt(T))`` (Theorem 4.2; number from memory, unverified). Zanette,
        Brandfonbrener, Brunskill, Pirotta and Lazaric, "Frequentist Regret Bounds
        for Randomized Least-Squares Value Iteration", AISTATS 2020 (the
        ``N(w, sigma^2 Lambda^{-1})`` form).
    """
    num_states, num_actions, dim, horizon = _check_shapes(
        num_states, num_actions, dim, horizon
    )
    num_samples = check_int(num_samples, "num_samples")
    check_nonnegative(sigma, "sigma")

    def q_fn(key, features, stats):
        return perturbed_q_values(key, features, stats, sigma, num_samples)

    return _lsvi_learner(
        LSVIPHEState, q_fn, num_states, dim, horizon, reg, refresh_every
    )
