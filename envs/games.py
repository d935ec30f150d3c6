"""Preference games and zero-sum matrix games, with exact equilibria and duality gaps.

A two-player zero-sum matrix game ``A`` ([n, m]): the row player picks ``x`` in the
simplex and maximises, the column player picks ``y`` and minimises

.. math::

    J_\\beta(x, y) = x^\\top A y - \\beta\\,\\mathrm{KL}(x \\| \\mu_x)
                   + \\beta\\,\\mathrm{KL}(y \\| \\mu_y),

the KL-regularised game of Nash learning from human feedback when ``beta > 0`` (Munos
et al. 2023, Sec. 3; Zhou et al. 2025, EGPO, Eq. (2)), the plain matrix game when
``beta = 0``. A *preference game* is the constant-sum case ``A = P`` with
``P[i, j] = Pr(i preferred to j)``, ``P + P^T = 1``, a symmetric game whose
(regularised) equilibrium is symmetric, ``x* = y*``.

One round of the protocol is one iteration. The learner's action is a :class:`Play`: the
iterate ``(x, y)`` it is evaluated on, and the query ``(qx, qy)`` it asks feedback for
(most learners query their iterate; Nash-MD queries the geometric mixture with ``mu``;
extragradient methods query the iterate in one round and the extrapolated point in the
next, so one of their iterations takes two rounds = two preference-oracle calls). The
feedback is a :class:`GameFeedback` ``(row = A qy, col = A^T qx)``: exact, or, with
``feedback="sampled"``, an unbiased estimate from a batch of ``batch_size`` sampled
opponents: for a preference game every response is compared once (a Bernoulli draw)
against each sampled opponent response, ``row[i] = mean_b Ber(P[i, j_b])`` with
``j_b ~ qy``; for a general matrix game ``row = mean_b A[:, j_b]``. The observation is
the public description of the regularised objective, :class:`GameObs`
``(beta, mu_x, mu_y)``; ``A`` stays hidden.

The env owns the truth (:class:`GameInfo`): per round, each player's regret increment
against the best fixed strategy in hindsight for the regularised utilities (telescoped
from cumulative payoff vectors kept in the env state, Kahan-summed), and the
last-iterate snapshots ``duality_gap`` (of the regularised game), ``kl_to_nash`` and the
gap of the running-average iterate ``avg_gap``.

Contextual games (:func:`contextual_game_env`): a prompt ``c ~ rho`` per round, a
preference matrix ``P_c`` per prompt; the learner plays a policy table ([C, n]) and
is scored by the exact ``rho``-weighted and worst-prompt duality gaps and by each
player's regret against the best fixed policy table in hindsight.

Oracles: :func:`regularized_nash` (Newton's method on the logit fixed-point equations
along a homotopy in beta, float64 residual ~1e-15; cross-checked in the tests by a
contraction iteration), :func:`solve_lp_nash` (unregularised Nash by linear programming,
SciPy HiGHS), :func:`duality_gap`, :func:`best_response`, :func:`kl`.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import (
    Env,
    KahanSum,
    check_int,
    float_dtype,
    is_concrete,
    kahan_add,
    sample_categorical,
)

Array = jax.Array


# --------------------------------------------------------------------------------------
# Types.
# --------------------------------------------------------------------------------------


class Play(NamedTuple):
    """A learner's action: the evaluated iterate and the queried policies."""

    x: Array  # [n] row iterate (evaluated: gap, KL, regret)
    y: Array  # [m] column iterate
    qx: Array  # [n] query: the column player receives A^T qx
    qy: Array  # [m] query: the row player receives A qy


def self_query(x: Array, y: Array | None = None) -> Play:
    """The iterate queries itself; ``y`` defaults to ``x`` (symmetric self-play)."""
    y = x if y is None else y
    return Play(x, y, x, y)


class GameFeedback(NamedTuple):
    """Payoff vectors (exact or estimated from sampled comparisons)."""

    row: Array  # [n] A qy: the row player's payoff per action (maximised)
    col: Array  # [m] A^T qx: the column player's loss per action (minimised)


class GameObs(NamedTuple):
    """The public objective: regularisation strength and reference policies."""

    beta: Array  # [] KL strength (0: unregularised game)
    mu_x: Array  # [n] row reference policy
    mu_y: Array  # [m] column reference policy


class GameParams(NamedTuple):
    """One game instance and its equilibrium."""

    A: Array  # [n, m] payoff to the row player
    mu_x: Array  # [n]
    mu_y: Array  # [m]
    beta: Array  # []
    x_star: Array  # [n] (regularised) Nash equilibrium, row
    y_star: Array  # [m]


class GameState(NamedTuple):
    """What changes during a run: cumulative payoff vectors and iterate sums."""

    row_payoffs: KahanSum  # [n] sum_s A y_s
    col_losses: KahanSum  # [m] sum_s A^T x_s
    x_sum: KahanSum  # [n] sum_s x_s
    y_sum: KahanSum  # [m] sum_s y_s
    t: Array  # [] rounds played


class GameInfo(NamedTuple):
    """Per-round truth. ``regret`` = row_regret + col_regret (summed by the runner)."""

    regret: Array  # [] both players' regret increments (regularised utilities)
    row_regret: Array  # [] row player's regret increment
    col_regret: Array  # [] column player's regret increment
    duality_gap: Array  # [] duality gap of the current iterate (snapshot)
    kl_to_nash: Array  # [] (KL(x*||x) + KL(y*||y)) / 2 (snapshot)
    avg_gap: Array  # [] duality gap of the running-average iterate (snapshot)
    SNAPSHOT_FIELDS = ("duality_gap", "kl_to_nash", "avg_gap")


