"""Solver-parameter selection: SOR relaxation parameters over a sequence of systems.

Round ``t`` brings a linear system :math:`A_t x = b_t` with the 2-D Poisson matrix
(5-point stencil on an ``n x n`` interior grid, Dirichlet boundary, unscaled as
MATLAB's ``delsq``) plus a diagonal shift,

.. math::

    A_t = A_0 + c_t I, \\qquad (A_0 x)_{ij} = 4 x_{ij} - x_{i-1,j} - x_{i+1,j}
    - x_{i,j-1} - x_{i,j+1},

a diagonal shift :math:`c_t` and a right-hand side :math:`b_t \\sim N(0, I)` drawn
from the round key. Two shift sequences (``shifts=``):

* ``'drift'``: :math:`c_t = c_{lo} + (c_{hi} - c_{lo}) (1 - \\cos(2 \\pi t / P +
  \\phi)) / 2` (the phase :math:`\\phi` is drawn per instance);
* ``'beta'``: i.i.d. :math:`c_t = c_{lo} + (c_{hi} - c_{lo}) B_t`, :math:`B_t \\sim
  \\mathrm{Beta}(a, b)`, the sequences of the paper's experiments (the authors' code
  draws :math:`c = -0.15 + 0.6\\,\\mathrm{Beta}(0.5, 1.5)`, "high variance", and
  :math:`-0.15 + 0.6\\,\\mathrm{Beta}(2, 6)`, "low variance"). :math:`B_t` is drawn
  from ``fold_in(key(s), t)`` with a seed ``s`` drawn per instance, so the shift is a
  function of ``(params, t)`` like the drift's (the online env, its cost table and
  every learner see the same sequence).

The arms are relaxation
parameters :math:`\\omega_1 < \\dots < \\omega_K` on a grid in (0, 2); the loss of arm
``a`` is the number of SOR iterations, started at ``x = 0``, until the relative
residual :math:`\\|b_t - A_t x_k\\| / \\|b_t\\|` falls below ``tol``, capped at
``max_iters`` (the iteration count the learner receives as feedback). The observation
(the context) is the shift :math:`c_t` of the coming system.

**SOR in red-black order, matrix-free and fixed-shape.** One SOR iteration with the
red-black ordering (points with ``i + j`` even first) is two masked Jacobi-like
half-sweeps, :math:`x_{ij} \\leftarrow (1 - \\omega) x_{ij} + \\omega (b_{ij} +
\\text{neighbours}) / (4 + c)` on red points, then on black points with the new red
values: exactly the SOR iteration :math:`x \\leftarrow x + (D / \\omega + L)^{-1} (b - A
x)` for the red-black permutation of ``A`` (``L`` its strict lower triangle; the
NumPy reference in the tests builds that matrix). The red-black ordering is a
consistent ordering of the 5-point stencil, so Young's theory applies unchanged: with
Jacobi spectral radius :math:`\\rho_J = 4 \\cos(\\pi h) / (4 + c)`, ``h = 1 / (n + 1)``,
the optimal parameter is :math:`\\omega^* = 2 / (1 + \\sqrt{1 - \\rho_J^2})`
(:func:`optimal_omega`; ``2 / (1 + sin(pi h))`` at ``c = 0``). The authors' code uses
the lexicographic ordering, which has the same asymptotic rate; iteration counts
differ by a few. The iteration count runs a fixed ``max_iters`` iterations with a
convergence mask (no data-dependent while loop), so every round costs ``K x
max_iters`` stencil sweeps on ``n^2`` points: keep ``n`` and ``max_iters`` small.

**SSOR-preconditioned CG** (``solver='ssor_pcg'``, the paper's second setting): the
loss is instead the iteration count of conjugate gradient preconditioned by
:math:`M(\\omega) = \\frac{\\omega}{2-\\omega} (D/\\omega + L) D^{-1} (D/\\omega +
L^\\top)` (same red-black ordering, matrix-free, fixed-shape; tested against a dense
NumPy PCG).

**Oracle quantities** (``SORInfo``, summed by the runner). The env evaluates every
arm on every system (the costs never depend on the learner: the sequence is
oblivious), keeps the per-arm cumulative iteration counts :math:`L_t(\\omega)` (int32,
exact), and reports

* ``regret``: regret against the best fixed :math:`\\omega` in hindsight, telescoped as
  in ``envs.adversarial_bandits``: :math:`\\ell_t(\\omega_t) - (\\min_\\omega
  L_t(\\omega) - \\min_\\omega L_{t-1}(\\omega))`, whose running sum is the regret
  for the horizon it is read at;
* ``instance_regret``: :math:`\\ell_t(\\omega_t) - \\min_\\omega \\ell_t(\\omega)`,
  against the instance-optimal policy (the best grid :math:`\\omega` for each system);
* ``iterations``, ``best_fixed_iterations``, ``optimal_iterations``: the learner's,
  the best fixed :math:`\\omega`'s (telescoped) and the instance-optimal policy's SOR
  iterations, whose running sums are the total iterations of Figure 7.

Two learners on the same seed see the same systems (common random numbers).

References:
  Khodak, Chow, Balcan and Talwalkar, "Learning to Relax: Setting Solver Parameters
  Across a Sequence of Linear System Instances", ICLR 2024 (arXiv 2310.02246): the
  setting (a sequence of diagonally shifted systems, SOR iteration counts as bandit
  feedback, the shift as context). Young, "Iterative methods for solving partial
  difference equations of elliptic type", 1954 (optimal omega for consistently
  ordered matrices).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import Env, check_int, check_positive, float_dtype, is_concrete

Array = jax.Array


class SORInfo(NamedTuple):
    """Per-round oracle quantities of the SOR parameter-selection problem."""

    regret: Array  # [] telescoped regret against the best fixed omega in hindsight
    instance_regret: Array  # [] l_t(omega_t) - min_omega l_t(omega)
    iterations: Array  # [] SOR iterations of the pulled omega
    best_fixed_iterations: Array  # [] min_w L_t(w) - min_w L_{t-1}(w)
    optimal_iterations: Array  # [] min_omega l_t(omega) (instance-optimal policy)


class SORState(NamedTuple):
    """What changes during a run."""

    round_index: Array  # [] int32 rounds played so far (next system's 0-based index)
    cumulative_iterations: Array  # [K] int32 L_t(omega) of every arm


class SORParams(NamedTuple):
    """An instance: the relaxation grid and the shift sequence's law."""

    omegas: Array  # [K] relaxation parameters, the arms
    shift_low: Array  # [] c_lo
    shift_high: Array  # [] c_hi
    period: Array  # [] P, rounds per period of the drift
    phase: Array  # [] phi, drawn per instance by sample_params
    tol: Array  # [] relative residual tolerance
    # The i.i.d. scaled-Beta shifts: all three None for the drift (a static choice,
    # read from the pytree's structure at trace time: the drift never compiles the
    # Beta sampler).
    beta_a: Array | None = None  # [] a of Beta(a, b)
    beta_b: Array | None = None  # [] b of Beta(a, b)
    shift_seed: Array | None = None  # [] uint32 seed, drawn by sample_params


