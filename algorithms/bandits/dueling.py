"""Dueling bandit learners: RUCB, Double Thompson sampling, MaxInP (linear dueling)
and APOHF (neural utility).

Protocol (``envs.dueling_bandits``): obs = the arm features ``[K, d]`` (one-hot for
matrix instances); action = a pair ``int32 [2]``; feedback = 1.0 when the first arm
wins. RUCB and Double TS ignore the features; MaxInP and APOHF use them.

``DUELING_ALGORITHMS`` maps a command-line name to a builder
``(num_arms, dim, horizon) -> Learner`` with the default tuning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from algorithms.bandits.contextual import sherman_morrison
from algorithms.bandits.neural import MLP, push_replay, replay_steps
from algorithms.core import (
    Learner,
    argmax_tiebreak,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
    sample_categorical,
)

Array = jax.Array
PyTree = Any


def _check_obs(obs, num_arms: int, dim: int | None = None) -> None:
    shape = jnp.shape(obs)
    if len(shape) != 2 or shape[0] != num_arms or (dim is not None and shape[1] != dim):
        want = f"[{num_arms}, {dim if dim is not None else 'd'}]"
        raise ValueError(f"dueling learners take arm features {want}, got {shape}")


def _pair(a1, a2) -> Array:
    return jnp.stack([a1, a2]).astype(jnp.int32)


def _count_update(wins: Array, action: Array, feedback: Array) -> Array:
    """``W[i, j]`` counts the wins of i over j."""
    a1, a2 = action[0], action[1]
    return wins.at[a1, a2].add(feedback).at[a2, a1].add(1.0 - feedback)


def confidence_bounds(wins: Array, t, alpha) -> tuple[Array, Array]:
    """RUCB's optimistic and pessimistic preference estimates ``(U, L)``, ``[K, K]``.

    .. math::

        U_{ij} = \\frac{W_{ij}}{N_{ij}} + \\sqrt{\\frac{\\alpha \\ln t}{N_{ij}}},\\quad
        L_{ij} = \\frac{W_{ij}}{N_{ij}} - \\sqrt{\\frac{\\alpha \\ln t}{N_{ij}}},\\quad
        N = W + W^\\top,

    with ``x / 0 := 1`` for U and 0 for L, and ``U_ii = L_ii = 1/2`` (Zoghi et al.
    2014, Algorithm 1, line 3; Wu and Liu 2016, Algorithm 1).
    """
    n = wins + wins.T
    safe = jnp.where(n > 0, n, 1.0)
    mean = wins / safe
    width = jnp.sqrt(alpha * jnp.log(jnp.maximum(t, 1.0)) / safe)
    eye = jnp.eye(wins.shape[0], dtype=bool)
    upper = jnp.where(eye, 0.5, jnp.where(n > 0, mean + width, 1.0))
    lower = jnp.where(eye, 0.5, jnp.where(n > 0, mean - width, 0.0))
    return upper, lower


def _random_argmax(key, values: Array, mask: Array) -> Array:
    """Argmax of ``values`` over ``mask`` with uniform tie-breaking."""
    return argmax_tiebreak(key, jnp.where(mask, values, -jnp.inf))


# --------------------------------------------------------------------------------------
# RUCB.
# --------------------------------------------------------------------------------------


class RUCBState(NamedTuple):
    wins: Array  # [K, K] W[i, j] = wins of i over j
    hypothesis: Array  # [K] bool, the set B (at most one arm) of the hypothesised best
    t: Array  # [] int32 duels played


def rucb(num_arms: int, *, alpha=0.51) -> Learner:
    """Relative Upper Confidence Bound (RUCB).

    Each round: ``U`` by :func:`confidence_bounds`; candidates
    ``C = {c: U_cj >= 1/2 for all j}``; ``B <- B ∩ C`` (``B <- C`` when ``|C| = 1``);
    the champion ``c`` is uniform when ``C`` is empty, else drawn with
    ``p(c) = 1/2`` for ``c in B`` and ``1 / (2^{|B|} |C \\ B|)`` otherwise; the
    challenger is ``d = argmax_j U_jc`` (ties at random, ``d != c`` on a tie). The pair
    ``(c, d)`` is dueled.

    For ``alpha > 1/2`` and a Condorcet winner, the cumulative strong regret is
    ``O(K^2 + K log T)`` with high probability (Zoghi et al. 2014, Theorems 2-3).

    Args:
      num_arms: K.
      alpha: exploration parameter alpha > 1/2 (traceable).

    References:
      M. Zoghi, S. Whiteson, R. Munos and M. de Rijke. Relative Upper Confidence Bound
      for the K-Armed Dueling Bandit Problem. ICML 2014. Algorithm 1.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    check_positive(alpha, "alpha")

    def init(key):
        del key
        return RUCBState(
            jnp.zeros((num_arms, num_arms), float_dtype()),
            jnp.zeros((num_arms,), bool),
            jnp.zeros((), jnp.int32),
        )

    def act(key, state, obs):
        _check_obs(obs, num_arms)
        k_c, k_d = jax.random.split(key)
        t = (state.t + 1).astype(state.wins.dtype)
        upper, _ = confidence_bounds(state.wins, t, alpha)
        cand = jnp.all(upper >= 0.5, axis=1)
        num_cand = jnp.sum(cand)
        hyp = state.hypothesis & cand
        hyp = jnp.where(num_cand == 1, cand, hyp)
        rest = cand & ~hyp
        num_hyp = jnp.sum(hyp).astype(t.dtype)
        num_rest = jnp.maximum(jnp.sum(rest), 1).astype(t.dtype)
        probs = jnp.where(hyp, 0.5, jnp.where(rest, 0.5**num_hyp / num_rest, 0.0))
        probs = jnp.where(num_cand == 0, jnp.ones_like(probs), probs)
        c = sample_categorical(k_c, probs / jnp.sum(probs))
        col = upper[:, c]
        ties = col == jnp.max(col)
        others = ties & (jnp.arange(num_arms) != c)
        d = _random_argmax(k_d, col, jnp.where(jnp.any(others), others, ties))
        return _pair(c, d), state._replace(hypothesis=hyp)

    def update(state, obs, action, feedback):
        wins = _count_update(state.wins, action, feedback)
        return RUCBState(wins, state.hypothesis, state.t + 1)

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Double Thompson sampling.
# --------------------------------------------------------------------------------------