# --------------------------------------------------------------------------------------
# Validation.
# --------------------------------------------------------------------------------------


def check_preference_matrix(P, *, atol: float = 1e-6) -> np.ndarray:
    """Validates ``P``: square, entries in [0, 1], ``P + P^T = 1``, diagonal 1/2."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != P.shape[1] or P.shape[0] < 2:
        raise ValueError(
            f"a preference matrix must be square n x n, n >= 2; got {P.shape}"
        )
    if not np.all(np.isfinite(P)) or np.any(P < -atol) or np.any(P > 1 + atol):
        raise ValueError("preference probabilities must lie in [0, 1]")
    if not np.allclose(np.diag(P), 0.5, atol=atol):
        raise ValueError("a preference matrix needs diagonal 1/2")
    if not np.allclose(P + P.T, 1.0, atol=atol):
        err = np.max(np.abs(P + P.T - 1.0))
        raise ValueError(f"a preference matrix needs P + P^T = 1 (max error {err:.3g})")
    return P


def check_policy(p, name: str = "policy", *, atol: float = 1e-6):
    """Validates (when concrete) that ``p`` is on the probability simplex."""
    if is_concrete(p):
        arr = np.asarray(p, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(
                f"{name} must be a 1-D distribution, got shape {arr.shape}"
            )
        if (
            np.any(arr < -atol)
            or abs(arr.sum() - 1.0) > atol
            or not np.all(np.isfinite(arr))
        ):
            raise ValueError(
                f"{name} must lie on the simplex (nonnegative, sums to 1); got {arr}"
            )
    return p


def _check_beta(beta):
    """``beta=None`` is the unregularised game; a given beta must be > 0."""
    if beta is None:
        return 0.0
    arr = np.asarray(beta, dtype=np.float64)
    if arr.ndim != 0 or not np.isfinite(arr) or arr <= 0:
        raise ValueError(
            f"beta must be a finite number > 0 (use beta=None for the unregularised "
            f"game), got {beta!r}"
        )
    return float(arr)


# --------------------------------------------------------------------------------------
# Generators (JAX; a key in, a matrix out).
# --------------------------------------------------------------------------------------


def random_preference_matrix(key: Array, num_responses: int) -> Array:
    """EGPO's random game: lower triangle i.i.d. U[0, 1], ``P^T = 1 - P``, diag 1/2.

    References: Zhou, Fazel, Du (2025), EGPO, Sec. 6 (numerical simulations).
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    u = jax.random.uniform(key, (n, n), float_dtype())
    lower = jnp.tril(u, -1)
    return lower + jnp.tril(1.0 - u, -1).T + 0.5 * jnp.eye(n, dtype=u.dtype)


def bradley_terry_matrix(utilities) -> Array:
    """``P[i, j] = sigmoid(u_i - u_j)`` (transitive; the top utility is the Condorcet
    winner and the unique Nash equilibrium of the unregularised game).
    """
    u = jnp.asarray(utilities, float_dtype())
    return jax.nn.sigmoid(u[:, None] - u[None, :])


def mixture_bt_matrix(utilities, weights) -> Array:
    """A population of Bradley-Terry raters: ``P = sum_r w_r sigmoid(u_r,i - u_r,j)``.

    Utilities ``[R, n]``, weights ``[R]`` (a distribution). Three raters with cyclically
    shifted rankings give a Condorcet cycle (see :func:`condorcet_cycle_matrix`).
    """
    u = jnp.asarray(utilities, float_dtype())
    w = jnp.asarray(weights, float_dtype())
    if is_concrete(weights):
        check_policy(np.asarray(weights), "weights")
    return jnp.einsum("r,rij->ij", w, jax.nn.sigmoid(u[:, :, None] - u[:, None, :]))


def condorcet_cycle_matrix(scale: float = 4.0) -> Array:
    """Three equally weighted BT raters ranking (a > b > c), (b > c > a), (c > a > b):
    majority preference is cyclic (a > b > c > a), the Nash equilibrium is uniform.
    """
    base = jnp.asarray([2.0, 1.0, 0.0]) * scale
    utilities = jnp.stack([base, jnp.roll(base, 1), jnp.roll(base, 2)])
    return mixture_bt_matrix(utilities, jnp.full((3,), 1.0 / 3.0))


def rps_matrix(a: float = 1.0, b: float = 1.0, c: float = 1.0) -> Array:
    """Weighted rock-paper-scissors as a preference game, ``P = (1 + S) / 2`` with

    .. math:: S = \\begin{pmatrix}0 & -a & b\\\\ a & 0 & -c\\\\ -b & c & 0\\end{pmatrix}

    (paper beats rock by ``a``, rock beats scissors by ``b``, scissors beat paper by
    ``c``; ``a, b, c`` in (0, 1]). Its unique Nash equilibrium is ``(c, b, a)/(a+b+c)``
    (solve ``x^T S = 0``).
    """
    for name, v in (("a", a), ("b", b), ("c", c)):
        if not 0 < v <= 1:
            raise ValueError(f"{name} must be in (0, 1], got {v}")
    S = jnp.asarray([[0.0, -a, b], [a, 0.0, -c], [-b, c, 0.0]], float_dtype())
    return 0.5 * (1.0 + S)