# --------------------------------------------------------------------------------------
# The solver.
# --------------------------------------------------------------------------------------


def _neighbour_sum(x: Array) -> Array:
    """Sum of the four neighbours of each grid point, zero outside (Dirichlet)."""
    padded = jnp.pad(x, 1)
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


def poisson_matvec(x: Array, shift) -> Array:
    """``(A_0 + c I) x`` for a grid vector ``x [n, n]``, matrix-free."""
    return (4.0 + shift) * x - _neighbour_sum(x)


def red_mask(n: int) -> Array:
    """``[n, n]`` bool, True on the red points (``i + j`` even), updated first."""
    i, j = np.indices((n, n))
    return jnp.asarray((i + j) % 2 == 0)


def sor_sweep(x: Array, b: Array, shift, omega) -> Array:
    """One red-black SOR iteration on ``x [n, n]`` for ``(A_0 + c I) x = b``."""
    red = red_mask(x.shape[0])
    diag = 4.0 + shift
    for colour in (red, ~red):
        relaxed = (1.0 - omega) * x + omega * (b + _neighbour_sum(x)) / diag
        x = jnp.where(colour, relaxed, x)
    return x


def sor_iterations(b: Array, shift, omega, *, tol, max_iters: int) -> Array:
    """SOR iterations from ``x = 0`` until ``||b - A x|| <= tol ||b||``, capped.

    Runs exactly ``max_iters`` (static) iterations with a convergence mask; returns
    the first ``k`` with a relative residual at most ``tol`` (``max_iters`` when none),
    as int32. ``b [n, n]``; ``shift`` and ``omega`` are scalars (traceable).
    """
    dtype = b.dtype
    threshold = jnp.asarray(tol, dtype) ** 2 * jnp.sum(b * b)

    def body(carry, _):
        x, done, count = carry
        x = sor_sweep(x, b, shift, omega)
        residual = b - poisson_matvec(x, shift)
        count = count + jnp.where(done, 0, 1)
        done = done | (jnp.sum(residual * residual) <= threshold)
        return (x, done, count), None

    init = (jnp.zeros_like(b), jnp.zeros((), bool), jnp.zeros((), jnp.int32))
    (_, _, count), _ = jax.lax.scan(body, init, None, length=max_iters)
    return count


