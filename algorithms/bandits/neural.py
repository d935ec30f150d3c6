"""Neural contextual bandits: a flax MLP regression oracle trained online with optax,
the perturbed online neural regression bandits of Deb et al. (2024), and NeuralUCB /
NeuralTS style baselines.

Protocol as in ``algorithms.bandits.contextual``: obs = context ``[d]``, action = arm.

**Fixed-size online training.** The oracle keeps a ring buffer of the last
``buffer_size`` samples ``(x, a, y)``; every ``update`` inserts the new sample and takes
``num_steps`` optimiser steps, each on a minibatch made of the newest sample plus
``batch_size - 1`` samples drawn uniformly from the filled part of the buffer. The
minibatch draws are uniforms sampled in the learner's ``act`` (``oracle.sample``) and
carried in the state, so ``update`` is deterministic. Per-round work is fixed-shape and
independent of t.

The network maps a context to K outputs (one head per arm, shared hidden layers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from algorithms.bandits.contextual import (
    RegressionOracle,
    _check_obs,
    squarecb,
)
from algorithms.core import (
    Learner,
    argmax_tiebreak,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
)

Array = jax.Array
PyTree = Any

LOSSES = ("squared", "kl")


def push_replay(buffers: tuple, values: tuple, count: Array):
    """Writes one sample into ring buffers (each ``[B, ...]``) at ``count % B``.

    Returns ``(buffers, pos, count + 1)``.
    """
    pos = count % buffers[0].shape[0]
    new = tuple(b.at[pos].set(v) for b, v in zip(buffers, values, strict=True))
    return new, pos, count + 1


def replay_steps(optimizer, loss_fn, carry, buffers, pos, count, batch_u):
    """``len(batch_u)`` optax steps on ``loss_fn(params, *minibatch)``.

    Each minibatch is the newest sample (at ``pos``) plus ``batch_u.shape[1]`` samples
    at indices ``floor(u * filled)`` of the filled part of the ring buffers (the
    uniforms ``u`` were drawn in ``act``). ``carry = (params, opt_state)``; returns the
    new carry. Fixed cost per round.
    """
    filled = jnp.minimum(count, buffers[0].shape[0])

    def step(carry, u):
        params, opt_state = carry
        rest = jnp.minimum((u * filled.astype(u.dtype)).astype(jnp.int32), filled - 1)
        idx = jnp.concatenate([pos[None], rest])
        grads = jax.grad(loss_fn)(params, *(b[idx] for b in buffers))
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    return jax.lax.scan(step, carry, batch_u)[0]


class MLP(nn.Module):
    """A ReLU multilayer perceptron with ``num_outputs`` linear outputs."""

    widths: tuple[int, ...]
    num_outputs: int

    @nn.compact
    def __call__(self, x):
        dtype = float_dtype()
        for width in self.widths:
            x = nn.relu(nn.Dense(width, param_dtype=dtype, dtype=dtype)(x))
        return nn.Dense(self.num_outputs, param_dtype=dtype, dtype=dtype)(x)


class NeuralOracleState(NamedTuple):
    params: PyTree  # network parameters
    opt_state: PyTree  # optax state
    xs: Array  # [B, d] replay buffer contexts
    arms: Array  # [B] int32 replay buffer arms
    ys: Array  # [B] replay buffer rewards
    count: Array  # [] int32 samples seen
    batch_u: Array  # [num_steps, batch_size - 1] uniforms of the next minibatches
    eps: Array  # [K, d] prediction perturbation (zeros when unperturbed)


def _neural_oracle_parts(
    num_arms: int,
    dim: int,
    *,
    widths: tuple[int, ...] = (32,),
    learning_rate=1e-2,
    buffer_size: int = 512,
    batch_size: int = 16,
    num_steps: int = 1,
    loss: str = "squared",
    perturbation=0.0,
) -> RegressionOracle:
    """The neural oracle and its logits function ``(params, eps, x) -> [K]``.

    Prediction of arm a's mean reward at context x:

    .. math::

        \\tilde f(x, a) = f_\\theta(x)_a + \\langle \\varepsilon_a, x \\rangle
        \\quad (\\text{squared loss}),\\qquad
        \\sigma(f_\\theta(x)_a + \\langle \\varepsilon_a, x \\rangle)
        \\quad (\\text{KL loss}),

    with ``eps_a ~ N(0, c_p^2 I_d)`` drawn once at ``init`` (``perturbation = c_p``;
    ``c_p = 0`` is the plain network). Training minimises the squared loss
    ``(f~ - y)^2 / 2`` or the KL (binary cross-entropy) loss ``softplus(z) - y z`` of
    the logit ``z`` with ``y`` clipped to [0, 1], on the perturbed prediction, as in
    Deb et al. (2024), Sections 4-5 (the perturbation's exact form and scale there
    are from memory, unverified: we add a fixed random linear function of the
    context).

    Args:
      num_arms: K (network outputs).
      dim: context dimension d.
      widths: hidden layer widths (static).
      learning_rate: Adam step size > 0 (traceable).
      buffer_size: replay buffer capacity B (static).
      batch_size: minibatch size, >= 1 (the newest sample is always in it).
      num_steps: optimiser steps per round (static).
      loss: 'squared' or 'kl'.
      perturbation: c_p >= 0 (traceable).
    """
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dim = check_int(dim, "dim")
    buffer_size = check_int(buffer_size, "buffer_size")
    batch_size = check_int(batch_size, "batch_size")
    num_steps = check_int(num_steps, "num_steps")
    widths = tuple(check_int(w, "width") for w in widths)
    check_positive(learning_rate, "learning_rate")
    check_nonnegative(perturbation, "perturbation")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    net = MLP(widths, num_arms)
    optimizer = optax.adam(learning_rate)

    def logits(params, eps, x):
        return net.apply(params, x) + eps @ x

    def init(key):
        dtype = float_dtype()
        k_net, k_eps = jax.random.split(key)
        params = net.init(k_net, jnp.zeros((dim,), dtype))
        eps = perturbation * jax.random.normal(k_eps, (num_arms, dim), dtype)
        return NeuralOracleState(
            params=params,
            opt_state=optimizer.init(params),
            xs=jnp.zeros((buffer_size, dim), dtype),
            arms=jnp.zeros((buffer_size,), jnp.int32),
            ys=jnp.zeros((buffer_size,), dtype),
            count=jnp.zeros((), jnp.int32),
            batch_u=jnp.zeros((num_steps, batch_size - 1), dtype),
            eps=eps.astype(dtype),
        )

    def predict(state, x):
        z = logits(state.params, state.eps, x)
        return jax.nn.sigmoid(z) if loss == "kl" else z

    def batch_loss(params, eps, xs, arms, ys):
        z = jax.vmap(lambda x, a: logits(params, eps, x)[a])(xs, arms)
        if loss == "kl":
            y = jnp.clip(ys, 0.0, 1.0)
            return jnp.mean(jax.nn.softplus(z) - y * z)
        return 0.5 * jnp.mean((z - ys) ** 2)

    def update(state, x, a, y):
        (xs, arms, ys), pos, count = push_replay(
            (state.xs, state.arms, state.ys), (x, a, y), state.count
        )
        params, opt_state = replay_steps(
            optimizer,
            lambda p, *batch: batch_loss(p, state.eps, *batch),
            (state.params, state.opt_state),
            (xs, arms, ys),
            pos,
            count,
            state.batch_u,
        )
        return state._replace(
            params=params, opt_state=opt_state, xs=xs, arms=arms, ys=ys, count=count
        )

    def sample(key, state):
        u = jax.random.uniform(key, state.batch_u.shape, state.batch_u.dtype)
        return state._replace(batch_u=u)

    # The oracle and its logits function (the gradient-based baselines need it).
    return RegressionOracle(init, predict, update, sample), logits


def neural_oracle(num_arms: int, dim: int, **kwargs) -> RegressionOracle:
    """A flax MLP regression oracle trained online with optax (Adam) on a fixed-size
    replay buffer; keyword arguments and formulas in :func:`_neural_oracle_parts`.
    """
    return _neural_oracle_parts(num_arms, dim, **kwargs)[0]


# --------------------------------------------------------------------------------------
# The perturbed neural regression bandits of Deb et al. (2024).
# --------------------------------------------------------------------------------------


def neu_squarecb(
    num_arms: int, dim: int, *, gamma=100.0, perturbation=0.1, **oracle_kwargs
) -> Learner:
    """NeuSquareCB: SquareCB's inverse gap weighting on a perturbed neural regressor
    trained online with the squared loss.

    .. math::

        p_t = \\mathrm{IGW}_\\gamma(\\tilde f_{\\theta_t}(x_t, \\cdot)),\\quad
        \\theta_{t+1} = \\text{Adam step on } (\\tilde f_\\theta(x_t, a_t) - r_t)^2 / 2.

    Deb et al. (2024) prove ``O(log T)`` online-regression regret for the perturbed
    network and hence ``O~(sqrt(K T))`` bandit regret (their Theorems 4.x / 5.x; numbers
    from memory, unverified). Our online training takes a few Adam steps on a replay
    minibatch per round (see the module docstring) rather than the paper's single
    gradient step on the newest sample.

    References:
      R. Deb, Y. Ban, S. Zuo, J. He and A. Banerjee. Contextual Bandits with Online
      Neural Regression. ICLR 2024.
    """
    oracle = neural_oracle(
        num_arms, dim, loss="squared", perturbation=perturbation, **oracle_kwargs
    )
    return squarecb(num_arms, dim, oracle=oracle, gamma=gamma)


def neu_fastcb(
    num_arms: int, dim: int, *, gamma=100.0, perturbation=0.1, **oracle_kwargs
) -> Learner:
    """NeuFastCB: the first-order (FastCB) weighting on a perturbed neural regressor
    trained online with the KL (binary cross-entropy) loss, outputs ``sigmoid(z)``.

    .. math::

        p_t = \\mathrm{FastCB}_\\gamma(\\sigma(\\tilde z_{\\theta_t}(x_t, \\cdot))),
        \\quad \\ell(z, y) = \\log(1 + e^z) - y z.

    Regret ``O~(sqrt(K L*) + K)`` with ``L*`` the loss of the best policy (Deb et al.
    2024, abstract; theorem number unverified).

    References:
      R. Deb, Y. Ban, S. Zuo, J. He and A. Banerjee. Contextual Bandits with Online
      Neural Regression. ICLR 2024. D. Foster and A. Krishnamurthy. Efficient
      First-Order Contextual Bandits. NeurIPS 2021 (FastCB).
    """
    oracle = neural_oracle(
        num_arms, dim, loss="kl", perturbation=perturbation, **oracle_kwargs
    )
    return squarecb(num_arms, dim, oracle=oracle, gamma=gamma, weighting="fastcb")


# --------------------------------------------------------------------------------------
# NeuralUCB / NeuralTS with a diagonal Gram matrix.
# --------------------------------------------------------------------------------------


class NeuralBanditState(NamedTuple):
    oracle: NeuralOracleState  # the network and its replay buffer
    z_diag: Array  # [P] diagonal of Z = lambda I + sum g g^T


def _neural_index_bandit(
    num_arms: int,
    dim: int,
    *,
    nu,
    reg,
    thompson: bool,
    **oracle_kwargs,
) -> Learner:
    check_nonnegative(nu, "nu")
    check_positive(reg, "reg")
    oracle, logits = _neural_oracle_parts(
        num_arms, dim, loss="squared", **oracle_kwargs
    )

    def grads(params, eps, x):
        """[K, P] gradient of each arm's output w.r.t. all parameters."""
        jac = jax.jacrev(lambda p: logits(p, eps, x))(params)
        leaves = jax.tree.leaves(jac)
        return jnp.concatenate([leaf.reshape(num_arms, -1) for leaf in leaves], axis=1)

    def init(key):
        state = oracle.init(key)
        num_params = ravel_pytree(state.params)[0].shape[0]
        dtype = float_dtype()
        return NeuralBanditState(state, jnp.full((num_params,), reg, dtype))

    def act(key, state, obs):
        _check_obs(obs, dim)
        k_oracle, k_index = jax.random.split(key)
        oracle_state = oracle.sample(k_oracle, state.oracle)
        mean = oracle.predict(oracle_state, obs)
        g = grads(oracle_state.params, oracle_state.eps, obs)
        width = jnp.sqrt(jnp.sum(g**2 / state.z_diag[None], axis=1))
        if thompson:
            k_noise, k_tie = jax.random.split(k_index)
            noise = jax.random.normal(k_noise, (num_arms,), mean.dtype)
            index = mean + nu * width * noise
        else:
            k_tie = k_index
            index = mean + nu * width
        return argmax_tiebreak(k_tie, index), state._replace(oracle=oracle_state)

    def update(state, obs, action, feedback):
        g = grads(state.oracle.params, state.oracle.eps, obs)[action]
        return NeuralBanditState(
            oracle.update(state.oracle, obs, action, feedback), state.z_diag + g**2
        )

    return Learner(init, act, update)