def cyclic_preference_matrix(num_responses: int, margin: float = 0.5) -> Array:
    """Generalised RPS on ``n`` (odd) responses: ``i`` beats ``i+1, ..., i+(n-1)/2``
    (mod n) with probability ``(1 + margin)/2``; the equilibrium is uniform.
    """
    n = check_int(num_responses, "num_responses", minimum=3)
    if n % 2 == 0:
        raise ValueError("cyclic_preference_matrix needs an odd number of responses")
    d = (jnp.arange(n)[None, :] - jnp.arange(n)[:, None]) % n  # j - i mod n
    sign = jnp.where(d == 0, 0.0, jnp.where(d <= (n - 1) // 2, 1.0, -1.0))
    return (0.5 * (1.0 + margin * sign)).astype(float_dtype())


def contextual_preference_matrices(
    key: Array, num_contexts: int, num_responses: int
) -> tuple[Array, Array]:
    """Contextual games: a prompt ``c ~ rho`` is drawn, then ``P_c`` is the game over
    responses to that prompt. Returns ``(P [C, n, n], rho [C])`` with each ``P_c`` an
    EGPO random game and ``rho`` uniform; the contextual objective (a policy per prompt)
    decomposes into ``C`` independent games weighted by ``rho``, which the runner
    batches as instances.
    """
    C = check_int(num_contexts, "num_contexts")
    keys = jax.random.split(key, C)
    P = jax.vmap(lambda k: random_preference_matrix(k, num_responses))(keys)
    return P, jnp.full((C,), 1.0 / C, float_dtype())


def random_matrix_game(key: Array, num_rows: int, num_cols: int) -> Array:
    """A zero-sum matrix game with i.i.d. U[-1, 1] payoffs."""
    n = check_int(num_rows, "num_rows")
    m = check_int(num_cols, "num_cols")
    return jax.random.uniform(key, (n, m), float_dtype(), -1.0, 1.0)


# --------------------------------------------------------------------------------------
# Oracles.
# --------------------------------------------------------------------------------------


def kl(p: Array, q: Array) -> Array:
    """``KL(p || q)`` with ``0 log 0 = 0`` (q floored at 1e-300)."""
    tiny = jnp.finfo(jnp.result_type(p, q)).tiny
    return jnp.sum(
        jnp.where(
            p > 0,
            p * (jnp.log(jnp.maximum(p, tiny)) - jnp.log(jnp.maximum(q, tiny))),
            0.0,
        )
    )


def soft_max_value(scores: Array, log_mu: Array, temperature: Array) -> Array:
    """``max_p <p, scores> - temperature KL(p || mu)``: ``temperature * logsumexp(log mu
    + scores / temperature)``, and ``max(scores)`` (over ``mu``'s support) at 0.
    """
    safe = jnp.where(temperature > 0, temperature, 1.0)
    smooth = safe * jax.nn.logsumexp(log_mu + scores / safe)
    hard = jnp.max(jnp.where(jnp.isfinite(log_mu), scores, -jnp.inf))
    return jnp.where(temperature > 0, smooth, hard)


def regret_increment(
    scores: Array, prev_scores: Array, log_mu: Array, temp: Array, prev_temp, utility
) -> Array:
    """One player's regret increment against the best fixed (regularised) strategy in
    hindsight, telescoped: with ``S_t`` the cumulative payoff vector and ``Phi(S, T) =
    max_p <p, S> - T KL(p || mu)`` (:func:`soft_max_value`, ``T = beta t``),
    ``Phi(S_t, beta t) - Phi(S_{t-1}, beta (t - 1)) - u_t(x_t)``, which sums over rounds
    to ``max_x sum_t u_t(x) - sum_t u_t(x_t)``.
    """
    return (
        soft_max_value(scores, log_mu, temp)
        - soft_max_value(prev_scores, log_mu, prev_temp)
        - utility
    )


def best_response(scores: Array, mu: Array, beta: Array) -> Array:
    """The (regularised) best response to payoff vector ``scores``: ``softmax(log mu +
    scores / beta)`` for ``beta > 0``, the uniform distribution on the argmax set at 0.
    """
    safe = jnp.where(beta > 0, beta, 1.0)
    smooth = jax.nn.softmax(jnp.log(mu) + scores / safe)
    top = (scores >= jnp.max(scores) - 1e-12).astype(scores.dtype)
    return jnp.where(beta > 0, smooth, top / jnp.sum(top))


def duality_gap(A: Array, x: Array, y: Array, mu_x: Array, mu_y: Array, beta) -> Array:
    """``max_x' J(x', y) - min_y' J(x, y')`` of the (regularised) game, >= 0, zero
    exactly at the equilibrium:

    .. math:: \\beta\\,\\mathrm{LSE}(\\log\\mu_x + Ay/\\beta)
              + \\beta\\,\\mathrm{LSE}(\\log\\mu_y - A^\\top x/\\beta)
              + \\beta\\mathrm{KL}(x\\|\\mu_x) + \\beta\\mathrm{KL}(y\\|\\mu_y).

    At ``beta = 0`` it is the exploitability ``max_i (Ay)_i - min_j (A^T x)_j``.
    """
    beta = jnp.asarray(beta, A.dtype)
    row = soft_max_value(A @ y, jnp.log(mu_x), beta)
    col = soft_max_value(-(A.T @ x), jnp.log(mu_y), beta)
    reg = beta * (kl(x, mu_x) + kl(y, mu_y))
    return row + col + reg


def nash_residual(A, x, y, mu_x, mu_y, beta):
    bx = jax.nn.softmax(jnp.log(mu_x) + A @ y / beta)
    by = jax.nn.softmax(jnp.log(mu_y) - A.T @ x / beta)
    return jnp.maximum(jnp.max(jnp.abs(bx - x)), jnp.max(jnp.abs(by - y)))


def regularized_nash(
    A: Array,
    beta,
    mu_x: Array | None = None,
    mu_y: Array | None = None,
    *,
    num_stages: int = 60,
    newton_steps: int = 6,
    final_steps: int = 30,
) -> tuple[Array, Array]:
    """The unique equilibrium of the KL-regularised game (``beta > 0``).

    Solves the fixed-point equations in logits, ``u = log mu_x + A softmax(v) / beta``,
    ``v = log mu_y - A^T softmax(u) / beta``, by Newton's method; the Jacobian
    ``[[I, -A J_y / beta], [A^T J_x / beta, I]]`` (``J_p = diag(p) - p p^T``) is
    invertible (``I`` + a product of two PSD matrices). For global convergence it
    follows a homotopy in beta: from ``beta_0 = max(beta, 2 max|A|)`` (where the map is
    a contraction) geometrically down to beta in ``num_stages`` stages of
    ``newton_steps`` steps, then ``final_steps`` more. Fixed iteration counts (vmap- and
    jit-safe). In float64 the residual ``|x - BR(y)|`` is ~1e-15.

    Returns ``(x*, y*)``.
    """
    A = jnp.asarray(A)
    n, m = A.shape
    dtype = A.dtype
    mu_x = jnp.full((n,), 1.0 / n, dtype) if mu_x is None else jnp.asarray(mu_x, dtype)
    mu_y = jnp.full((m,), 1.0 / m, dtype) if mu_y is None else jnp.asarray(mu_y, dtype)
    return _regularized_nash(
        A, jnp.asarray(beta, dtype), mu_x, mu_y, num_stages, newton_steps, final_steps
    )


@partial(jax.jit, static_argnums=(4, 5, 6))
def _regularized_nash(A, beta, mu_x, mu_y, num_stages, newton_steps, final_steps):
    n, m = A.shape
    dtype = A.dtype
    lmx, lmy = jnp.log(mu_x), jnp.log(mu_y)
    beta0 = jnp.maximum(beta, 2.0 * jnp.max(jnp.abs(A)) + 1e-3)
    ratio = (beta / beta0) ** (1.0 / num_stages)
    eye = jnp.eye(n + m, dtype=dtype)

    def newton(z, b):
        u, v = z[:n], z[n:]
        x, y = jax.nn.softmax(u), jax.nn.softmax(v)
        F = jnp.concatenate([u - lmx - A @ y / b, v - lmy + A.T @ x / b])
        Jx = jnp.diag(x) - jnp.outer(x, x)
        Jy = jnp.diag(y) - jnp.outer(y, y)
        top = jnp.concatenate([jnp.zeros((n, n), dtype), -A @ Jy / b], axis=1)
        bot = jnp.concatenate([A.T @ Jx / b, jnp.zeros((m, m), dtype)], axis=1)
        jac = eye + jnp.concatenate([top, bot], axis=0)
        return z - jnp.linalg.solve(jac, F)

    # One loop over a schedule of betas (one compiled Newton body): 50 steps at
    # beta_0, then newton_steps per stage down the geometric path, then final_steps.
    stages = beta0 * ratio ** jnp.arange(1, num_stages + 1, dtype=dtype)
    schedule = jnp.concatenate(
        [
            jnp.full((50,), beta0, dtype),
            jnp.repeat(stages, newton_steps),
            jnp.full((final_steps,), beta, dtype),
        ]
    )
    z0 = jnp.concatenate([lmx, lmy])
    z = jax.lax.fori_loop(0, schedule.shape[0], lambda k, w: newton(w, schedule[k]), z0)
    return jax.nn.softmax(z[:n]), jax.nn.softmax(z[n:])


def solve_lp_nash(A) -> tuple[np.ndarray, np.ndarray, float]:
    """An equilibrium of the unregularised game ``max_x min_y x^T A y`` by two linear
    programs (SciPy HiGHS): ``max v s.t. A^T x >= v 1`` and ``min w s.t. A y <= w 1``.
    Returns ``(x*, y*, value)`` in float64 NumPy.
    """
    from scipy.optimize import linprog

    A = np.asarray(A, dtype=np.float64)
    n, m = A.shape
    # Row: variables (x, v); minimise -v; v - (A^T x)_j <= 0.
    res_x = linprog(
        np.r_[np.zeros(n), -1.0],
        A_ub=np.c_[-A.T, np.ones(m)],
        b_ub=np.zeros(m),
        A_eq=np.r_[np.ones(n), 0.0][None],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)],
        method="highs",
    )
    res_y = linprog(
        np.r_[np.zeros(m), 1.0],
        A_ub=np.c_[A, -np.ones(n)],
        b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(m), 0.0][None],
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    if not (res_x.success and res_y.success):
        raise ValueError(f"LP failed: {res_x.message} / {res_y.message}")
    x = np.clip(res_x.x[:n], 0, None)
    y = np.clip(res_y.x[:m], 0, None)
    return x / x.sum(), y / y.sum(), float(-res_x.fun)


