"""Online regression with intersecting groups, and per-group regret.

Each round an individual arrives with three binary attributes ``b in {0, 1}^3`` (each
Bernoulli(1/2)) and continuous features ``z ~ N(0, I_m)``; the learner sees the feature
vector ``a = (1, b, z)`` and its membership in seven intersecting groups defined by the
attributes: everyone, ``b_j = 1`` and ``b_j = 0`` for ``j = 1, 2, 3``. The label
follows a group-dependent linear model,

.. math:: y = \\langle w_0, a\\rangle + \\sum_{j: b_j = 1} \\langle \\delta_j, z\\rangle
          + \\varepsilon, \\qquad \\varepsilon \\sim N(0, \\text{noise}^2),

so no single linear model is right for every group. The learner predicts ``yhat_t``
(a scalar) and receives ``y_t``; the loss is ``(yhat_t - y_t)^2``.

**Per-group regret.** For each group ``g`` the state carries the ridge statistics of
the group's subsequence (``A_g = sum a a^T``, ``c_g = sum y a``, ``s_g = sum y^2``) and
reports the telescoped increment of

.. math:: R_g(t) = \\sum_{s \\le t, s \\in g} (\\hat y_s - y_s)^2
          - \\min_\\beta \\Big[\\sum_{s \\le t, s \\in g}(\\langle \\beta, a_s\\rangle
          - y_s)^2 + \\lambda \\|\\beta\\|^2\\Big],

the regret on the group's subsequence against the best (ridge-regularised, ``lambda``
small) linear predictor for that group in hindsight; the minimum is
``s_g - c_g^T (A_g + lambda I)^{-1} c_g``. ``regret`` is the group "everyone".
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, KahanSum, check_int, float_dtype, kahan_add

Array = jax.Array

NUM_ATTRIBUTES = 3
GROUP_NAMES = ("everyone", "b1", "b2", "b3", "not_b1", "not_b2", "not_b3")
NUM_GROUPS = len(GROUP_NAMES)


class GroupInfo(NamedTuple):
    """Per-group regret increments (one field per group; ``regret`` = everyone)."""

    regret: Array  # [] everyone
    b1: Array  # []
    b2: Array  # []
    b3: Array  # []
    not_b1: Array  # []
    not_b2: Array  # []
    not_b3: Array  # []


class GroupObs(NamedTuple):
    """What the learner sees before predicting."""

    features: Array  # [d] a = (1, b, z)
    membership: Array  # [G] 1.0 where the individual belongs to the group


class GroupParams(NamedTuple):
    """The labelling model."""

    base: Array  # [d] w_0
    deltas: Array  # [3, m] per-attribute shifts of the z-coefficients
    noise: Array  # []
    ridge: Array  # [] lambda of the comparator


class GroupState(NamedTuple):
    """Current individual and per-group sufficient statistics."""

    obs: GroupObs  # the individual to predict now
    label: Array  # [] its label
    second_moment: KahanSum  # [G, d, d]
    cross: KahanSum  # [G, d]
    label_square: KahanSum  # [G]
    best: Array  # [G] current hindsight minima


def membership(bits: Array) -> Array:
    """[3] attribute bits -> [G] group membership (everyone, b_j = 1, b_j = 0)."""
    return jnp.concatenate([jnp.ones((1,), bits.dtype), bits, 1.0 - bits])


def _draw(key, params):
    k1, k2, k3 = jax.random.split(key, 3)
    dtype = params.base.dtype
    bits = jax.random.bernoulli(k1, 0.5, (NUM_ATTRIBUTES,)).astype(dtype)
    z = jax.random.normal(k2, params.deltas.shape[1:], dtype)
    a = jnp.concatenate([jnp.ones((1,), dtype), bits, z])
    y = a @ params.base + bits @ (params.deltas @ z)
    y = y + params.noise * jax.random.normal(k3, (), dtype)
    return GroupObs(a, membership(bits)), y


def _minimum(a_mat, c_vec, s, ridge):
    d = a_mat.shape[-1]
    sol = jnp.linalg.solve(a_mat + ridge * jnp.eye(d, dtype=a_mat.dtype), c_vec)
    return s - c_vec @ sol


def groups_regression(
    num_continuous: int = 2, *, noise: float = 0.3, shift: float = 1.0, seed: int = 0
) -> Env:
    """The intersecting-groups regression stream (module docstring).

    Args:
        num_continuous: m, the number of continuous features (d = 4 + m).
        noise: label noise standard deviation.
        shift: scale of the per-attribute coefficient shifts ``delta_j``.
        seed: NumPy seed of the fixed labelling model.
    """
    m = check_int(num_continuous, "num_continuous")
    rng = np.random.default_rng(seed)
    d = 1 + NUM_ATTRIBUTES + m
    dtype = float_dtype()
    params = GroupParams(
        jnp.asarray(rng.normal(size=d) / np.sqrt(d), dtype),
        jnp.asarray(shift * rng.choice([-1.0, 1.0], size=(NUM_ATTRIBUTES, m)), dtype),
        jnp.asarray(noise, dtype),
        jnp.asarray(1.0, dtype),
    )

    def reset(key, params):
        obs, y = _draw(key, params)
        g = NUM_GROUPS
        z = jnp.zeros
        state = GroupState(
            obs,
            y,
            KahanSum(z((g, d, d), dtype), z((g, d, d), dtype)),
            KahanSum(z((g, d), dtype), z((g, d), dtype)),
            KahanSum(z((g,), dtype), z((g,), dtype)),
            z((g,), dtype),
        )
        return state, obs

    def step(key, state, action, params):
        a, member = state.obs.features, state.obs.membership
        y = state.label
        pred = jnp.asarray(action, dtype).reshape(())
        second = kahan_add(
            state.second_moment, member[:, None, None] * jnp.outer(a, a)[None]
        )
        cross = kahan_add(state.cross, member[:, None] * (y * a)[None])
        squares = kahan_add(state.label_square, member * y * y)
        best = jax.vmap(_minimum, (0, 0, 0, None))(
            second.value, cross.value, squares.value, params.ridge
        )
        increments = member * (pred - y) ** 2 - (best - state.best)
        info = GroupInfo(*[increments[i] for i in range(NUM_GROUPS)])
        next_obs, next_y = _draw(key, params)
        new = GroupState(next_obs, next_y, second, cross, squares, best)
        return new, next_obs, y, info

    return Env(reset, step, params, None, "groups_regression")