def ssor_apply(r: Array, shift, omega) -> Array:
    """``M^{-1} r`` for the SSOR preconditioner of ``A = A_0 + c I`` (red-black order).

    .. math::

        M(\\omega) = \\frac{\\omega}{2 - \\omega} (D / \\omega + L) D^{-1}
        (D / \\omega + L^\\top),

    ``D = (4 + c) I``, ``L`` the strict lower triangle of the red-black permutation
    (black rows, red columns): a forward SOR sweep from zero (red, then black with the
    new red values), a scaling by ``D``, a backward sweep (black, then red), and the
    factor ``(2 - omega) / omega``. Symmetric positive definite for ``omega`` in (0,
    2). ``r [n, n]``; ``shift``, ``omega`` traceable scalars.
    """
    red = red_mask(r.shape[0])
    diag = 4.0 + shift
    y = jnp.where(red, omega * r / diag, 0.0)
    y = jnp.where(red, y, omega * (r + _neighbour_sum(y)) / diag)
    v = diag * y
    z = jnp.where(red, 0.0, omega * v / diag)
    z = jnp.where(red, omega * (v + _neighbour_sum(z)) / diag, z)
    return (2.0 - omega) / omega * z


def ssor_apply_lexicographic(r: Array, shift, omega) -> Array:
    """``M^{-1} r`` for SSOR in the natural (row-major, lexicographic) order.

    The same formula as :func:`ssor_apply` with ``L`` the west and north couplings:
    the forward sweep ``y_ij = omega (r_ij + y_{i-1,j} + y_{i,j-1}) / (4 + c)`` runs
    over the ``2n - 1`` anti-diagonals ``i + j = k`` in increasing ``k`` (points on one
    anti-diagonal are independent: a wavefront of masked full-grid updates), the
    backward sweep ``z_ij = omega (v_ij + z_{i+1,j} + z_{i,j+1}) / (4 + c)`` in
    decreasing ``k``. This is the ordering of the authors' code, where the best omega
    moves with the shift; in red-black order SSOR-PCG's best omega stays near 1.
    """
    n = r.shape[0]
    i, j = np.indices((n, n))
    diagonals = jnp.asarray(i + j)
    diag = 4.0 + shift

    def forward(k, y):
        padded = jnp.pad(y, 1)
        upstream = padded[:-2, 1:-1] + padded[1:-1, :-2]  # north + west
        return jnp.where(diagonals == k, omega * (r + upstream) / diag, y)

    y = jax.lax.fori_loop(0, 2 * n - 1, forward, jnp.zeros_like(r))
    v = diag * y

    def backward(step, z):
        padded = jnp.pad(z, 1)
        downstream = padded[2:, 1:-1] + padded[1:-1, 2:]  # south + east
        k = 2 * n - 2 - step
        return jnp.where(diagonals == k, omega * (v + downstream) / diag, z)

    z = jax.lax.fori_loop(0, 2 * n - 1, backward, jnp.zeros_like(r))
    return (2.0 - omega) / omega * z