def game_params(A, *, beta=None, mu_x=None, mu_y=None) -> GameParams:
    """Params of a concrete game with its equilibrium (Newton for beta > 0, the LP at
    beta = None, i.e. 0). Computed in float64 and cast to the default dtype.
    """
    A64 = np.asarray(A, dtype=np.float64)
    if A64.ndim != 2:
        raise ValueError(f"A must be a matrix, got shape {A64.shape}")
    n, m = A64.shape
    b = _check_beta(beta)
    mx = np.full(n, 1.0 / n) if mu_x is None else np.asarray(mu_x, np.float64)
    my = np.full(m, 1.0 / m) if mu_y is None else np.asarray(mu_y, np.float64)
    check_policy(mx, "mu_x")
    check_policy(my, "mu_y")
    if mx.shape != (n,) or my.shape != (m,):
        raise ValueError("mu_x / mu_y must match A's rows / columns")
    if np.any(mx <= 0) or np.any(my <= 0):
        raise ValueError("reference policies need full support")
    if b > 0:
        with jax.enable_x64(True):
            xs, ys = regularized_nash(
                jnp.asarray(A64), b, jnp.asarray(mx), jnp.asarray(my)
            )
            xs, ys = np.asarray(xs), np.asarray(ys)
    else:
        xs, ys, _ = solve_lp_nash(A64)
    dt = float_dtype()
    cast = lambda v: jnp.asarray(v, dt)  # noqa: E731
    return GameParams(cast(A64), cast(mx), cast(my), cast(b), cast(xs), cast(ys))


