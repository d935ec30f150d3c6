"""Full-information no-regret learners over ``n`` actions and the ``self_play``
combinator that turns two of them into a game learner.

An *experts learner* acts a distribution ``x`` ([n]) and updates from a reward vector
([n], the payoff of every action this round). :func:`self_play` gives the row learner
``A y_t`` (``feedback.row``) and the column learner ``-A^T x_t`` (``-feedback.col``);
each player's regret against the best fixed strategy in hindsight is reported by the
environment (``row_regret``, ``col_regret``); their sum over ``T`` bounds the duality
gap of the average iterate (Freund and Schapire 1999).

Theorem, algorithm and equation numbers cited in this module are from memory and
UNVERIFIED (only the papers' abstracts were accessible while writing it); the bounds the
tests check numerically are stated where they are used.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import Learner, check_int, check_positive, float_dtype
from algorithms.nash.common import project_simplex
from envs.games import Play

Array = jax.Array


class CumulativeState(NamedTuple):
    """Cumulative rewards and the last reward (for optimism)."""

    total: Array  # [n] sum of rewards so far
    last: Array  # [n] the previous round's reward (0 at start)


class OGDState(NamedTuple):
    """Optimistic gradient: the secondary iterate and the last reward."""

    base: Array  # [n] \\hat x_t
    last: Array  # [n]


def _zeros(n):
    def init(key):
        z = jnp.zeros((n,), float_dtype())
        return CumulativeState(z, z)

    return init


def _accumulate(state, obs, action, reward):
    return CumulativeState(state.total + reward, reward)


def hedge(num_actions: int, *, eta=0.1) -> Learner:
    """Hedge / multiplicative weights (FTRL with negative entropy):
    ``x_t ∝ exp(eta sum_{s<t} g_s)``; regret ``<= log n / eta + eta T / 8`` for rewards
    in [0, 1] (Freund and Schapire 1997, Theorem 2; Cesa-Bianchi and Lugosi 2006,
    Thm 2.2), ``sqrt(T log n / 2)`` at ``eta = sqrt(8 log n / T)``.
    """
    n = check_int(num_actions, "num_actions")
    check_positive(eta, "eta")

    def act(key, state, obs):
        return jax.nn.softmax(eta * state.total), state

    return Learner(_zeros(n), act, _accumulate)


def optimistic_hedge(num_actions: int, *, eta=0.1) -> Learner:
    """Optimistic Hedge (OMWU): ``x_t ∝ exp(eta (sum_{s<t} g_s + g_{t-1}))``.

    In self-play the last iterate converges to the Nash equilibrium of a game with a
    unique equilibrium at a linear rate for small ``eta`` (Daskalakis and Panageas
    2019; Wei, Lee, Zhang, Luo 2021, Theorem 3); regret ``O(log n / eta + eta
    sum ||g_t - g_{t-1}||^2)`` (Rakhlin and Sridharan 2013, Lemma 1; Syrgkanis et al.
    2015).
    """
    n = check_int(num_actions, "num_actions")
    check_positive(eta, "eta")

    def act(key, state, obs):
        return jax.nn.softmax(eta * (state.total + state.last)), state

    return Learner(_zeros(n), act, _accumulate)


def ftrl_euclidean(num_actions: int, *, eta=0.1) -> Learner:
    """FTRL with the Euclidean regulariser (lazy projected gradient):
    ``x_t = Proj_simplex(eta sum_{s<t} g_s)``; regret ``<= 1/(2 eta) + eta T n / 2``
    for rewards in [0, 1] (Shalev-Shwartz 2012, Theorem 2.11).
    """
    n = check_int(num_actions, "num_actions")
    check_positive(eta, "eta")

    def act(key, state, obs):
        return project_simplex(eta * state.total), state

    return Learner(_zeros(n), act, _accumulate)


def ftpl(num_actions: int, *, eta=0.1) -> Learner:
    """Follow the perturbed leader (Kalai and Vempala 2005): play the pure strategy
    ``argmax_i (sum_{s<t} g_s + U_t / eta)_i`` with fresh ``U_t ~ U[0, 1]^n`` each
    round; expected regret ``O(sqrt(n T))`` at ``eta ~ 1/sqrt(n T)`` (Theorem 1.1).
    """
    n = check_int(num_actions, "num_actions")
    check_positive(eta, "eta")

    def act(key, state, obs):
        noise = jax.random.uniform(key, (n,), float_dtype())
        return jax.nn.one_hot(jnp.argmax(state.total + noise / eta), n), state

    return Learner(_zeros(n), act, _accumulate)


def fictitious_play(num_actions: int) -> Learner:
    """Fictitious play (Brown 1951): a best response to the opponent's empirical play,
    ``x_t = e_{argmax_i sum_{s<t} g_{s,i}}`` (lowest index on ties). In zero-sum games
    the empirical frequencies converge to a Nash equilibrium (Robinson 1951), at a rate
    that can be as slow as ``T^{-1/n}`` (Daskalakis and Pan 2014).
    """
    n = check_int(num_actions, "num_actions")

    def act(key, state, obs):
        return jax.nn.one_hot(jnp.argmax(state.total), n, dtype=float_dtype()), state

    return Learner(_zeros(n), act, _accumulate)


def regret_matching(num_actions: int, *, plus: bool = False) -> Learner:
    """Regret matching (Hart and Mas-Colell 2000) and regret matching+ (Tammelin 2014).

    ``x_t ∝ [R_t]_+`` (uniform when all are <= 0), ``R_{t+1} = R_t + g_t - <x_t, g_t>``;
    RM+ clips ``R_{t+1} <- [R_t + g_t - <x_t, g_t>]_+``. Regret
    ``<= Delta sqrt(n T)`` for rewards in an interval of width Delta (Hart and
    Mas-Colell 2000, Theorem A; Tammelin et al. 2015 for RM+).
    """
    n = check_int(num_actions, "num_actions")

    def policy(r):
        pos = jnp.maximum(r, 0.0)
        z = jnp.sum(pos)
        return jnp.where(z > 0, pos / jnp.where(z > 0, z, 1.0), 1.0 / n)

    def act(key, state, obs):
        return policy(state.total), state

    def update(state, obs, action, reward):
        r = state.total + reward - action @ reward
        return CumulativeState(jnp.maximum(r, 0.0) if plus else r, reward)

    return Learner(_zeros(n), act, update)


def optimistic_gd(num_actions: int, *, eta=0.1) -> Learner:
    """Optimistic (projected) gradient ascent, two-sequence form (OGDA in self-play):

    ``x_t = Proj(\\hat x_t + eta g_{t-1})``,
    ``\\hat x_{t+1} = Proj(\\hat x_t + eta g_t)``.

    Last-iterate convergence in bilinear games on the simplex, linear with a
    game-dependent constant (Wei, Lee, Zhang, Luo 2021, Theorem 5, number unverified).
    """
    n = check_int(num_actions, "num_actions")
    check_positive(eta, "eta")

    def init(key):
        return OGDState(jnp.full((n,), 1.0 / n, float_dtype()), jnp.zeros((n,)))

    def act(key, state, obs):
        return project_simplex(state.base + eta * state.last), state

    def update(state, obs, action, reward):
        return OGDState(project_simplex(state.base + eta * reward), reward)

    return Learner(init, act, update)


def self_play(row: Learner, col: Learner) -> Learner:
    """Two experts learners playing a zero-sum game: the row learner is rewarded with
    ``A y_t`` (``feedback.row``), the column learner with ``-A^T x_t``; the action is
    ``Play(x, y, x, y)``. State: ``(row_state, col_state)``.
    """

    def init(key):
        k_row, k_col = jax.random.split(key)
        return row.init(k_row), col.init(k_col)

    def act(key, state, obs):
        k_row, k_col = jax.random.split(key)
        x, rs = row.act(k_row, state[0], obs)
        y, cs = col.act(k_col, state[1], obs)
        return Play(x, y, x, y), (rs, cs)

    def update(state, obs, action, feedback):
        rs = row.update(state[0], obs, action.x, feedback.row)
        cs = col.update(state[1], obs, action.y, -feedback.col)
        return rs, cs

    return Learner(init, act, update)
