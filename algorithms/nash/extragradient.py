"""Two-player extragradient methods: mirror prox (entropic), Euclidean extragradient,
and the Halpern iteration. One iteration takes two rounds (two oracle calls): round 1
queries the iterate ``z_t``, round 2 the extrapolated point ``z_{t+1/2}``; both rounds
are evaluated at ``z_t``.

Theorem, algorithm and equation numbers cited in this module are from memory and
UNVERIFIED (only the papers' abstracts were accessible while writing it); the bounds the
tests check numerically are stated where they are used.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import Learner, check_int, check_positive, float_dtype
from algorithms.nash.common import normalize_logits, project_simplex
from envs.games import Play

Array = jax.Array


class PairEGState(NamedTuple):
    """Iterate, extrapolated point, anchor (Halpern), phase, iteration count."""

    x: Array  # [n] row iterate (logits for the entropic geometry, else probabilities)
    y: Array  # [m]
    x_half: Array  # [n]
    y_half: Array  # [m]
    x0: Array  # [n] anchor z_0 (Halpern)
    y0: Array  # [m]
    phase: Array  # []
    t: Array  # [] full iterations done


def _pair_eg(n, m, eta, *, entropic: bool, halpern: bool) -> Learner:
    def init(key):
        dt = float_dtype()
        if entropic:
            x, y = jnp.full((n,), -jnp.log(n), dt), jnp.full((m,), -jnp.log(m), dt)
        else:
            x, y = jnp.full((n,), 1.0 / n, dt), jnp.full((m,), 1.0 / m, dt)
        zero = jnp.zeros((), jnp.int32)
        return PairEGState(x, y, x, y, x, y, zero, zero)

    to_prob = jnp.exp if entropic else (lambda v: v)

    def act(key, state, obs):
        first = state.phase == 0
        qx = jnp.where(first, state.x, state.x_half)
        qy = jnp.where(first, state.y, state.y_half)
        return Play(to_prob(state.x), to_prob(state.y), to_prob(qx), to_prob(qy)), state

    def step(x, y, obs, feedback):
        if entropic:  # KL-regularised prox step (Cen et al. 2021, Eq. (PU))
            b = eta * obs.beta
            nx = (1 - b) * x + b * jnp.log(obs.mu_x) + eta * feedback.row
            ny = (1 - b) * y + b * jnp.log(obs.mu_y) - eta * feedback.col
            return normalize_logits(nx), normalize_logits(ny)
        return (
            project_simplex(x + eta * feedback.row),
            project_simplex(y - eta * feedback.col),
        )

    def update(state, obs, action, feedback):
        nx, ny = step(state.x, state.y, obs, feedback)
        first = state.phase == 0
        if halpern:  # z_{k+1} = lam z_0 + (1 - lam) T(z_k), lam = 1/(k+2)
            lam = 1.0 / (state.t.astype(nx.dtype) + 2.0)
            fx, fy = lam * state.x0 + (1 - lam) * nx, lam * state.y0 + (1 - lam) * ny
        else:
            fx, fy = nx, ny
        return PairEGState(
            jnp.where(first, state.x, fx),
            jnp.where(first, state.y, fy),
            jnp.where(first, nx, state.x_half),
            jnp.where(first, ny, state.y_half),
            state.x0,
            state.y0,
            1 - state.phase,
            state.t + (1 - state.phase),
        )

    return Learner(init, act, update)


def mirror_prox(num_rows: int, num_cols: int, *, eta=0.5) -> Learner:
    """Mirror prox (entropic extragradient) for the (KL-regularised) matrix game:

    .. math::
        x_{t+1/2} \\propto x_t^{1-\\eta\\beta}\\mu_x^{\\eta\\beta}e^{\\eta A y_t},\\
        x_{t+1} \\propto x_t^{1-\\eta\\beta}\\mu_x^{\\eta\\beta}e^{\\eta A y_{t+1/2}}

    (and symmetrically for ``y`` with ``-A^T x``). At ``beta = 0``: Nemirovski's mirror
    prox, ``O(1/T)`` gap of the averaged iterate (Nemirovski 2004, Theorem 3.2); at
    ``beta > 0``: the predictive update of Cen, Wei, Chi (2021), linear last-iterate
    convergence (Theorem 1); EGPO is its symmetric one-policy form.
    """
    n, m = check_int(num_rows, "num_rows"), check_int(num_cols, "num_cols")
    check_positive(eta, "eta")
    return _pair_eg(n, m, eta, entropic=True, halpern=False)


def extragradient(num_rows: int, num_cols: int, *, eta=0.5) -> Learner:
    """Euclidean extragradient (Korpelevich 1976) on the product of simplices,
    unregularised (``beta`` ignored):
    ``z_{t+1/2} = Proj(z_t + eta F(z_t))``, ``z_{t+1} = Proj(z_t + eta F(z_{t+1/2}))``,
    ``F = (A y, -A^T x)``; last-iterate ``O(1/sqrt(T))`` gap for monotone operators
    (Gorbunov, Loizou, Gidel 2022; Cai, Oikonomou, Zheng 2022), linear for bilinear
    games on polytopes (Wei et al. 2021).
    """
    n, m = check_int(num_rows, "num_rows"), check_int(num_cols, "num_cols")
    check_positive(eta, "eta")
    return _pair_eg(n, m, eta, entropic=False, halpern=False)


def halpern(num_rows: int, num_cols: int, *, eta=0.5) -> Learner:
    """Halpern iteration anchored at ``z_0`` over the extragradient map ``T``:
    ``z_{k+1} = z_0 / (k + 2) + (1 - 1/(k+2)) T(z_k)`` (Euclidean, on the simplices),
    operator residual ``O(1/k)`` in the last iterate (Diakonikolas 2020; Yoon and Ryu
    2021). This is the deterministic core of the variance-reduced Halpern iteration of
    Cai, Alacaoglu, Diakonikolas (2024) (Algorithm 1 there replaces ``T`` by a
    variance-reduced stochastic estimate for finite sums; that estimator is NOT
    implemented here: sampled feedback gives a plain unbiased estimate).
    """
    n, m = check_int(num_rows, "num_rows"), check_int(num_cols, "num_cols")
    check_positive(eta, "eta")
    return _pair_eg(n, m, eta, entropic=False, halpern=True)
