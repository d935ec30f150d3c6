"""Parameter-free online linear optimisation by Krichevsky-Trofimov coin betting.

The learner bets a fraction of its wealth on the coin ``c_t = -g_t``; no step size,
and regret against *every* comparator ``u`` (not only a bounded set) of order
``||u|| sqrt(T log(1 + ||u|| T / epsilon))``. Plays points of an (unbounded in
principle) Euclidean space; use it on a ball domain large enough to contain its
iterates (``||x_t|| <= wealth``, which stays ``O(epsilon + regret)``).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from algorithms.core import Array, Learner, check_int, check_positive, float_dtype
from algorithms.oco.gradient import _act_fn, checked_grad


class KTState(NamedTuple):
    """KT coin betting in a Hilbert space (1-D is ``dim = 1``)."""

    x: Array  # [d] the bet w_t = beta_t Wealth_{t-1}
    coin_sum: Array  # [d] sum_{s<t} c_s with c_s = -g_s
    wealth: Array  # [] epsilon + sum_{s<t} <c_s, x_s>
    t: Array  # [] rounds seen


def kt_coin_betting(
    dim: int, *, initial_wealth: float = 1.0, lipschitz: float = 1.0
) -> Learner:
    """KT coin betting for OLO in ``R^d`` (Orabona and Pál 2016).

    .. math::

        x_t = \\frac{\\sum_{s<t} c_s}{t}\\,\\mathrm{Wealth}_{t-1},\\quad
        \\mathrm{Wealth}_t = \\varepsilon + \\sum_{s \\le t}\\langle c_s, x_s\\rangle,
        \\quad c_s = -g_s / G.

    ``dim = 1`` is the KT bettor for OLO on the real line; ``dim > 1`` the reduction
    to Hilbert spaces with a vector betting fraction (the KT bettor's fraction is the
    running mean of the vector coins; the wealth stays positive since
    ``||sum_{s<t} c_s / t|| < 1``). Regret against any ``u``:
    ``epsilon + ||u|| G sqrt(T ln(1 + 24 T^2 ||u||^2 / epsilon^2))`` ("Coin Betting and
    Parameter-Free Online Learning", NeurIPS 2016, Section 5 and Corollary 5;
    constants from memory, unverified).

    Args:
        dim: dimension (fixes shapes).
        initial_wealth: epsilon > 0.
        lipschitz: G, with ``||g_t|| <= G`` (the coins must lie in the unit ball).
    """
    dim = check_int(dim, "dim")
    check_positive(initial_wealth, "initial_wealth")
    check_positive(lipschitz, "lipschitz")

    def init(key):
        dtype = float_dtype()
        z = jnp.zeros((dim,), dtype)
        return KTState(z, z, jnp.asarray(initial_wealth, dtype), jnp.zeros((), dtype))

    def update(state, obs, action, feedback):
        coin = -checked_grad(feedback) / lipschitz
        t = state.t + 1
        wealth = state.wealth + jnp.dot(coin, state.x) * lipschitz
        coin_sum = state.coin_sum + coin
        x = coin_sum / (t + 1) * wealth / lipschitz
        return KTState(x, coin_sum, wealth, t)

    return Learner(init, _act_fn(), update)