class DoubleTSState(NamedTuple):
    wins: Array  # [K, K] W[i, j] = wins of i over j
    t: Array  # [] int32 duels played


def double_ts(num_arms: int, *, alpha=0.51) -> Learner:
    """Double Thompson Sampling (D-TS).

    First candidate: among the arms of maximal optimistic Copeland score
    ``#{j: U_ij > 1/2}``, the one winning most duels under one Beta posterior sample
    ``theta1_ij ~ Beta(W_ij + 1, W_ji + 1)`` (``theta1_ji = 1 - theta1_ij``). Second
    candidate: ``argmax_i theta2_{i a1}`` over arms with ``L_{i a1} <= 1/2``, with
    fresh samples ``theta2_{i a1} ~ Beta(W_{i a1} + 1, W_{a1 i} + 1)`` and
    ``theta2_{a1 a1} = 1/2``. Ties at random.

    Regret ``O(K^2 log T)`` for Copeland dueling bandits, and ``O(K log T + K^2 log log
    T)`` for its refinement with a Condorcet winner (Wu and Liu 2016, Theorems 1-2;
    numbers from memory, unverified).

    Args:
      num_arms: K.
      alpha: confidence parameter alpha > 1/2 of the RUCB-style bounds (traceable).

    References:
      H. Wu and X. Liu. Double Thompson Sampling for Dueling Bandits. NeurIPS 2016.
      Algorithm 1.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    check_positive(alpha, "alpha")

    def init(key):
        del key
        return DoubleTSState(
            jnp.zeros((num_arms, num_arms), float_dtype()), jnp.zeros((), jnp.int32)
        )

    def act(key, state, obs):
        _check_obs(obs, num_arms)
        k_1, k_t1, k_2, k_t2 = jax.random.split(key, 4)
        wins = state.wins
        t = (state.t + 1).astype(wins.dtype)
        upper, lower = confidence_bounds(wins, t, alpha)
        copeland = jnp.sum(upper > 0.5, axis=1)
        cand = copeland == jnp.max(copeland)
        sample = jax.random.beta(k_1, wins + 1.0, wins.T + 1.0)
        upper_tri = jnp.triu(jnp.ones_like(wins, dtype=bool), 1)
        theta1 = jnp.where(
            upper_tri, sample, jnp.where(upper_tri.T, 1.0 - sample.T, 0.5)
        )
        score = jnp.sum(theta1 > 0.5, axis=1).astype(wins.dtype)
        a1 = _random_argmax(k_t1, score, cand)
        theta2 = jax.random.beta(k_2, wins[:, a1] + 1.0, wins[a1, :] + 1.0)
        theta2 = theta2.at[a1].set(0.5)
        a2 = _random_argmax(k_t2, theta2, lower[:, a1] <= 0.5)
        return _pair(a1, a2), state

    def update(state, obs, action, feedback):
        return DoubleTSState(_count_update(state.wins, action, feedback), state.t + 1)

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# MaxInP: linear dueling.
# --------------------------------------------------------------------------------------


class MaxInPState(NamedTuple):
    theta: Array  # [d] logistic (Bradley-Terry) estimate
    h_inv: Array  # [d, d] inverse of lambda I + sum sigma'(z^T theta) z z^T
    v_inv: Array  # [d, d] inverse of lambda I + sum z z^T (design matrix)


def maxinp(num_arms: int, dim: int, *, beta=1.0, reg=1.0) -> Learner:
    """MaxInP: play the most informative pair among the arms not yet ruled out.

    With ``z_ij = x_i - x_j``, ``V = lambda I + sum_s z_s z_s^T`` over the dueled pairs
    and ``theta`` the Bradley-Terry (logistic) estimate:

    .. math::

        \\mathcal A_t = \\{i: z_{ij}^\\top \\hat\\theta
            + \\beta \\|z_{ij}\\|_{V^{-1}} \\ge 0\\ \\forall j\\},\\qquad
        (a_1, a_2) = \\arg\\max_{i, j \\in \\mathcal A_t} \\|z_{ij}\\|_{V^{-1}}.

    ``theta`` is updated by one online Newton step per duel,
    ``theta <- theta + H^{-1} z (y - sigma(z^T theta))`` with
    ``H = lambda I + sum sigma'(z^T theta_s) z z^T`` kept by Sherman-Morrison (our
    fixed-cost stand-in for the paper's full MLE); the paper's initial random
    exploration phase is replaced by the optimistic start ``V = lambda I``. Regret
    ``O~(d sqrt(T))`` (Saha 2021, Theorem 3 for MaxInP; number from memory, unverified).

    Args:
      num_arms: K.
      dim: feature dimension d.
      beta: confidence width beta >= 0 (traceable).
      reg: lambda > 0 (traceable).

    References:
      A. Saha. Optimal Algorithms for Stochastic Contextual Preference Bandits.
      NeurIPS 2021. Algorithm 1 (MaxInP).
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")
    check_nonnegative(beta, "beta")
    check_positive(reg, "reg")

    def init(key):
        del key
        dtype = float_dtype()
        eye = jnp.eye(dim, dtype=dtype) / jnp.asarray(reg, dtype)
        return MaxInPState(jnp.zeros((dim,), dtype), eye, eye)

    def act(key, state, obs):
        _check_obs(obs, num_arms, dim)
        diffs = obs[:, None, :] - obs[None, :, :]  # [K, K, d]
        quad = jnp.einsum("ijk,kl,ijl->ij", diffs, state.v_inv, diffs)
        # Exactly symmetric (w_ij + w_ji is commutative), so the tie between (i, j) and
        # (j, i) is broken by the key alone, identically with and without jit.
        widths = jnp.sqrt(jnp.maximum(0.5 * (quad + quad.T), 0.0))
        margin = diffs @ state.theta + beta * widths
        active = jnp.all(margin >= -1e-12, axis=1)
        pair_ok = active[:, None] & active[None, :]
        # Widths equal up to rounding (symmetric designs) count as ties: rounded to
        # 5 decimals, so jit and no-jit break them identically.
        score = jnp.where(pair_ok, jnp.round(widths, 5), -jnp.inf)
        flat = argmax_tiebreak(key, score.reshape(-1))
        return _pair(flat // num_arms, flat % num_arms), state

    def update(state, obs, action, feedback):
        z = obs[action[0]] - obs[action[1]]
        p = jax.nn.sigmoid(z @ state.theta)
        h_inv = sherman_morrison(state.h_inv, jnp.sqrt(p * (1.0 - p)) * z)
        theta = state.theta + h_inv @ z * (feedback - p)
        return MaxInPState(theta, h_inv, sherman_morrison(state.v_inv, z))

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# APOHF: neural utility, greedy first arm, optimistic second arm.
# --------------------------------------------------------------------------------------


class APOHFState(NamedTuple):
    params: PyTree  # utility network h(x; theta)
    params0: PyTree  # its initialisation theta_0 (the regulariser's centre)
    opt_state: PyTree  # optax state
    v_inv: Array  # [P, P] inverse of (lambda I + sum phi phi^T), phi = g(x1) - g(x2)
    first: Array  # [B, d] buffer: features of the first arms
    second: Array  # [B, d] buffer: features of the second arms
    outcomes: Array  # [B] buffer: 1.0 when the first arm won
    count: Array  # [] int32 duels seen
    batch_u: Array  # [num_steps, batch_size - 1] uniforms of the next minibatches


def apohf(
    num_arms: int,
    dim: int,
    *,
    nu=1.0,
    reg=1.0,
    weight_decay=1e-3,
    widths: tuple[int, ...] = (32,),
    learning_rate=1e-2,
    buffer_size: int = 512,
    batch_size: int = 16,
    num_steps: int = 1,
) -> Learner:
    """APOHF's pair selection with a neural latent utility.

    With ``h(x; theta)`` an MLP trained on the Bradley-Terry log-likelihood of all
    past duels plus ``(mu / 2) ||theta - theta_0||^2`` and
    ``g(x) = grad_theta h(x; theta) / sqrt(m)`` (m = first width):

    .. math::

        x_{t,1} = \\arg\\max_x h(x; \\theta_t),\\qquad
        x_{t,2} = \\arg\\max_x h(x; \\theta_t)
            + \\nu \\|g(x) - g(x_{t,1})\\|_{V_{t-1}^{-1}},

    ``V_t = lambda I + sum_s (g(x_{s,1}) - g(x_{s,2}))(...)^T`` (full P x P matrix,
    Sherman-Morrison). Training: ``num_steps`` Adam steps per duel on a replay minibatch
    holding the newest duel (fixed cost; the paper retrains on the whole history).
    Lin et al. (2024), Algorithm 1 (APOHF) and its selection rule Eqs. (2)-(3)
    (equation numbers from memory, unverified); its guarantee is inherited from neural
    dueling bandits (Verma et al. 2024), ``O~(d~ sqrt(T))``.

    Args:
      num_arms: K.
      dim: feature dimension d.
      nu: exploration width nu >= 0 (traceable).
      reg: lambda > 0 of V (traceable).
      weight_decay: mu >= 0 (traceable).
      widths, learning_rate, buffer_size, batch_size, num_steps: as in
        ``algorithms.bandits.neural.neural_oracle``.

    References:
      X. Lin, Z. Dai, A. Verma, S.-K. Ng, P. Jaillet and B. K. H. Low. Prompt
      Optimization with Human Feedback. 2024 (arXiv:2405.17346). Algorithm 1.
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")
    buffer_size = check_int(buffer_size, "buffer_size")
    batch_size = check_int(batch_size, "batch_size")
    num_steps = check_int(num_steps, "num_steps")
    widths = tuple(check_int(w, "width") for w in widths)
    check_nonnegative(nu, "nu")
    check_positive(reg, "reg")
    check_nonnegative(weight_decay, "weight_decay")
    check_positive(learning_rate, "learning_rate")
    net = MLP(widths, 1)
    optimizer = optax.adam(learning_rate)
    m = float(widths[0]) if widths else 1.0

    def utility(params, x):
        return net.apply(params, x)[..., 0]

    def grads(params, xs):
        """[n, P] gradients of h at each row of xs, over sqrt(m)."""
        jac = jax.jacrev(lambda p: utility(p, xs))(params)
        leaves = [leaf.reshape(xs.shape[0], -1) for leaf in jax.tree.leaves(jac)]
        return jnp.concatenate(leaves, axis=1) / jnp.sqrt(m)

    def init(key):
        dtype = float_dtype()
        params = net.init(key, jnp.zeros((dim,), dtype))
        num_params = ravel_pytree(params)[0].shape[0]
        return APOHFState(
            params=params,
            params0=params,
            opt_state=optimizer.init(params),
            v_inv=jnp.eye(num_params, dtype=dtype) / jnp.asarray(reg, dtype),
            first=jnp.zeros((buffer_size, dim), dtype),
            second=jnp.zeros((buffer_size, dim), dtype),
            outcomes=jnp.zeros((buffer_size,), dtype),
            count=jnp.zeros((), jnp.int32),
            batch_u=jnp.zeros((num_steps, batch_size - 1), dtype),
        )

    def act(key, state, obs):
        _check_obs(obs, num_arms, dim)
        k_batch, k_1, k_2 = jax.random.split(key, 3)
        h = utility(state.params, obs)
        a1 = argmax_tiebreak(k_1, h)
        g = grads(state.params, obs)
        diff = g - g[a1][None]
        width = jnp.sqrt(
            jnp.maximum(jnp.einsum("kp,pq,kq->k", diff, state.v_inv, diff), 0.0)
        )
        a2 = argmax_tiebreak(k_2, h + nu * width)
        u = jax.random.uniform(k_batch, state.batch_u.shape, state.batch_u.dtype)
        return _pair(a1, a2), state._replace(batch_u=u)

    def loss_fn(params, params0, x1, x2, y):
        z = utility(params, x1) - utility(params, x2)
        nll = jnp.mean(jax.nn.softplus(z) - y * z)
        sq = sum(
            jnp.sum((a - b) ** 2)
            for a, b in zip(
                jax.tree.leaves(params), jax.tree.leaves(params0), strict=True
            )
        )
        return nll + 0.5 * weight_decay * sq

    def update(state, obs, action, feedback):
        x1, x2 = obs[action[0]], obs[action[1]]
        g = grads(state.params, jnp.stack([x1, x2]))
        v_inv = sherman_morrison(state.v_inv, g[0] - g[1])
        (first, second, outcomes), pos, count = push_replay(
            (state.first, state.second, state.outcomes), (x1, x2, feedback), state.count
        )
        params, opt_state = replay_steps(
            optimizer,
            lambda p, *batch: loss_fn(p, state.params0, *batch),
            (state.params, state.opt_state),
            (first, second, outcomes),
            pos,
            count,
            state.batch_u,
        )
        return state._replace(
            params=params,
            opt_state=opt_state,
            v_inv=v_inv,
            first=first,
            second=second,
            outcomes=outcomes,
            count=count,
        )

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Registry.
# --------------------------------------------------------------------------------------


def uniform_duels(num_arms: int) -> Learner:
    """Duels a uniformly random pair every round (baseline)."""
    num_arms = check_int(num_arms, "num_arms", minimum=2)

    def init(key):
        del key
        return ()

    def act(key, state, obs):
        _check_obs(obs, num_arms)
        return jax.random.randint(key, (2,), 0, num_arms, jnp.int32), state

    def update(state, obs, action, feedback):
        return state

    return Learner(init, act, update)


DUELING_ALGORITHMS: dict[str, Callable[[int, int, int], Learner]] = {
    "uniform": lambda k, d, n: uniform_duels(k),
    "rucb": lambda k, d, n: rucb(k, alpha=0.51),
    "double_ts": lambda k, d, n: double_ts(k, alpha=0.51),
    # beta = 4: with beta = 1 the online-Newton estimate sometimes eliminates the
    # Condorcet winner (measured on the figure's instance: regret 300 +- 208 at
    # T = 3,000 vs 28 +- 9 with beta = 4, 16 seeds).
    "maxinp": lambda k, d, n: maxinp(k, d, beta=4.0),
    # nu = 5: held-out tuning (seed 1, 16 seeds, T = 2,000, the figure's two K = 8
    # instances): the smallest mean final strong + weak regret summed over both
    # instances among nu in {0.3, 1, 2, 3, 5, 7, 10, 30} (327, against 387 for nu = 3
    # and 1,231 for the former default nu = 1, which locked onto self-duels of
    # suboptimal arms in some seeds). README, dueling section.
    "apohf": lambda k, d, n: apohf(k, d, nu=5.0),
}


def make_dueling_learner(name: str, num_arms: int, dim: int, horizon: int) -> Learner:
    """A registered dueling learner with its default tuning."""
    if name not in DUELING_ALGORITHMS:
        raise ValueError(
            f"unknown dueling algorithm {name!r}; choose from "
            f"{', '.join(DUELING_ALGORITHMS)}"
        )
    check_int(num_arms, "num_arms", minimum=2)
    check_int(dim, "dim")
    check_int(horizon, "horizon")
    return DUELING_ALGORITHMS[name](num_arms, dim, horizon)
