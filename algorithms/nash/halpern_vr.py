"""Variance-reduced Halpern iteration and loopless-SVRG extragradient for finite-sum
monotone games (``envs.finite_sum_games``).

The problem is ``0 in F(z) + N_Z(z)`` with ``F = (1/n) sum_i F_i``,
``F_i(x, y) = (-A_i y, A_i^T x)`` and ``Z`` the product of two simplices. A learner
reads ``n`` and the mean-square Lipschitz constant ``L`` from the observation
(``FiniteSumObs``) and queries components with a ``ComponentQuery`` of two slots per
round: either ``(FULL, w)`` (the full operator at a new snapshot ``w``, ``n``
evaluations) or ``(i, z_half), (i, w)`` (one component at two points, 2
evaluations). One runner round is ONE inner step (or one snapshot refresh); the outer
and inner counters live in the state.

RECONSTRUCTION: only the abstract of Cai, Alacaoglu and Diakonikolas (2024) could be
read (the full text, with its Algorithms 1-2, constants and theorem numbers, was not
accessible). What is taken from the abstract: a Halpern iteration whose oracle
complexity for ``n`` components that are Lipschitz and monotone "on average" with
parameter ``L`` is ``O~(n + sqrt(n) L / eps)`` for the operator-norm residual of the
last iterate, computable. What is derived here (standard constructions, not verified
against the paper): the inexact Halpern iteration on the resolvent of
``eta (F + N_Z)`` with ``eta = sqrt(n) / L``, the resolvent approximated by the
loopless-SVRG extragradient method of Alacaoglu and Malitsky (2022) (their
Algorithm 1, from memory, unverified) with ``O(log k)`` epochs per outer iteration.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import (
    Learner,
    check_in_unit_interval,
    check_int,
    check_positive,
    float_dtype,
    is_concrete,
)
from algorithms.nash.common import project_simplex
from envs.finite_sum_games import FULL, NO_QUERY, ComponentQuery

Array = jax.Array


def svrg_estimate(
    full_at_snapshot: Array, component_at_point: Array, component_at_snapshot: Array
) -> Array:
    """The loopless-SVRG operator estimate at a point ``z`` from a snapshot ``w``:

    .. math:: \\tilde F(z) = F(w) + F_i(z) - F_i(w),\\qquad i \\sim U\\{1..n\\},

    unbiased, ``E_i[\\tilde F(z)] = F(z)``, with variance at most
    ``L^2 ||z - w||^2`` for mean-square ``L``-Lipschitz components (so it vanishes as
    the iterate and the snapshot converge). Any pytree of arrays.

    References: Johnson and Zhang (2013), SVRG; Kovalev, Horvath, Richtarik (2020),
    loopless SVRG; Alacaoglu and Malitsky (2022), Eq. (2.2) (number from memory,
    unverified).
    """
    return jax.tree.map(
        lambda f, a, b: f + a - b,
        full_at_snapshot,
        component_at_point,
        component_at_snapshot,
    )


class HalpernVRState(NamedTuple):
    """Vectors are ``z = (x, y)`` concatenated, ``[r + c]``."""

    z: Array  # [r + c] inner iterate (SVRG-EG on the resolvent problem)
    w: Array  # [r + c] snapshot
    fw: Array  # [r + c] F(w), the full operator at the snapshot
    u: Array  # [r + c] outer (Halpern) iterate z_k, the resolvent's centre
    z0: Array  # [r + c] Halpern anchor
    out: Array  # [r + c] last resolvent approximation ~ J(z_{k-1}): the played iterate
    z_half: Array  # [r + c] extrapolated point of this round (set by act)
    index: Array  # [] int32 component sampled for this round
    refresh: Array  # [] bool: replace the snapshot after this step (prob. p)
    need_full: Array  # [] bool: this round evaluates F at the (new) snapshot
    outer: Array  # [] int32 k, outer iterations done
    inner: Array  # [] int32 inner steps done in the current outer iteration
    residual: Array  # [] ||z_{k-1} - out|| / eta: computable residual estimate


def _svrg_learner(r: int, c: int, *, halpern: bool, eta, p, gamma, inner_scale):
    def project(v):
        return jnp.concatenate([project_simplex(v[:r]), project_simplex(v[r:])])

    def constants(obs):
        n = obs.num_components
        dt = obs.lipschitz.dtype
        nf = n.astype(dt)
        prob = 1.0 / nf if p is None else jnp.asarray(p, dt)
        if halpern:  # resolvent step eta_res = eta / L, eta = sqrt(n) by default
            eta_l = jnp.sqrt(nf) if eta is None else jnp.asarray(eta, dt)
            eta_res = eta_l / obs.lipschitz
            lip_g = 1.0 + eta_l  # mean-square Lipschitz constant of G_i below
        else:
            eta_l, eta_res, lip_g = jnp.ones((), dt), jnp.ones((), dt), obs.lipschitz
        tau = gamma * jnp.sqrt(prob) / lip_g  # Alacaoglu-Malitsky: sqrt(1-alpha)gamma/L
        return n, prob, eta_l, eta_res, tau

    def operator_at_snapshot(state, eta_res):
        """``G(w)``: ``w - u + eta F(w)`` (resolvent problem) or ``F(w)``."""
        if halpern:
            return state.w - state.u + eta_res * state.fw
        return state.fw

    def init(key):
        dt = float_dtype()
        z0 = jnp.concatenate([jnp.full((r,), 1.0 / r, dt), jnp.full((c,), 1.0 / c, dt)])
        zero, false = jnp.zeros((), jnp.int32), jnp.zeros((), bool)
        return HalpernVRState(
            z0,
            z0,
            jnp.zeros_like(z0),
            z0,
            z0,
            z0,
            z0,
            zero,
            false,
            jnp.ones((), bool),
            zero,
            zero,
            jnp.full((), jnp.inf, dt),
        )

    def anchor_point(state, prob):
        alpha = 1.0 - prob  # z_bar = alpha z + (1 - alpha) w
        return alpha * state.z + (1.0 - alpha) * state.w

    def act(key, state, obs):
        n, prob, _, eta_res, tau = constants(obs)
        k_index, k_coin = jax.random.split(key)
        index = jax.random.randint(k_index, (), 0, n, jnp.int32)
        refresh = jax.random.uniform(k_coin, (), state.z.dtype) < prob
        z_bar = anchor_point(state, prob)
        z_half = project(z_bar - tau * operator_at_snapshot(state, eta_res))
        points = jnp.where(
            state.need_full[None, None],
            jnp.stack([state.w, state.w]),
            jnp.stack([z_half, state.w]),
        )
        idx = jnp.where(
            state.need_full[None],
            jnp.asarray([FULL, NO_QUERY], jnp.int32),
            jnp.stack([index, index]),
        )
        played = state.out if halpern else state.z
        action = ComponentQuery(
            played[:r], played[r:], points[:, :r], points[:, r:], idx
        )
        return action, state._replace(z_half=z_half, index=index, refresh=refresh)

    def update(state, obs, action, feedback):
        n, prob, eta_l, eta_res, tau = constants(obs)
        # F_i at the queried points: F_i(x, y) = (-A_i y, A_i^T x).
        f = jnp.concatenate([-feedback.row, feedback.col], axis=1)  # [2, r + c]
        # Snapshot round: store F(w).
        full = state._replace(fw=f[0], need_full=jnp.zeros((), bool))
        # Inner step (Alacaoglu-Malitsky SVRG-EG, Alg. 1, on G):
        # G_i(v) = v - u + eta F_i(v) (resolvent problem) or F_i(v).
        z_bar = anchor_point(state, prob)
        g_w = operator_at_snapshot(state, eta_res)
        if halpern:
            g_half, g_snap = state.z_half + eta_res * f[0], state.w + eta_res * f[1]
        else:
            g_half, g_snap = f[0], f[1]
        z_new = project(z_bar - tau * svrg_estimate(g_w, g_half, g_snap))
        w_new = jnp.where(state.refresh, z_new, state.w)
        inner = state.inner + 1
        if halpern:
            # Inner steps of outer iteration k: ceil(c max(1/p, L_G/sqrt(p)) log(k+2)).
            dt = z_new.dtype
            epoch = jnp.maximum(1.0 / prob, (1.0 + eta_l) / jnp.sqrt(prob))
            budget = jnp.ceil(
                inner_scale * epoch * jnp.log(state.outer.astype(dt) + 2.0)
            )
            done = inner.astype(dt) >= budget
            lam = 1.0 / (state.outer.astype(dt) + 2.0)
            # Halpern: z_{k+1} = lam z_0 + (1 - lam) J(z_k), J(z_k) ~ z_new.
            u_new = jnp.where(done, lam * state.z0 + (1 - lam) * z_new, state.u)
            out = jnp.where(done, z_new, state.out)
            res = jnp.where(
                done, jnp.linalg.norm(state.u - z_new) / eta_res, state.residual
            )
            outer = state.outer + done.astype(jnp.int32)
            inner = jnp.where(done, 0, inner)
        else:
            u_new, out, res, outer = state.u, z_new, state.residual, state.outer
        step = state._replace(
            z=z_new,
            w=w_new,
            u=u_new,
            out=out,
            need_full=state.refresh,
            outer=outer,
            inner=inner,
            residual=res,
        )
        return jax.tree.map(lambda a, b: jnp.where(state.need_full, a, b), full, step)

    return Learner(init, act, update)


def _validate(num_rows, num_cols, eta, p, gamma, inner_scale):
    r, c = check_int(num_rows, "num_rows"), check_int(num_cols, "num_cols")
    if eta is not None:
        check_positive(eta, "eta")
    if p is not None:
        check_in_unit_interval(p, "p", open_left=True)
    check_in_unit_interval(gamma, "gamma", open_left=True)
    if is_concrete(gamma) and float(gamma) >= 1.0:
        raise ValueError(f"gamma must be in (0, 1), got {gamma!r}")
    check_positive(inner_scale, "inner_scale")
    return r, c


def halpern_vr(
    num_rows: int,
    num_cols: int,
    *,
    eta=None,
    p=None,
    gamma=0.5,
    inner_scale=0.25,
) -> Learner:
    """Variance-reduced inexact Halpern iteration for a finite-sum monotone game.

    .. math::
        z_{k+1} = \\tfrac{1}{k+2} z_0 + \\big(1 - \\tfrac{1}{k+2}\\big)\\,
        \\tilde J(z_k),\\qquad
        J(u) = (I + \\eta_r (F + N_Z))^{-1}(u),\\ \\eta_r = \\eta / L,

    where ``J(u)`` is the zero of the 1-strongly monotone finite-sum problem
    ``G(v) = v - u + eta_r F(v)`` (``G_i = v - u + eta_r F_i``, mean-square Lipschitz
    ``1 + eta``), approximated by loopless-SVRG extragradient (Alacaoglu and Malitsky
    2022, Algorithm 1, from memory, unverified), warm-started at the previous
    approximation, keeping its snapshot across outer iterations (``F(w)`` does not
    depend on ``u``):

    .. math::
        \\bar v = (1-p) v + p w,\\quad
        v_{1/2} = \\Pi_Z(\\bar v - \\tau G(w)),\\quad
        v^+ = \\Pi_Z\\big(\\bar v - \\tau [G(w) + G_i(v_{1/2}) - G_i(w)]\\big),

    ``w <- v^+`` with probability ``p`` (then one round evaluates ``F(w)``, ``n``
    evaluations), ``tau = gamma sqrt(p) / (1 + eta)``. Outer iteration ``k`` runs
    ``ceil(inner_scale max(1/p, (1 + eta)/sqrt(p)) log(k + 2))`` inner steps (the
    resolvent error must shrink like a power of ``1/k`` for the Halpern rate;
    ``O(n)`` steps per ``log`` factor with ``eta = sqrt(n)``, ``p = 1/n``).

    The played (evaluated) iterate is the last resolvent approximation
    ``~J(z_{k-1})``: for an exact resolvent ``(z - J(z)) / eta_r`` lies in
    ``(F + N_Z)(J(z))``, the computable residual (kept in the state as
    ``residual``), and it decays like ``||z_0 - z*|| / (eta_r k)``; with
    ``eta_r = sqrt(n)/L`` and ``O(n log k)`` evaluations per outer iteration, a
    residual ``eps`` costs ``O~(n + sqrt(n) L / eps)`` evaluations, the complexity of
    the abstract (the Halpern iterate ``z_k`` itself only has an ``O(1/k)`` gap, not
    improved by a large ``eta_r``).

    Args:
      num_rows, num_cols: the game's shape (static).
      eta: ``eta_r L``, the resolvent step in units of ``1/L`` (``> 0``); default
        ``sqrt(n)`` (read from the observation).
      p: snapshot refresh probability in (0, 1]; default ``1/n``.
      gamma: inner step fraction in (0, 1].
      inner_scale: inner steps per outer iteration, in units of
        ``max(1/p, (1 + eta)/sqrt(p)) log(k + 2)`` (> 0).

    Returns:
      A ``Learner`` for ``envs.finite_sum_games.finite_sum_game_env``.

    References:
      Cai, Alacaoglu, Diakonikolas (2024), "Variance Reduced Halpern Iteration for
      Finite-Sum Monotone Inclusions", ICLR 2024: complexity
      ``O~(n + sqrt(n) L eps^{-1})`` (abstract). RECONSTRUCTION: the paper's
      Algorithms 1-2 and constants unverified (only the abstract was readable).
      Halpern (1967); Diakonikolas (2020), Halpern iteration, ``O(1/k)`` residual.
      Alacaoglu and Malitsky (2022), "Stochastic Variance Reduction for Variational
      Inequality Methods", COLT, Algorithm 1 (from memory, unverified).
    """
    r, c = _validate(num_rows, num_cols, eta, p, gamma, inner_scale)
    return _svrg_learner(
        r, c, halpern=True, eta=eta, p=p, gamma=gamma, inner_scale=inner_scale
    )


def svrg_extragradient(num_rows: int, num_cols: int, *, p=None, gamma=0.5) -> Learner:
    """Loopless-SVRG extragradient on the finite-sum game (the inner solver of
    :func:`halpern_vr` applied to ``F`` itself):

    .. math::
        \\bar z = (1-p) z + p w,\\
        z_{1/2} = \\Pi_Z(\\bar z - \\tau F(w)),\\
        z^+ = \\Pi_Z(\\bar z - \\tau [F(w) + F_i(z_{1/2}) - F_i(w)]),

    ``w <- z^+`` with probability ``p`` (default ``1/n``), ``tau = gamma sqrt(p) / L``
    with ``L`` the mean-square Lipschitz constant. Plays ``z``.

    References: Alacaoglu and Malitsky (2022), "Stochastic Variance Reduction for
    Variational Inequality Methods", COLT, Algorithm 1 (from memory, unverified):
    ``O(n + sqrt(n) L / eps)`` evaluations for an ``eps`` gap of the AVERAGED
    iterate; the last iterate played here has no such guarantee in general.
    """
    r, c = _validate(num_rows, num_cols, None, p, gamma, 1.0)
    return _svrg_learner(
        r, c, halpern=False, eta=None, p=p, gamma=gamma, inner_scale=1.0
    )