# --------------------------------------------------------------------------------------
# The environment.
# --------------------------------------------------------------------------------------


def _sampled_payoffs(key, A, q, batch_size: int, bernoulli: bool) -> Array:
    """``mean_b A[:, j_b]``, ``j_b ~ q``; Bernoulli comparisons when ``bernoulli``."""
    k_idx, k_ber = jax.random.split(key)
    idx = jax.vmap(lambda k: sample_categorical(k, q))(
        jax.random.split(k_idx, batch_size)
    )
    cols = A[:, idx]  # [n, B]
    if bernoulli:
        cols = jax.random.bernoulli(k_ber, cols).astype(A.dtype)
    return jnp.mean(cols, axis=1)


def game_env(
    params: GameParams | None,
    sample_params=None,
    *,
    feedback: str = "exact",
    batch_size: int = 16,
    bernoulli: bool = True,
    name: str = "game",
) -> Env:
    """The game environment on ``params`` (or ``sample_params(key)`` per seed; or a
    batch of instances passed to the runner). ``bernoulli``: sampled feedback is
    Bernoulli comparisons (preference games, entries of A in [0, 1]) rather than
    payoff columns.
    """
    if feedback not in ("exact", "sampled"):
        raise ValueError(f"feedback must be 'exact' or 'sampled', got {feedback!r}")
    batch_size = check_int(batch_size, "batch_size")

    def reset(key, params: GameParams):
        n, m = params.A.shape
        dt = params.A.dtype
        zero = lambda k: KahanSum(jnp.zeros((k,), dt), jnp.zeros((k,), dt))  # noqa: E731
        state = GameState(zero(n), zero(m), zero(n), zero(m), jnp.zeros((), jnp.int32))
        return state, GameObs(params.beta, params.mu_x, params.mu_y)

    def step(key, state: GameState, action: Play, params: GameParams):
        A, beta = params.A, params.beta
        x, y = action.x, action.y
        k_row, k_col = jax.random.split(key)
        if feedback == "exact":
            fb = GameFeedback(A @ action.qy, A.T @ action.qx)
        else:
            row = _sampled_payoffs(k_row, A, action.qy, batch_size, bernoulli)
            col = _sampled_payoffs(k_col, A.T, action.qx, batch_size, bernoulli)
            fb = GameFeedback(row, col)
        lmx, lmy = jnp.log(params.mu_x), jnp.log(params.mu_y)
        t = state.t + 1
        tf, tf_prev = t.astype(A.dtype), state.t.astype(A.dtype)
        Ay, Atx = A @ y, A.T @ x
        row_payoffs = kahan_add(state.row_payoffs, Ay)
        col_losses = kahan_add(state.col_losses, Atx)
        # Best fixed strategy in hindsight for sum_s [x^T A y_s - beta KL(x||mu_x)],
        # telescoped: Phi(S_t, t) - Phi(S_{t-1}, t-1) - u_t(x_t).
        value = x @ Ay
        kx, ky = kl(x, params.mu_x), kl(y, params.mu_y)
        row_regret = regret_increment(
            row_payoffs.value,
            state.row_payoffs.value,
            lmx,
            beta * tf,
            beta * tf_prev,
            value - beta * kx,
        )
        col_regret = regret_increment(
            -col_losses.value,
            -state.col_losses.value,
            lmy,
            beta * tf,
            beta * tf_prev,
            -value - beta * ky,
        )
        x_sum, y_sum = kahan_add(state.x_sum, x), kahan_add(state.y_sum, y)
        gap = duality_gap(A, x, y, params.mu_x, params.mu_y, beta)
        avg_gap = duality_gap(
            A, x_sum.value / tf, y_sum.value / tf, params.mu_x, params.mu_y, beta
        )
        dist = 0.5 * (kl(params.x_star, x) + kl(params.y_star, y))
        info = GameInfo(
            row_regret + col_regret, row_regret, col_regret, gap, dist, avg_gap
        )
        new = GameState(row_payoffs, col_losses, x_sum, y_sum, t)
        return new, GameObs(beta, params.mu_x, params.mu_y), fb, info

    return Env(reset, step, params, sample_params, name)


def matrix_game(
    A,
    *,
    beta=None,
    mu_x=None,
    mu_y=None,
    feedback: str = "exact",
    batch_size: int = 16,
    name: str = "matrix_game",
) -> Env:
    """A zero-sum matrix game (row maximises ``x^T A y``), regularised when ``beta``
    is given (> 0). Sampled feedback: ``mean_b A[:, j_b]`` with ``j_b ~ qy`` (and the
    column player's symmetric estimate).
    """
    params = game_params(A, beta=beta, mu_x=mu_x, mu_y=mu_y)
    return game_env(
        params,
        None,
        feedback=feedback,
        batch_size=batch_size,
        bernoulli=False,
        name=name,
    )


