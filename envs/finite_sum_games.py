"""Finite-sum zero-sum matrix games: a monotone operator queried through components.

The game is the average of ``n`` component matrices, ``A = (1/n) sum_i A_i``
([r, c] each); the row player maximises ``x^T A y`` over the simplex, the column
player minimises it. In the monotone-inclusion form of Cai, Alacaoglu and Diakonikolas
(2024), the problem is ``0 in F(z) + N_Z(z)`` with ``z = (x, y)``,
``Z = simplex x simplex`` and

.. math:: F(z) = \\frac1n\\sum_{i=1}^n F_i(z),\\qquad
          F_i(x, y) = (-A_i y,\\; A_i^\\top x),

each ``F_i`` monotone (skew) and ``||A_i||_2``-Lipschitz. A learner queries the
operator through components: its action is a :class:`ComponentQuery`, a batch of
``B`` points, each with a component index ``i`` (one component evaluation), ``FULL``
(the whole sum, ``n`` component evaluations) or ``NO_QUERY`` (nothing, free). The
feedback is a :class:`envs.games.GameFeedback` with a leading batch axis,
``row[b] = A_{i_b} qy_b`` and ``col[b] = A_{i_b}^T qx_b`` (so
``F_{i_b}(qx_b, qy_b) = (-row[b], col[b])``). A plain :class:`envs.games.Play` (the
action of every deterministic Nash learner, e.g. ``halpern`` and ``extragradient``)
is answered with the full operator at its query and costs ``n`` evaluations, so the
deterministic learners run on this env unchanged.

The observation is a :class:`FiniteSumObs`: the public objective (``beta = 0``,
uniform ``mu``, as in :class:`envs.games.GameObs`), the number of components and the
mean-square Lipschitz constant ``L = sqrt((1/n) sum_i ||A_i||_2^2)`` (the constant of
the paper's "on average Lipschitz" assumption; variance-reduced methods take their
step sizes from it). The env owns the truth (:class:`FiniteSumInfo`): the duality gap
(exploitability) of the played iterate (snapshot), its Euclidean distance to the
equilibrium (snapshot) and the number of component evaluations of the round (summed by
the runner: the cumulative oracle cost, the x-axis of complexity plots).

Generators: :func:`random_finite_sum_components` (``A_i = M + noise E_i``, i.i.d.
uniform entries, rescaled so that ``||A||_2 = 1``), :func:`rps_finite_sum_components`
(weighted rock-paper-scissors plus component perturbations that sum to zero, so the
equilibrium is known in closed form), :func:`finite_sum_params` (validated params of
concrete components, the equilibrium by linear programming unless given).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, check_int, float_dtype, is_concrete
from envs.games import GameFeedback, Play, duality_gap, rps_matrix, solve_lp_nash

Array = jax.Array

FULL = -1  # query index: the full operator F = (1/n) sum_i F_i (n evaluations)
NO_QUERY = -2  # query index: an unused slot (no evaluation, zero feedback)


class ComponentQuery(NamedTuple):
    """A learner's action on a finite-sum game: the evaluated iterate and a batch of
    component queries."""

    x: Array  # [r] row iterate (evaluated: gap, distance)
    y: Array  # [c] column iterate
    qx: Array  # [B, r] query points, row block
    qy: Array  # [B, c] query points, column block
    index: Array  # [B] int32 component index in [0, n), FULL or NO_QUERY


class FiniteSumObs(NamedTuple):
    """The public objective (as ``GameObs``) and the finite-sum constants."""

    beta: Array  # [] 0 (unregularised game)
    mu_x: Array  # [r] uniform (unused by an unregularised game)
    mu_y: Array  # [c]
    num_components: Array  # [] int32 n
    lipschitz: Array  # [] sqrt(mean_i ||A_i||_2^2), mean-square Lipschitz constant


class FiniteSumParams(NamedTuple):
    """One finite-sum game and its equilibrium."""

    components: Array  # [n, r, c] A_i
    A: Array  # [r, c] the mean (1/n) sum_i A_i
    lipschitz: Array  # [] sqrt(mean_i ||A_i||_2^2)
    x_star: Array  # [r] a Nash equilibrium of A (unique for generic games)
    y_star: Array  # [c]


class FiniteSumInfo(NamedTuple):
    """Per-round truth. ``regret`` is the duality gap of the played iterate (summed by
    the runner: the cumulative gap)."""

    regret: Array  # [] duality gap of (x, y)
    duality_gap: Array  # [] the same, as a snapshot (last iterate)
    distance: Array  # [] ||(x, y) - (x*, y*)||_2 (snapshot)
    oracle_calls: Array  # [] component evaluations this round (summed)
    SNAPSHOT_FIELDS = ("duality_gap", "distance")


def mean_square_lipschitz(components: Array) -> Array:
    """``sqrt((1/n) sum_i ||A_i||_2^2)``: the mean-square Lipschitz constant of the
    components ``F_i`` (``||F_i(z) - F_i(z')|| <= ||A_i||_2 ||z - z'||``)."""
    norms = jnp.linalg.norm(components, ord=2, axis=(-2, -1))
    return jnp.sqrt(jnp.mean(norms**2))


def _check_num_components(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of components n must be an int >= 1, got {n!r}")
    return int(n)


def random_finite_sum_components(
    key: Array, num_components: int, num_rows: int, num_cols: int, *, noise=1.0
) -> Array:
    """``A_i = s (M + noise E_i)``, ``M`` and ``E_i`` with i.i.d. U[-1, 1] entries,
    ``s`` chosen so that the mean ``A = (1/n) sum_i A_i`` has ``||A||_2 = 1`` (the
    Lipschitz constant of ``F``). The larger ``noise``, the more the components differ
    from the mean (``L / ||A||_2`` grows). Returns ``[n, r, c]``. jit / vmap-safe.
    """
    n = _check_num_components(num_components)
    r, c = check_int(num_rows, "num_rows"), check_int(num_cols, "num_cols")
    if is_concrete(noise) and not np.all(np.asarray(noise) >= 0):
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    k_mean, k_noise = jax.random.split(key)
    dt = float_dtype()
    M = jax.random.uniform(k_mean, (r, c), dt, -1.0, 1.0)
    E = jax.random.uniform(k_noise, (n, r, c), dt, -1.0, 1.0)
    comps = M[None] + noise * E
    return comps / jnp.linalg.norm(jnp.mean(comps, axis=0), ord=2)


def rps_finite_sum_components(
    key: Array, num_components: int, *, weights=(0.5, 1.0, 0.8), noise=1.0
) -> tuple[Array, Array]:
    """Weighted rock-paper-scissors ``S`` (skew-symmetric, ``S = 2 P - 1`` with ``P``
    :func:`envs.games.rps_matrix`) plus perturbations that cancel:
    ``A_i = S + noise (E_i - (1/n) sum_j E_j)``, ``E_i`` i.i.d. U[-1, 1] entries, so
    ``(1/n) sum_i A_i = S`` exactly and the unique equilibrium is
    ``x* = y* = (c, b, a) / (a + b + c)`` for weights ``(a, b, c)``.

    Returns ``(components [n, 3, 3], x_star [3])``. With ``n = 1`` the component is
    ``S`` itself.
    """
    n = _check_num_components(num_components)
    if is_concrete(noise) and not np.all(np.asarray(noise) >= 0):
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    a, b, c = weights
    S = 2.0 * rps_matrix(a, b, c) - 1.0
    E = jax.random.uniform(key, (n, 3, 3), S.dtype, -1.0, 1.0)
    comps = S[None] + noise * (E - jnp.mean(E, axis=0, keepdims=True))
    x_star = jnp.asarray([c, b, a], S.dtype) / (a + b + c)
    return comps, x_star


def finite_sum_params(components, *, x_star=None, y_star=None) -> FiniteSumParams:
    """Validated params of concrete components ``[n, r, c]`` (``n >= 1``). The
    equilibrium of the mean game is solved by linear programming
    (:func:`envs.games.solve_lp_nash`) unless given (``y_star`` defaults to
    ``x_star`` for a square game). Computed in float64, cast to the default dtype.
    """
    C = np.asarray(components, dtype=np.float64)
    if C.ndim != 3 or C.shape[0] < 1:
        raise ValueError(
            "components must be [n, r, c] with n >= 1 component matrices, got shape "
            f"{C.shape}"
        )
    if not np.all(np.isfinite(C)):
        raise ValueError("components must be finite")
    A = C.mean(axis=0)
    if x_star is None:
        xs, ys, _ = solve_lp_nash(A)
    else:
        xs = np.asarray(x_star, np.float64)
        ys = xs if y_star is None else np.asarray(y_star, np.float64)
        if xs.shape != (A.shape[0],) or ys.shape != (A.shape[1],):
            raise ValueError("x_star / y_star must match the rows / columns of A")
    lip = np.sqrt(np.mean(np.linalg.norm(C, ord=2, axis=(1, 2)) ** 2))
    dt = float_dtype()
    cast = lambda v: jnp.asarray(v, dt)  # noqa: E731
    return FiniteSumParams(cast(C), cast(A), cast(lip), cast(xs), cast(ys))


def stack_finite_sum(params_list) -> FiniteSumParams:
    """A batch of instances (leading axis) for ``run(..., instances=...)``."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *params_list)


def component_feedback(params: FiniteSumParams, query: ComponentQuery):
    """``(GameFeedback(row [B, r], col [B, c]), evaluations [])`` of a query batch."""
    n = params.components.shape[0]
    idx = query.index
    mats = params.components[jnp.clip(idx, 0, n - 1)]  # [B, r, c]
    mats = jnp.where((idx == FULL)[:, None, None], params.A[None], mats)
    mats = jnp.where((idx == NO_QUERY)[:, None, None], jnp.zeros_like(mats), mats)
    row = jnp.einsum("brc,bc->br", mats, query.qy)
    col = jnp.einsum("brc,br->bc", mats, query.qx)
    calls = jnp.sum(jnp.where(idx == FULL, n, jnp.where(idx >= 0, 1, 0)))
    return GameFeedback(row, col), calls


def finite_sum_game_env(
    params: FiniteSumParams | None = None, *, name: str = "finite_sum_game"
) -> Env:
    """The finite-sum matrix game on ``params`` (or on a batch of instances passed to
    the runner). Accepts a :class:`ComponentQuery` (component evaluations) or a
    :class:`envs.games.Play` (one full evaluation = ``n`` component evaluations).
    """

    def observe(params):
        r, c = params.A.shape
        dt = params.A.dtype
        return FiniteSumObs(
            jnp.zeros((), dt),
            jnp.full((r,), 1.0 / r, dt),
            jnp.full((c,), 1.0 / c, dt),
            jnp.asarray(params.components.shape[0], jnp.int32),
            params.lipschitz,
        )

    def reset(key, params: FiniteSumParams):
        return jnp.zeros((), jnp.int32), observe(params)

    def step(key, state, action, params: FiniteSumParams):
        A = params.A
        if isinstance(action, ComponentQuery):
            fb, calls = component_feedback(params, action)
        elif isinstance(action, Play):
            fb = GameFeedback(A @ action.qy, A.T @ action.qx)
            calls = params.components.shape[0]
        else:
            raise ValueError(
                f"finite-sum games take a ComponentQuery or a Play, got {type(action)}"
            )
        x, y = action.x, action.y
        r, c = A.shape
        mu_x, mu_y = jnp.full((r,), 1.0 / r, A.dtype), jnp.full((c,), 1.0 / c, A.dtype)
        gap = duality_gap(A, x, y, mu_x, mu_y, 0.0)
        dist = jnp.sqrt(
            jnp.sum((x - params.x_star) ** 2) + jnp.sum((y - params.y_star) ** 2)
        )
        info = FiniteSumInfo(gap, gap, dist, jnp.asarray(calls, A.dtype))
        return state + 1, observe(params), fb, info

    return Env(reset, step, params, None, name)


def random_finite_sum_game(
    key: Array,
    num_components: int,
    num_rows: int,
    num_cols: int,
    *,
    noise=1.0,
    name: str = "random_finite_sum_game",
) -> Env:
    """A finite-sum game from :func:`random_finite_sum_components` (equilibrium by
    LP)."""
    comps = random_finite_sum_components(
        key, num_components, num_rows, num_cols, noise=noise
    )
    return finite_sum_game_env(finite_sum_params(comps), name=name)


def rps_finite_sum_game(
    key: Array,
    num_components: int,
    *,
    weights=(0.5, 1.0, 0.8),
    noise=1.0,
    name: str = "rps_finite_sum_game",
) -> Env:
    """Weighted RPS as a finite sum (:func:`rps_finite_sum_components`), with its
    closed-form equilibrium."""
    comps, x_star = rps_finite_sum_components(
        key, num_components, weights=weights, noise=noise
    )
    return finite_sum_game_env(finite_sum_params(comps, x_star=x_star), name=name)
