"""Prediction with expert advice: Hedge (fixed, doubling and anytime rates), AdaHedge,
optimistic Hedge and KT experts.

Every learner plays a distribution ``p_t`` over ``N`` experts (a point of the simplex
``envs.oco.Domain('simplex', N)``) and reads the loss vector ``l_t in [0, 1]^N`` from
``feedback.grad`` (the gradient of the linear loss ``<l_t, p>``).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.core import Array, Learner, check_int, check_positive, float_dtype
from algorithms.oco.gradient import _act_fn, checked_grad

RATES = ("fixed", "doubling", "anytime")


class HedgeState(NamedTuple):
    """Hedge: exponential weights on cumulative losses."""

    x: Array  # [N] the distribution to play
    cum_loss: Array  # [N] cumulative losses (since the epoch start for 'doubling')
    t: Array  # [] rounds seen


def hedge(
    num_experts: int,
    *,
    rate: str = "anytime",
    horizon: int | None = None,
    step_size: float | None = None,
) -> Learner:
    """Hedge / exponential weights (Freund and Schapire 1997).

    .. math:: p_{t+1} = \\mathrm{softmax}(-\\eta_{t+1} L_t)

    Rates: 'fixed' ``eta = sqrt(8 ln N / T)`` (``step_size`` overrides): regret
    ``sqrt(T ln N / 2)`` (Cesa-Bianchi and Lugosi 2006, Theorem 2.2); 'doubling'
    restarts in epochs of length ``2^m`` with ``eta_m = sqrt(8 ln N / 2^m)``
    (Section 2.3: ``sqrt(2)/(sqrt(2) - 1) sqrt(T ln N / 2)``); 'anytime'
    ``eta_t = sqrt(8 ln N / t)`` (Theorem 2.3 of the same book:
    ``2 sqrt(T ln N / 2) + sqrt(ln N / 8)``). Computed with log-sum-exp.
    """
    num_experts = check_int(num_experts, "num_experts", minimum=2)
    if rate not in RATES:
        raise ValueError(f"rate must be one of {RATES}, got {rate!r}")
    log_n = float(np.log(num_experts))
    if rate == "fixed":
        if step_size is None:
            if horizon is None:
                raise ValueError("the fixed rate needs horizon or step_size")
            step_size = np.sqrt(8 * log_n / check_int(horizon, "horizon"))
        check_positive(step_size, "step_size")

    def eta(t):  # the rate used after t rounds (t >= 1)
        if rate == "fixed":
            return step_size
        if rate == "anytime":
            return jnp.sqrt(8 * log_n / t)
        epoch = jnp.floor(jnp.log2(t + 1.0) + 1e-9)
        return jnp.sqrt(8 * log_n / 2.0**epoch)

    def init(key):
        dtype = float_dtype()
        z = jnp.zeros((num_experts,), dtype)
        return HedgeState(jnp.full((num_experts,), 1 / num_experts, dtype), z, z[0])

    def update(state, obs, action, feedback):
        loss = checked_grad(feedback)
        t = state.t + 1
        cum = state.cum_loss + loss
        if rate == "doubling":
            # Epoch m covers rounds 2^m - 1, ..., 2^{m+1} - 2 (0-based): restart when
            # t + 1 is a power of two.
            restart = jnp.abs(jnp.log2(t + 1.0) - jnp.round(jnp.log2(t + 1.0))) < 1e-9
            cum = jnp.where(restart, 0.0, cum)
        return HedgeState(jax.nn.softmax(-eta(t) * cum), cum, t)

    return Learner(init, _act_fn(), update)


class AdaHedgeState(NamedTuple):
    """AdaHedge."""

    x: Array  # [N]
    cum_loss: Array  # [N] L_t
    mixability_gap: Array  # [] Delta_t = sum_s (h_s - m_s)


def _adahedge_weights(cum_loss, gap, log_n):
    """Weights for ``eta = ln N / Delta``; FTL (uniform over leaders) at Delta = 0."""
    leaders = (cum_loss == jnp.min(cum_loss)).astype(cum_loss.dtype)
    eta = log_n / jnp.where(gap > 0, gap, 1.0)
    soft = jax.nn.softmax(-eta * cum_loss)
    return jnp.where(gap > 0, soft, leaders / jnp.sum(leaders)), eta


def adahedge(num_experts: int) -> Learner:
    """AdaHedge (de Rooij, van Erven, Grünwald, Koolen 2014).

    .. math::

        \\eta_t = \\frac{\\ln N}{\\Delta_{t-1}},\\quad
        \\delta_t = h_t - m_t = \\langle p_t, l_t\\rangle
        + \\frac{1}{\\eta_t}\\ln\\langle p_t, e^{-\\eta_t l_t}\\rangle \\ge 0,\\quad
        \\Delta_t = \\Delta_{t-1} + \\delta_t,

    with ``eta = infinity`` (follow the leader, ties split uniformly; ``m_t`` the least
    loss among leaders) while ``Delta = 0``. Regret
    ``<= 2 sqrt(L*(T - L*)/T ln N) + (16/3 ln N + 2)`` for losses in [0, 1]
    ("Follow the Leader If You Can, Hedge If You Must", JMLR 2014, Algorithm 1 /
    Theorem 6; numbers from memory, unverified). The mix loss is computed as
    ``(lse(-eta L_{t-1}) - lse(-eta L_t)) / eta``.
    """
    num_experts = check_int(num_experts, "num_experts", minimum=2)
    log_n = float(np.log(num_experts))

    def init(key):
        dtype = float_dtype()
        z = jnp.zeros((num_experts,), dtype)
        return AdaHedgeState(jnp.full((num_experts,), 1 / num_experts, dtype), z, z[0])

    def update(state, obs, action, feedback):
        loss = checked_grad(feedback)
        p, eta = _adahedge_weights(state.cum_loss, state.mixability_gap, log_n)
        h = jnp.dot(p, loss)
        new_cum = state.cum_loss + loss
        mix_soft = (
            jax.nn.logsumexp(-eta * state.cum_loss) - jax.nn.logsumexp(-eta * new_cum)
        ) / eta
        leaders = state.cum_loss == jnp.min(state.cum_loss)
        mix_ftl = jnp.min(jnp.where(leaders, loss, jnp.inf))
        m = jnp.where(state.mixability_gap > 0, mix_soft, mix_ftl)
        gap = state.mixability_gap + jnp.maximum(h - m, 0.0)
        x, _ = _adahedge_weights(new_cum, gap, log_n)
        return AdaHedgeState(x, new_cum, gap)

    return Learner(init, _act_fn(), update)


class OptimisticHedgeState(NamedTuple):
    """Optimistic Hedge with the last loss as hint."""

    x: Array  # [N]
    cum_loss: Array  # [N] L_t
    last_loss: Array  # [N] the hint M_{t+1} = l_t
    variation: Array  # [] 1 + sum_s ||l_s - M_s||_inf^2


def optimistic_hedge(num_experts: int, *, step_size: float | None = None) -> Learner:
    """Optimistic Hedge (Rakhlin and Sridharan 2013; Syrgkanis, Agarwal, Luo,
    Schapire 2015).

    .. math::

        p_{t+1} = \\mathrm{softmax}(-\\eta_{t+1}(L_t + l_t)),\\quad
        \\eta_{t+1} = \\sqrt{\\ln N / (1 + \\textstyle\\sum_{s \\le t}
        \\|l_s - l_{s-1}\\|_\\infty^2)}

    (``step_size`` fixes ``eta``). Regret ``O(sqrt(ln N (1 + sum ||l_t -
    l_{t-1}||_inf^2)))``: constant on a constant loss sequence ("Optimization,
    learning, and games with predictable sequences", NeurIPS 2013, Section 2;
    adaptive rate in the style of their Corollary 2, from memory).
    """
    num_experts = check_int(num_experts, "num_experts", minimum=2)
    log_n = float(np.log(num_experts))
    if step_size is not None:
        check_positive(step_size, "step_size")

    def init(key):
        dtype = float_dtype()
        z = jnp.zeros((num_experts,), dtype)
        x = jnp.full((num_experts,), 1 / num_experts, dtype)
        return OptimisticHedgeState(x, z, z, z[0] + 1.0)

    def update(state, obs, action, feedback):
        loss = checked_grad(feedback)
        cum = state.cum_loss + loss
        variation = state.variation + jnp.max(jnp.abs(loss - state.last_loss)) ** 2
        eta = jnp.sqrt(log_n / variation) if step_size is None else step_size
        return OptimisticHedgeState(
            jax.nn.softmax(-eta * (cum + loss)), cum, loss, variation
        )

    return Learner(init, _act_fn(), update)


class KTExpertsState(NamedTuple):
    """Coin-betting experts, one KT bettor per expert."""

    x: Array  # [N]
    coin_sum: Array  # [N] sum_s gtilde_{s,i}
    wealth: Array  # [N] 1 + sum_s gtilde_{s,i} w_{s,i}
    bets: Array  # [N] w_{t,i} for the coming round
    t: Array  # [] rounds seen


def kt_experts(num_experts: int) -> Learner:
    """Parameter-free experts from KT coin betting (Orabona and Pál 2016).

    .. math::

        \\tilde g_{t,i} = \\begin{cases} \\langle l_t, p_t\\rangle - l_{t,i} &
        w_{t,i} > 0 \\\\ [\\langle l_t, p_t\\rangle - l_{t,i}]_+ & w_{t,i} \\le 0
        \\end{cases},\\quad
        w_{t+1,i} = \\frac{\\sum_{s \\le t}\\tilde g_{s,i}}{t + 1}
        \\Big(1 + \\sum_{s \\le t}\\tilde g_{s,i} w_{s,i}\\Big),\\quad
        p_{t+1} \\propto \\pi \\odot [w_{t+1}]_+

    (uniform prior ``pi``; ``p = pi`` when every bet is non-positive). Regret to
    expert ``i`` ``O(sqrt(T (1 + ln N)))`` without any learning rate ("Coin Betting and
    Parameter-Free Online Learning", NeurIPS 2016, Section 6, Algorithm 2; the
    algorithm number from memory, unverified).
    """
    num_experts = check_int(num_experts, "num_experts", minimum=2)

    def init(key):
        dtype = float_dtype()
        z = jnp.zeros((num_experts,), dtype)
        return KTExpertsState(
            jnp.full((num_experts,), 1 / num_experts, dtype), z, z + 1.0, z, z[0]
        )

    def update(state, obs, action, feedback):
        loss = checked_grad(feedback)
        edge = jnp.dot(loss, state.x) - loss
        coin = jnp.where(state.bets > 0, edge, jnp.maximum(edge, 0.0))
        t = state.t + 1
        coin_sum = state.coin_sum + coin
        wealth = state.wealth + coin * state.bets
        bets = coin_sum / (t + 1) * wealth
        positive = jnp.maximum(bets, 0.0)
        total = jnp.sum(positive)
        uniform = jnp.full_like(positive, 1 / num_experts)
        x = jnp.where(total > 0, positive / jnp.where(total > 0, total, 1.0), uniform)
        return KTExpertsState(x, coin_sum, wealth, bets, t)

    return Learner(init, _act_fn(), update)
