"""Dynamic regret: Ader, a meta Hedge over a pool of OGD step sizes."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.core import Array, Learner, check_int, check_positive
from algorithms.oco.gradient import _act_fn, checked_grad
from envs.oco import Domain, center, diameter, project


def ader_step_sizes(domain: Domain, horizon: int, lipschitz: float = 1.0) -> np.ndarray:
    """The pool ``eta_i = 2^{i-1} sqrt(7 D^2 / (2 G^2 T))``, ``i = 1..N``,
    ``N = ceil(log2(sqrt(1 + 4 T / 7))) + 1`` (Zhang, Lu, Zhou 2018, Eq. (11))."""
    horizon = check_int(horizon, "horizon")
    d = diameter(domain)
    num = math.ceil(math.log2(math.sqrt(1 + 4 * horizon / 7))) + 1
    base = math.sqrt(7 * d**2 / (2 * lipschitz**2 * horizon))
    return base * 2.0 ** np.arange(num)


class AderState(NamedTuple):
    """Ader: the experts' iterates and the meta weights."""

    x: Array  # [d] the combined point to play
    experts: Array  # [N, d] OGD iterates, one per step size
    log_weights: Array  # [N] normalised log meta weights


def ader(
    domain: Domain,
    horizon: int,
    *,
    lipschitz: float = 1.0,
    meta_rate: float | None = None,
) -> Learner:
    """Ader with linearised surrogate losses (Zhang, Lu, Zhou 2018).

    .. math::

        x_t = \\sum_i w_{t,i} x_{t,i},\\quad
        x_{t+1,i} = \\Pi_K(x_{t,i} - \\eta_i g_t),\\quad
        w_{t+1,i} \\propto w_{t,i} e^{-\\alpha \\langle g_t, x_{t,i}\\rangle},

    ``g_t = grad f_t(x_t)`` (the surrogate ``<g_t, x - x_t>`` for every expert: one
    gradient per round), prior ``w_{1,i} = (1 + 1/N) / (i (i + 1))`` and
    ``alpha = sqrt(8 / T) / (G D)``. Dynamic regret
    ``O(sqrt(T (1 + P_T)))`` against every comparator path of length ``P_T``
    ("Adaptive Online Learning in Dynamic Environments", NeurIPS 2018, Algorithms 3-4
    (improved Ader), Theorem 4; numbers from memory, unverified).
    """
    etas = jnp.asarray(ader_step_sizes(domain, horizon, lipschitz))
    num = etas.shape[0]
    if meta_rate is None:
        meta_rate = math.sqrt(8.0 / horizon) / (
            lipschitz * max(diameter(domain), 1e-12)
        )
    check_positive(meta_rate, "meta_rate")
    i = np.arange(1, num + 1)
    log_prior = np.log((1 + 1 / num) / (i * (i + 1)))
    log_prior = log_prior - np.logaddexp.reduce(log_prior)

    def init(key):
        x0 = center(domain)
        logw = jnp.asarray(log_prior, x0.dtype)
        return AderState(x0, jnp.tile(x0, (num, 1)), logw)

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        logw = state.log_weights - meta_rate * (state.experts @ g)
        logw = logw - jax.nn.logsumexp(logw)
        experts = jax.vmap(lambda x, eta: project(domain, x - eta * g))(
            state.experts, etas.astype(g.dtype)
        )
        x = project(domain, jnp.exp(logw) @ experts)  # convex combination, in K
        return AderState(x, experts, logw)

    return Learner(init, _act_fn(), update)