def neural_ucb(num_arms: int, dim: int, *, nu=0.1, reg=1.0, **oracle_kwargs) -> Learner:
    """NeuralUCB with a diagonal approximation of the gradient Gram matrix.

    .. math::

        Z_t = \\lambda I + \\sum_{s < t} g_s g_s^\\top \\ (\\text{diagonal kept}),\\quad
        a_t = \\arg\\max_a f_\\theta(x_t)_a
              + \\nu \\sqrt{g_a^\\top Z_t^{-1} g_a},

    ``g_a = grad_theta f_theta(x_t)_a`` (the 1/m scaling of the paper folded into nu).
    The diagonal Z is the approximation used in the authors' experiments; the
    ``O~(d~ sqrt(T))`` regret (Zhou et al. 2020, Theorem 4.5; number from memory) is
    proved for the full matrix and gradient descent from the initialisation.

    References:
      D. Zhou, L. Li and Q. Gu. Neural Contextual Bandits with UCB-based Exploration.
      ICML 2020. Algorithm 1.
    """
    return _neural_index_bandit(
        num_arms, dim, nu=nu, reg=reg, thompson=False, **oracle_kwargs
    )


def neural_ts(num_arms: int, dim: int, *, nu=0.1, reg=1.0, **oracle_kwargs) -> Learner:
    """NeuralTS with a diagonal Gram matrix: sample each arm's reward
    ``N(f_theta(x_t)_a, nu^2 g_a^T Z_t^{-1} g_a)`` and play the argmax.

    References:
      W. Zhang, D. Zhou, L. Li and Q. Gu. Neural Thompson Sampling. ICLR 2021.
      Algorithm 1 (diagonal Z as in its experiments).
    """
    return _neural_index_bandit(
        num_arms, dim, nu=nu, reg=reg, thompson=True, **oracle_kwargs
    )


def _squarecb_neural(k: int, d: int, n: int) -> Learner:
    return squarecb(k, d, oracle=neural_oracle(k, d), gamma=100.0)


NEURAL_BUILDERS: dict[str, Callable[[int, int, int], Learner]] = {
    "squarecb_neural": _squarecb_neural,
    "neu_squarecb": lambda k, d, n: neu_squarecb(k, d),
    "neu_fastcb": lambda k, d, n: neu_fastcb(k, d),
    "neural_ucb": lambda k, d, n: neural_ucb(k, d),
    "neural_ts": lambda k, d, n: neural_ts(k, d),
}