def ssor_pcg_iterations(
    b: Array, shift, omega, *, tol, max_iters: int, precondition=None
) -> Array:
    """SSOR-preconditioned CG iterations from ``x = 0`` until ``||r_k|| <= tol
    ||b||`` (the recursively updated residual), capped at ``max_iters``.

    Textbook PCG (Saad, "Iterative Methods for Sparse Linear Systems", Algorithm
    9.1) with :func:`ssor_apply`; fixed ``max_iters`` iterations with a convergence
    mask (the state is frozen once converged), int32 count as in
    :func:`sor_iterations`. ``precondition``: :func:`ssor_apply` (red-black, the
    default) or :func:`ssor_apply_lexicographic`.
    """
    ssor_apply_ = ssor_apply if precondition is None else precondition
    dtype = b.dtype
    threshold = jnp.asarray(tol, dtype) ** 2 * jnp.sum(b * b)
    z0 = ssor_apply_(b, shift, omega)
    init = (
        jnp.zeros_like(b),  # x
        b,  # r
        z0,  # p
        jnp.sum(b * z0),  # r . z
        jnp.zeros((), bool),
        jnp.zeros((), jnp.int32),
    )

    def body(carry, _):
        x, r, p, rz, done, count = carry
        ap = poisson_matvec(p, shift)
        alpha = rz / jnp.sum(p * ap)
        x_new = x + alpha * p
        r_new = r - alpha * ap
        z = ssor_apply_(r_new, shift, omega)
        rz_new = jnp.sum(r_new * z)
        p_new = z + (rz_new / rz) * p
        new = (x_new, r_new, p_new, rz_new)
        x, r, p, rz = jax.tree.map(
            lambda old, upd: jnp.where(done, old, upd), (x, r, p, rz), new
        )
        count = count + jnp.where(done, 0, 1)
        done = done | (jnp.sum(r * r) <= threshold)
        return (x, r, p, rz, done, count), None

    (_, _, _, _, _, count), _ = jax.lax.scan(body, init, None, length=max_iters)
    return count


SOLVERS = {
    "sor": sor_iterations,
    "ssor_pcg": ssor_pcg_iterations,
    "ssor_pcg_lex": functools.partial(
        ssor_pcg_iterations, precondition=ssor_apply_lexicographic
    ),
}


def optimal_omega(grid_size: int, shift=0.0):
    """Young's optimal SOR parameter for ``A_0 + c I`` on an ``n x n`` grid.

    ``rho_J = 4 cos(pi h) / (4 + c)``, ``h = 1 / (n + 1)``, ``omega* = 2 / (1 +
    sqrt(1 - rho_J^2))``; at ``c = 0`` this is ``2 / (1 + sin(pi h))``.
    """
    h = 1.0 / (grid_size + 1)
    rho = 4.0 * np.cos(np.pi * h) / (4.0 + np.asarray(shift, float))
    return 2.0 / (1.0 + np.sqrt(1.0 - rho**2))


def shift_at(params: SORParams, t: Array) -> Array:
    """The shift ``c_t`` of the 0-based round ``t`` (any shape): the drift's, or
    the i.i.d. scaled-Beta draw of ``fold_in(key(shift_seed), t)`` when the params
    carry a ``shift_seed``."""
    dtype = jnp.result_type(params.shift_low, float)
    if params.shift_seed is None:
        angle = 2.0 * math.pi * jnp.asarray(t, dtype) / params.period + params.phase
        unit = 0.5 * (1.0 - jnp.cos(angle))
    else:

        def beta_draw(round_index):
            key = jax.random.fold_in(jax.random.key(params.shift_seed), round_index)
            return jax.random.beta(key, params.beta_a, params.beta_b, (), dtype)

        unit = jnp.vectorize(beta_draw)(jnp.asarray(t))
    return params.shift_low + (params.shift_high - params.shift_low) * unit


def all_iterations(
    key,
    params: SORParams,
    t,
    *,
    grid_size: int,
    max_iters: int,
    shift=None,
    solver: str = "sor",
):
    """``(costs [K] int32, shift [])``: every arm's SOR iterations on system ``t``.

    ``shift``: ``shift_at(params, t)`` when already computed (a cost table draws all
    shifts in one vectorised call: the Beta sampler compiles once, outside the map).
    ``solver``: a key of ``SOLVERS`` (``'sor'``, ``'ssor_pcg'``, ``'ssor_pcg_lex'``;
    static).
    """
    iterations = SOLVERS[solver]
    dtype = jnp.result_type(params.omegas)
    b = jax.random.normal(key, (grid_size, grid_size), dtype)
    shift = (shift_at(params, t) if shift is None else shift).astype(dtype)
    costs = jax.vmap(
        lambda omega: iterations(b, shift, omega, tol=params.tol, max_iters=max_iters)
    )(params.omegas)
    return costs, shift


# --------------------------------------------------------------------------------------
# The environments.
# --------------------------------------------------------------------------------------


def _sor_reset(num_omegas: int, first_shift, dtype):
    state = SORState(jnp.zeros((), jnp.int32), jnp.zeros((num_omegas,), jnp.int32))
    return state, jnp.asarray(first_shift, dtype)