def preference_game(
    P,
    *,
    beta=None,
    mu=None,
    feedback: str = "exact",
    batch_size: int = 16,
    name: str = "preference_game",
) -> Env:
    """A preference game ``P`` (validated), regularised towards ``mu`` when ``beta`` is
    given (> 0). Sampled feedback: Bernoulli comparisons of every response against
    ``batch_size`` opponent responses drawn from the query.
    """
    P = check_preference_matrix(P)
    params = game_params(P, beta=beta, mu_x=mu, mu_y=mu)
    return game_env(
        params,
        None,
        feedback=feedback,
        batch_size=batch_size,
        bernoulli=True,
        name=name,
    )


def random_preference_params(key: Array, num_responses: int, beta) -> GameParams:
    """An EGPO random game with uniform reference and its regularised equilibrium,
    solved in JAX (jit / vmap-safe; 10,000 games at once). ``beta`` > 0.
    """
    P = random_preference_matrix(key, num_responses)
    mu = jnp.full((num_responses,), 1.0 / num_responses, P.dtype)
    beta = jnp.asarray(beta, P.dtype)
    xs, ys = regularized_nash(P, beta, mu, mu)
    return GameParams(P, mu, mu, beta, xs, ys)


def random_preference_game(
    num_responses: int,
    *,
    beta: float,
    feedback: str = "exact",
    batch_size: int = 16,
    name: str = "random_preference_game",
) -> Env:
    """Each seed draws an EGPO random preference game (``sample_params``) with its
    regularised equilibrium computed in JAX. ``beta`` > 0.
    """
    b = _check_beta(beta)
    if b == 0.0:
        raise ValueError("random_preference_game needs beta > 0 (its oracle is Newton)")
    n = check_int(num_responses, "num_responses", minimum=2)
    return game_env(
        None,
        lambda key: random_preference_params(key, n, b),
        feedback=feedback,
        batch_size=batch_size,
        bernoulli=True,
        name=name,
    )


