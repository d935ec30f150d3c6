"""Online linear regression (Vovk-Azoury-Warmuth) and the groupwise-regret reduction
by sleeping experts (Acharya, Ghosh, Roth et al. 2023).

Learners here take ``obs = envs.oco_groups.GroupObs`` (features and group membership),
predict a scalar and receive the label as feedback.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algorithms.core import (
    Array,
    Learner,
    check_int,
    check_positive,
    float_dtype,
    is_concrete,
)
from algorithms.oco.sleeping import awake_distribution, sleeping_log_weights


def _check_label(y):
    if is_concrete(y) and not np.all(np.isfinite(np.asarray(y))):
        raise ValueError(f"non-finite label {y!r}")
    return y


def _vaw_predict(inverse, cross, a):
    """``a^T (P^{-1} + a a^T)^{-1} c`` by Sherman-Morrison on ``P = inverse``."""
    pa = inverse @ a
    return a @ (inverse @ cross) - (a @ pa) * (pa @ cross) / (1.0 + a @ pa)


def _sherman_morrison(inverse, a):
    """``(P^{-1} + a a^T)^{-1}``, symmetrised."""
    pa = inverse @ a
    new = inverse - jnp.outer(pa, pa) / (1.0 + a @ pa)
    return 0.5 * (new + new.T)


class VAWState(NamedTuple):
    """Vovk-Azoury-Warmuth forecaster."""

    inverse: Array  # [d, d] (lambda I + sum a a^T)^{-1}
    cross: Array  # [d] sum y a


def vaw(dim: int, *, ridge: float = 1.0, clip: float | None = None) -> Learner:
    """The Vovk-Azoury-Warmuth forecaster (online ridge with the current point).

    .. math:: \\hat y_t = a_t^T \\Big(\\lambda I + \\sum_{s \\le t} a_s a_s^T\\Big)^{-1}
              \\sum_{s < t} y_s a_s

    Regret ``lambda ||u||^2 + d Y^2 ln(1 + T X^2 / (d lambda))`` against every ``u``
    for the squared loss (Vovk 2001, Azoury and Warmuth 2001; Cesa-Bianchi and Lugosi
    2006, Theorem 11.8; number from memory). ``clip`` clips predictions to
    ``[-clip, clip]``.
    """
    dim = check_int(dim, "dim")
    check_positive(ridge, "ridge")

    def init(key):
        dtype = float_dtype()
        return VAWState(jnp.eye(dim, dtype=dtype) / ridge, jnp.zeros((dim,), dtype))

    def act(key, state, obs):
        pred = _vaw_predict(state.inverse, state.cross, obs.features)
        if clip is not None:
            pred = jnp.clip(pred, -clip, clip)
        return pred, state

    def update(state, obs, action, feedback):
        y = _check_label(feedback)
        a = obs.features
        return VAWState(_sherman_morrison(state.inverse, a), state.cross + y * a)

    return Learner(init, act, update)


class GroupwiseState(NamedTuple):
    """One VAW learner per group and sleeping-experts log-weights."""

    inverse: Array  # [G, d, d]
    cross: Array  # [G, d]
    log_weights: Array  # [G] eta * (cumulative regret to each group's expert)


def groupwise(
    dim: int,
    num_groups: int,
    *,
    ridge: float = 1.0,
    learning_rate: float = 0.05,
    clip: float = 5.0,
) -> Learner:
    """Groupwise regret by sleeping experts over per-group online regressors.

    Each group ``g`` runs its own base learner (VAW) on the rounds where the
    individual belongs to ``g``; these are *sleeping experts*, awake on their group's
    rounds. The prediction mixes the awake experts,

    .. math::

        \\hat y_t = \\frac{\\sum_{g \\ni x_t} w_{t,g}\\, \\hat y_{t,g}}
                         {\\sum_{g \\ni x_t} w_{t,g}},\\qquad
        w_{t+1,g} = w_{t,g}\\, e^{\\eta (\\ell_t(\\hat y_t) - \\ell_t(\\hat y_{t,g}))}
        \\ \\text{for awake } g,

    with ``ell_t(p) = (p - y_t)^2`` (predictions clipped to ``[-clip, clip]``): the
    multiplicative-weights sleeping-experts rule of Blum and Mansour (2007) as used in
    the reduction of Acharya, Ghosh, Roth et al., "Oracle Efficient Algorithms for
    Groupwise Regret", ICLR 2024 (Algorithm 1; the regret on every group's subsequence
    is the base learner's regret plus ``O(sqrt(T_g log G))``; algorithm number and
    update form from memory of the paper, unverified). Time linear in the number of
    groups, one base-learner call per awake group.
    """
    dim = check_int(dim, "dim")
    num_groups = check_int(num_groups, "num_groups")
    check_positive(ridge, "ridge")
    check_positive(learning_rate, "learning_rate")
    check_positive(clip, "clip")

    def init(key):
        dtype = float_dtype()
        eye = jnp.eye(dim, dtype=dtype) / ridge
        return GroupwiseState(
            jnp.tile(eye, (num_groups, 1, 1)),
            jnp.zeros((num_groups, dim), dtype),
            jnp.zeros((num_groups,), dtype),
        )

    def experts(state, a):
        preds = jax.vmap(_vaw_predict, (0, 0, None))(state.inverse, state.cross, a)
        return jnp.clip(preds, -clip, clip)

    def mix(state, obs):
        w = awake_distribution(state.log_weights, obs.membership)
        return w @ experts(state, obs.features)

    def act(key, state, obs):
        return mix(state, obs), state

    def update(state, obs, action, feedback):
        y = _check_label(feedback)
        a, awake = obs.features, obs.membership
        preds = experts(state, a)
        mixed = mix(state, obs)
        gain = (mixed - y) ** 2 - (preds - y) ** 2
        log_weights = sleeping_log_weights(
            state.log_weights, awake, gain, learning_rate
        )
        inverse = jax.vmap(_sherman_morrison, (0, None))(state.inverse, a)
        inverse = jnp.where(awake[:, None, None] > 0, inverse, state.inverse)
        cross = state.cross + awake[:, None] * (y * a)[None]
        return GroupwiseState(inverse, cross, log_weights)

    return Learner(init, act, update)