def _sor_step(state: SORState, costs: Array, action, obs, dtype):
    """The round's transition and oracle quantities from every arm's cost ``[K]``."""
    cumulative = state.cumulative_iterations + costs
    best_increment = jnp.min(cumulative) - jnp.min(state.cumulative_iterations)
    cost = costs[action]
    info = SORInfo(
        regret=(cost - best_increment).astype(dtype),
        instance_regret=(cost - jnp.min(costs)).astype(dtype),
        iterations=cost.astype(dtype),
        best_fixed_iterations=best_increment.astype(dtype),
        optimal_iterations=jnp.min(costs).astype(dtype),
    )
    next_state = SORState(state.round_index + 1, cumulative)
    return next_state, obs, cost.astype(dtype), info


# --------------------------------------------------------------------------------------
# The environment.
# --------------------------------------------------------------------------------------


def sor_relaxation_env(
    omegas=None,
    *,
    grid_size: int = 8,
    max_iters: int = 128,
    tol=1e-6,
    shift_low=0.0,
    shift_high=2.0,
    period=250.0,
    random_phase: bool = True,
    shifts: str = "drift",
    beta_a=0.5,
    beta_b=1.5,
    solver: str = "sor",
) -> Env:
    """SOR parameter selection over a sequence of shifted Poisson systems.

    Args:
      omegas: ``[K]`` relaxation grid in (0, 2), increasing; default
        ``linspace(1.0, 1.9, 10)``.
      grid_size: ``n``, the interior grid is ``n x n`` (static).
      max_iters: the iteration cap ``m`` (static), also the largest loss.
      tol: relative residual tolerance.
      shift_low, shift_high: the range ``[c_lo, c_hi]`` of the shift; ``c_lo >
        -4 (1 - cos(pi h))`` keeps ``A_t`` positive definite.
      period: rounds per period of the drift.
      random_phase: draw the drift's phase (and the i.i.d. shifts' seed) per
        instance (``sample_params``); the default instance has phase 0 and seed 0.
      shifts: ``'drift'`` (the cosine drift over ``[c_lo, c_hi]``) or ``'beta'``
        (i.i.d. ``c_t = c_lo + (c_hi - c_lo) Beta(beta_a, beta_b)``; ``period`` is
        then unused).
      beta_a, beta_b: the Beta parameters (> 0; traceable), used when ``shifts ==
        'beta'``; the defaults 0.5, 1.5 are the paper's high-variance sequence.
      solver: ``'sor'`` (the loss is SOR's iteration count), ``'ssor_pcg'``
        (conjugate gradient preconditioned by SSOR(omega) in red-black order,
        :func:`ssor_pcg_iterations`; the paper's second setting) or
        ``'ssor_pcg_lex'`` (the same in lexicographic order,
        :func:`ssor_apply_lexicographic`). Use the same ``solver`` in
        :func:`sor_cost_table`.

    Returns:
      An :class:`~envs.core.Env` whose obs is the coming system's shift, feedback the
      pulled arm's iteration count (float), info :class:`SORInfo`.
    """
    grid_size = check_int(grid_size, "grid_size", minimum=2)
    max_iters = check_int(max_iters, "max_iters")
    if omegas is None:
        omegas = np.linspace(1.0, 1.9, 10)
    omegas = jnp.asarray(omegas, float_dtype())
    if omegas.ndim != 1 or omegas.shape[0] < 2:
        raise ValueError(f"omegas must be a 1-D grid of >= 2 values, got {omegas}")
    if is_concrete(omegas) and not bool(np.all((omegas > 0) & (omegas < 2))):
        raise ValueError(f"omegas must lie in (0, 2) for SOR to converge, got {omegas}")
    check_positive(tol, "tol")
    check_positive(period, "period")
    if shifts not in ("drift", "beta"):
        raise ValueError(f"shifts must be 'drift' or 'beta', got {shifts!r}")
    check_positive(beta_a, "beta_a")
    check_positive(beta_b, "beta_b")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    lambda_min = 4.0 * (1.0 - math.cos(math.pi / (grid_size + 1)))
    if is_concrete(shift_low) and float(shift_low) <= -lambda_min:
        raise ValueError(
            f"shift_low must exceed -{lambda_min:.4f} (A_t positive definite), "
            f"got {shift_low}"
        )
    if is_concrete(shift_high) and float(shift_high) < float(shift_low):
        raise ValueError("shift_high must be >= shift_low")
    dtype = float_dtype()
    params = SORParams(
        omegas=omegas,
        shift_low=jnp.asarray(shift_low, dtype),
        shift_high=jnp.asarray(shift_high, dtype),
        period=jnp.asarray(period, dtype),
        phase=jnp.zeros((), dtype),
        tol=jnp.asarray(tol, dtype),
    )
    if shifts == "beta":
        params = params._replace(
            beta_a=jnp.asarray(beta_a, dtype),
            beta_b=jnp.asarray(beta_b, dtype),
            shift_seed=jnp.zeros((), jnp.uint32),
        )

    def reset(key, params):
        del key
        dtype = params.omegas.dtype
        return _sor_reset(params.omegas.shape[0], shift_at(params, 0), dtype)

    def step(key, state, action, params):
        costs, _ = all_iterations(
            key,
            params,
            state.round_index,
            grid_size=grid_size,
            max_iters=max_iters,
            solver=solver,
        )
        obs = shift_at(params, state.round_index + 1).astype(params.omegas.dtype)
        return _sor_step(state, costs, action, obs, params.omegas.dtype)

    def sample_params(key):
        if not random_phase:
            return params
        # The phase from ``key`` itself (as before the i.i.d. option existed), the
        # i.i.d. shifts' seed from a fold of it.
        phase = jax.random.uniform(key, (), dtype, 0.0, 2.0 * math.pi)
        if params.shift_seed is None:
            return params._replace(phase=phase)
        seed = jax.random.bits(jax.random.fold_in(key, 1), (), jnp.uint32)
        return params._replace(phase=phase, shift_seed=seed)

    return Env(reset, step, params, sample_params, "sor_relaxation")