def stack_params(params_list) -> GameParams:
    """A batch of instances (leading axis) for ``run(..., instances=...)``."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *params_list)


# --------------------------------------------------------------------------------------
# Contextual preference games.
# --------------------------------------------------------------------------------------


class ContextObs(NamedTuple):
    """The public description of a contextual game and the prompt of this round."""

    context: Array  # [] int32 index of the prompt drawn for this round
    features: Array  # [C, d] every prompt's feature vector (the prompt set is public)
    beta: Array  # [] KL strength
    mu: Array  # [C, n] reference policy per prompt


class ContextualGameParams(NamedTuple):
    """One contextual game: a preference matrix per prompt and its equilibria."""

    P: Array  # [C, n, n] P[c, i, j] = Pr(i preferred to j | prompt c)
    rho: Array  # [C] prompt distribution
    features: Array  # [C, d] prompt features
    mu: Array  # [C, n] reference policy per prompt
    beta: Array  # [] KL strength (> 0)
    pi_star: Array  # [C, n] regularised Nash equilibrium per prompt (symmetric)


class ContextualGameState(NamedTuple):
    """The prompt of the current round, the round count and, per prompt, the
    cumulative payoff vectors that the per-player regrets telescope from."""

    context: Array  # [] int32
    t: Array  # [] rounds played
    row_payoffs: KahanSum  # [C, n] sum_s P_c y_{s,c}
    col_losses: KahanSum  # [C, n] sum_s P_c^T x_{s,c}


class ContextualGameInfo(NamedTuple):
    """Per-round truth of a contextual game (all prompts, weighted by ``rho``).

    ``regret``: the expected duality gap of the played policy table; summed over rounds
    it is the cumulative duality gap, an upper bound on the sum of both players'
    regrets against any fixed pair of policy tables.

    ``row_regret`` / ``col_regret``: each player's regret increment against the best
    fixed policy *table* in hindsight for the rho-weighted regularised utilities
    ``u_t(x) = sum_c rho_c [x_c^T P_c y_{t,c} - beta KL(x_c || mu_c)]`` (and
    ``-x_{t,c}^T P_c y_c - beta KL(y_c || mu_c)`` for the column player), telescoped
    from the cumulative payoff vectors in the env state as in :class:`GameInfo`: the
    best table decomposes over prompts, so its value is
    ``sum_c rho_c soft_max_value(S_c, log mu_c, beta t)``.
    """

    regret: Array  # [] sum_c rho_c gap_c(x_c, y_c)
    duality_gap: Array  # [] the same, as a snapshot (last iterate)
    max_context_gap: Array  # [] max_c gap_c (worst prompt)
    kl_to_nash: Array  # [] sum_c rho_c (KL(pi*_c||x_c) + KL(pi*_c||y_c)) / 2
    row_regret: Array  # [] row player's regret increment (best fixed table)
    col_regret: Array  # [] column player's regret increment (best fixed table)
    SNAPSHOT_FIELDS = ("duality_gap", "max_context_gap", "kl_to_nash")


def contextual_duality_gaps(
    P: Array, x: Array, y: Array, mu: Array, beta
) -> tuple[Array, Array]:
    """Per-prompt duality gaps of policy tables ``x, y`` ([C, n]): ``(gaps [C],
    max_c gaps)``, each :func:`duality_gap` of prompt ``c``'s regularised game.

    The contextual regularised game ``J(x, y) = sum_c rho_c J_c(x_c, y_c)`` decomposes
    over prompts (a best response is chosen per prompt), so its duality gap is exactly
    ``sum_c rho_c gap_c``; :func:`contextual_duality_gap` forms that sum.
    """
    gaps = jax.vmap(lambda A, a, b, m: duality_gap(A, a, b, m, m, beta))(P, x, y, mu)
    return gaps, jnp.max(gaps)


def contextual_duality_gap(params: ContextualGameParams, x: Array, y: Array) -> Array:
    """The exact duality gap ``sum_c rho_c gap_c(x_c, y_c)`` of the contextual game."""
    gaps, _ = contextual_duality_gaps(params.P, x, y, params.mu, params.beta)
    return params.rho @ gaps


def contextual_bt_mixture_matrices(
    key: Array,
    num_contexts: int,
    num_responses: int,
    *,
    num_raters: int = 3,
    feature_dim: int = 4,
    scale: float = 3.0,
) -> tuple[Array, Array]:
    """Contextual Bradley-Terry mixtures: prompt features ``phi_c ~ N(0, I_d)``, rater
    ``r``'s utility of response ``i`` for prompt ``c`` is ``scale * phi_c^T W_r[:, i]``
    (``W_r ~ N(0, I / d)``), equally weighted raters (a population vote), and

    .. math:: P_c[i, j] = \\sum_r w_r\\,\\sigma(u_{r,c,i} - u_{r,c,j}).

    With several raters the majority preference of a prompt can be cyclic (Condorcet
    cycles: about a fifth of the prompts for 3 raters, 10 responses, d = 4); the game
    depends smoothly on the features, so a policy network can share
    what it learns across prompts. Returns ``(P [C, n, n], features [C, d])``.
    """
    C = check_int(num_contexts, "num_contexts")
    n = check_int(num_responses, "num_responses", minimum=2)
    R = check_int(num_raters, "num_raters")
    d = check_int(feature_dim, "feature_dim")
    k_phi, k_w = jax.random.split(key)
    dt = float_dtype()
    phi = jax.random.normal(k_phi, (C, d), dt)
    W = jax.random.normal(k_w, (R, d, n), dt) / jnp.sqrt(d)
    weights = jnp.full((R,), 1.0 / R, dt)
    utilities = scale * jnp.einsum("cd,rdn->crn", phi, W)  # [C, R, n]
    P = jax.vmap(lambda u: mixture_bt_matrix(u, weights))(utilities)
    return P, phi


def contextual_preference_params(
    key: Array,
    num_contexts: int,
    num_responses: int,
    beta,
    *,
    kind: str = "random",
    features: str = "onehot",
    feature_dim: int = 4,
    num_raters: int = 3,
) -> ContextualGameParams:
    """A contextual game with uniform prompt distribution and uniform references, and
    its per-prompt regularised equilibria (Newton, vmapped; jit / vmap-safe).

    Args:
      kind: ``"random"`` (an EGPO random game per prompt) or ``"bt_mixture"``
        (:func:`contextual_bt_mixture_matrices`).
      features: ``"onehot"`` (``features = I_C``, d = C) or ``"gaussian"``
        (``[C, feature_dim]``; for ``bt_mixture`` the features that generate the game,
        for ``random`` independent N(0, 1) draws that identify the prompt).
    """
    if kind not in ("random", "bt_mixture"):
        raise ValueError(f"kind must be 'random' or 'bt_mixture', got {kind!r}")
    if features not in ("onehot", "gaussian"):
        raise ValueError(f"features must be 'onehot' or 'gaussian', got {features!r}")
    C = check_int(num_contexts, "num_contexts")
    n = check_int(num_responses, "num_responses", minimum=2)
    k_game, k_feat = jax.random.split(key)
    if kind == "random":
        P, _ = contextual_preference_matrices(k_game, C, n)
        phi = jax.random.normal(k_feat, (C, feature_dim), P.dtype)
    else:
        P, phi = contextual_bt_mixture_matrices(
            k_game, C, n, num_raters=num_raters, feature_dim=feature_dim
        )
    feats = jnp.eye(C, dtype=P.dtype) if features == "onehot" else phi
    mu = jnp.full((C, n), 1.0 / n, P.dtype)
    beta = jnp.asarray(beta, P.dtype)
    pi_star, _ = jax.vmap(lambda A, m: regularized_nash(A, beta, m, m))(P, mu)
    rho = jnp.full((C,), 1.0 / C, P.dtype)
    return ContextualGameParams(P, rho, feats, mu, beta, pi_star)


def contextual_game_params(P, *, beta, rho=None, mu=None, features=None):
    """Params of a concrete contextual game (validated), equilibria in float64 Newton.

    ``P`` [C, n, n] (each a preference matrix), ``rho`` [C] (default uniform), ``mu``
    [C, n] or [n] (default uniform), ``features`` [C, d] (default one-hot).
    """
    P64 = np.asarray(P, dtype=np.float64)
    if P64.ndim != 3:
        raise ValueError(f"P must be [num_contexts, n, n], got shape {P64.shape}")
    C, n, _ = P64.shape
    for c in range(C):
        check_preference_matrix(P64[c])
    b = _check_beta(beta)
    if b == 0.0:
        raise ValueError("contextual games need beta > 0")
    rho64 = np.full(C, 1.0 / C) if rho is None else np.asarray(rho, np.float64)
    check_policy(rho64, "rho")
    if rho64.shape != (C,):
        raise ValueError(f"rho must have shape ({C},), got {rho64.shape}")
    mu64 = np.full((C, n), 1.0 / n) if mu is None else np.asarray(mu, np.float64)
    if mu64.ndim == 1:
        mu64 = np.broadcast_to(mu64, (C, n)).copy()
    if mu64.shape != (C, n):
        raise ValueError(f"mu must have shape ({C}, {n}) or ({n},), got {mu64.shape}")
    for c in range(C):
        check_policy(mu64[c], "mu")
    if np.any(mu64 <= 0):
        raise ValueError("reference policies need full support")
    feats = np.eye(C) if features is None else np.asarray(features, np.float64)
    if feats.ndim != 2 or feats.shape[0] != C:
        raise ValueError(f"features must be [{C}, d], got shape {feats.shape}")
    with jax.enable_x64(True):
        pi_star, _ = jax.vmap(lambda A, m: regularized_nash(A, b, m, m))(
            jnp.asarray(P64), jnp.asarray(mu64)
        )
        pi_star = np.asarray(pi_star)
    dt = float_dtype()
    cast = lambda v: jnp.asarray(v, dt)  # noqa: E731
    return ContextualGameParams(
        cast(P64), cast(rho64), cast(feats), cast(mu64), cast(b), cast(pi_star)
    )


def contextual_game_env(
    params: ContextualGameParams | None,
    sample_params=None,
    *,
    feedback: str = "exact",
    batch_size: int = 16,
    name: str = "contextual_game",
) -> Env:
    """The contextual preference game: each round a prompt ``c ~ rho`` is drawn (shown
    in the observation), the learner acts with a :class:`Play` whose iterate ``(x, y)``
    is its whole policy table ([C, n], evaluated on every prompt) and whose query
    ``(qx, qy)`` ([n]) is for the drawn prompt, and the feedback is
    ``(P_c qy, P_c^T qx)``: exact, or Bernoulli comparisons against ``batch_size``
    sampled opponent responses (as in :func:`game_env`).
    """
    if feedback not in ("exact", "sampled"):
        raise ValueError(f"feedback must be 'exact' or 'sampled', got {feedback!r}")
    batch_size = check_int(batch_size, "batch_size")

    def observe(context, params):
        return ContextObs(context, params.features, params.beta, params.mu)

    def reset(key, params: ContextualGameParams):
        c = sample_categorical(key, params.rho).astype(jnp.int32)
        zeros = jnp.zeros(params.mu.shape, params.P.dtype)
        state = ContextualGameState(
            c, jnp.zeros((), jnp.int32), KahanSum(zeros, zeros), KahanSum(zeros, zeros)
        )
        return state, observe(c, params)

    def player_regrets(state: ContextualGameState, x, y, params):
        """Both players' regret increments and the new cumulative payoffs."""
        P, beta, log_mu = params.P, params.beta, jnp.log(params.mu)
        t_prev = state.t.astype(P.dtype)
        Py = jnp.einsum("cij,cj->ci", P, y)  # [C, n]
        Ptx = jnp.einsum("cji,cj->ci", P, x)  # [C, n]
        row_payoffs = kahan_add(state.row_payoffs, Py)
        col_losses = kahan_add(state.col_losses, Ptx)

        # The best fixed table decomposes over prompts: one increment per prompt.
        per_prompt = jax.vmap(regret_increment, in_axes=(0, 0, 0, None, None, 0))
        value = jnp.sum(x * Py, axis=-1)  # [C] x_c^T P_c y_c
        kx = jax.vmap(kl)(x, params.mu)
        ky = jax.vmap(kl)(y, params.mu)
        temp, prev_temp = beta * (t_prev + 1.0), beta * t_prev
        row = per_prompt(
            row_payoffs.value,
            state.row_payoffs.value,
            log_mu,
            temp,
            prev_temp,
            value - beta * kx,
        )
        col = per_prompt(
            -col_losses.value,
            -state.col_losses.value,
            log_mu,
            temp,
            prev_temp,
            -value - beta * ky,
        )
        return params.rho @ row, params.rho @ col, row_payoffs, col_losses

    def step(key, state: ContextualGameState, action: Play, params):
        k_row, k_col, k_next = jax.random.split(key, 3)
        A = params.P[state.context]
        if feedback == "exact":
            fb = GameFeedback(A @ action.qy, A.T @ action.qx)
        else:
            fb = GameFeedback(
                _sampled_payoffs(k_row, A, action.qy, batch_size, True),
                _sampled_payoffs(k_col, A.T, action.qx, batch_size, True),
            )
        gaps, worst = contextual_duality_gaps(
            params.P, action.x, action.y, params.mu, params.beta
        )
        gap = params.rho @ gaps
        dists = jax.vmap(lambda s, a, b: 0.5 * (kl(s, a) + kl(s, b)))(
            params.pi_star, action.x, action.y
        )
        row, col, row_payoffs, col_losses = player_regrets(
            state, action.x, action.y, params
        )
        info = ContextualGameInfo(gap, gap, worst, params.rho @ dists, row, col)
        c = sample_categorical(k_next, params.rho).astype(jnp.int32)
        new = ContextualGameState(c, state.t + 1, row_payoffs, col_losses)
        return new, observe(c, params), fb, info

    return Env(reset, step, params, sample_params, name)


def contextual_preference_game(
    num_contexts: int,
    num_responses: int,
    *,
    beta: float,
    kind: str = "random",
    features: str = "onehot",
    feature_dim: int = 4,
    feedback: str = "exact",
    batch_size: int = 16,
    name: str = "contextual_preference_game",
) -> Env:
    """Each seed draws a contextual game (:func:`contextual_preference_params`) with
    its per-prompt regularised equilibria computed in JAX. ``beta`` > 0.
    """
    b = _check_beta(beta)
    if b == 0.0:
        raise ValueError("contextual_preference_game needs beta > 0")
    C = check_int(num_contexts, "num_contexts")
    n = check_int(num_responses, "num_responses", minimum=2)
    # Validate the string options now rather than at the first trace.
    if kind not in ("random", "bt_mixture"):
        raise ValueError(f"kind must be 'random' or 'bt_mixture', got {kind!r}")
    if features not in ("onehot", "gaussian"):
        raise ValueError(f"features must be 'onehot' or 'gaussian', got {features!r}")
    return contextual_game_env(
        None,
        lambda key: contextual_preference_params(
            key, C, n, b, kind=kind, features=features, feature_dim=feature_dim
        ),
        feedback=feedback,
        batch_size=batch_size,
        name=name,
    )