# --------------------------------------------------------------------------------------
# Tabulated sequences: compute every arm's cost once, share it among learners.
# --------------------------------------------------------------------------------------


class SORTable(NamedTuple):
    """A sequence of systems evaluated once: every arm's cost on every system."""

    costs: Array  # [T, K] int32 SOR iterations of every omega on every system
    shifts: Array  # [T] the shifts c_t (the contexts)


def sor_cost_table(
    key,
    params: SORParams,
    num_rounds: int,
    *,
    grid_size: int,
    max_iters: int,
    batch_size: int = 64,
    solver: str = "sor",
) -> SORTable:
    """Evaluates every omega on the systems ``t = 0 .. T-1`` of ``params``.

    System ``t``'s right-hand side is drawn from ``fold_in(key, t)``. ``T x K`` SOR
    solves, ``batch_size`` systems at a time (``lax.map``: small batches stay in
    cache; one huge vmapped batch is memory-bound and ~3x slower on CPU); for a batch
    of instances, ``vmap`` it over ``(key, params)``. ``solver``: ``'sor'`` or
    ``'ssor_pcg'`` (static), as in :func:`sor_relaxation_env`.
    """
    num_rounds = check_int(num_rounds, "num_rounds")
    batch_size = check_int(batch_size, "batch_size")
    rounds = jnp.arange(num_rounds)
    costs, shifts = jax.lax.map(
        lambda ts: all_iterations(
            jax.random.fold_in(key, ts[0]),
            params,
            ts[0],
            grid_size=grid_size,
            max_iters=max_iters,
            shift=ts[1],
            solver=solver,
        ),
        (rounds, shift_at(params, rounds)),
        batch_size=min(batch_size, num_rounds),
    )
    return SORTable(costs, shifts)


def tabulated_sor_env(table: SORTable | None = None) -> Env:
    """The SOR parameter-selection problem on a precomputed :class:`SORTable`.

    Identical in law to :func:`sor_relaxation_env` (obs = the coming shift, feedback
    = the pulled arm's iterations, info :class:`SORInfo`), but a round is a lookup:
    the ``T x K`` solves are done once per instance by :func:`sor_cost_table` and
    shared by every learner and seed run on it (pass a batch of tables as the
    runner's ``instances``). Rounds beyond the table's length repeat it cyclically.
    ``sample_params`` is ``None``: the tables are the instances.
    """

    def reset(key, table):
        del key
        return _sor_reset(table.costs.shape[1], table.shifts[0], table.shifts.dtype)

    def step(key, state, action, table):
        del key
        num_rounds = table.costs.shape[0]
        t = state.round_index % num_rounds
        obs = table.shifts[(t + 1) % num_rounds]
        return _sor_step(state, table.costs[t], action, obs, table.shifts.dtype)

    return Env(reset, step, table, None, "sor_relaxation_table")
