"""Learners for contextual preference games: tabular (one policy per prompt) and
neural (a flax MLP from prompt features to logits, trained with optax).

The environment (:func:`envs.games.contextual_game_env`) shows a prompt ``c`` per
round in a :class:`envs.games.ContextObs`; the learner's :class:`envs.games.Play`
carries its whole policy table ``x = y = pi(. | c')`` for every prompt ``c'`` ([C, n],
on which the env evaluates the exact duality gaps) and the query for the drawn prompt
([n]); the feedback is the win-rate vector ``g = P_c q`` of that prompt.

* :func:`per_context` turns any learner of this family into a tabular contextual
  learner: an independent copy per prompt, updated when its prompt is drawn.
* :func:`neural_policy` is the policy-network form of Online IPO / OMD, EGPO and
  Nash-MD-PG. OMD and EGPO minimise, by ``inner_steps`` optax steps from the current
  parameters, the online IPO regression loss of the drawn prompt

  .. math::
      L_t(\\theta) = \\tfrac{1}{2}\\,\\mathbb{E}_{y, y' \\sim u}\\Big[\\big(
          h_\\theta(y, y') - h^{\\mathrm{tgt}}_t(y, y')\\big)^2\\Big]
      = \\mathrm{Var}_{y \\sim u}\\big(\\log\\pi_\\theta(y|c) - \\tau_t(y)\\big),

  ``h_theta(y, y') = log pi_theta(y|c) - log pi_theta(y'|c)``, ``u`` uniform over
  responses, ``h^tgt`` the same difference of the mirror-descent target logits
  ``tau_t = (1 - eta beta) log pi_t(.|c) + eta beta log mu_c + eta g`` (EGPO's online
  IPO form of the OMD step: its minimisers over all policies are exactly the tabular
  OMD step). Nash-MD-PG takes optax steps on
  ``-(<pi_theta(.|c), g> - beta KL(pi_theta(.|c) || mu_c))``.

  With one-hot prompt features, a linear layer without bias and SGD, one step of
  learning rate ``n / 2`` on ``L_t`` IS the tabular OMD step (the loss is quadratic in
  the logits with Hessian ``(2/n)(I - 11^T/n)``), and one step of learning rate
  ``eta`` on the Nash-MD-PG loss IS the tabular Nash-MD-PG step; the tests check both.

References:
  Zhou, Fazel, Du (2025). Extragradient Preference Optimization (EGPO): Beyond
  Last-Iterate Convergence for NLHF. Sec. 5 (equivalent online IPO implementation for
  neural policies) and the neural simulations (section numbers from memory,
  unverified).
  Munos et al. (2023). Nash Learning from Human Feedback. Sec. 7 (Nash-MD-PG).
  Calandriello et al. (2024). Human Alignment of LLMs through Online Preference
  Optimisation (online IPO).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from algorithms.core import Learner, check_int, check_positive, float_dtype
from algorithms.nash.common import geometric_mixture, normalize_logits
from envs.games import GameObs, Play

Array = jax.Array

NEURAL_METHODS = ("online_ipo_1", "egpo", "nash_md_pg")


# --------------------------------------------------------------------------------------
# Tabular: one copy of a learner per prompt.
# --------------------------------------------------------------------------------------


def _take(tree, c):
    return jax.tree.map(lambda a: a[c], tree)


def _put(tree, c, sub):
    return jax.tree.map(lambda a, b: a.at[c].set(b), tree, sub)


def per_context(learner: Learner, num_contexts: int) -> Learner:
    """A tabular contextual learner: ``num_contexts`` independent copies of
    ``learner`` (a learner of :mod:`algorithms.nash` for one preference game), the
    copy of prompt ``c`` acting and updating when ``c`` is drawn.

    Each copy sees the game of its prompt, ``GameObs(beta, mu_c, mu_c)``; the action's
    iterate is every copy's iterate (the policy table), its query the drawn copy's.
    Multi-round methods (EGPO) keep their phase per prompt, so an extragradient pair
    of queries is always for the same prompt.
    """
    C = check_int(num_contexts, "num_contexts")

    def inner_obs(obs, c):
        return GameObs(obs.beta, obs.mu[c], obs.mu[c])

    def init(key):
        return jax.vmap(learner.init)(jax.random.split(key, C))

    def act(key, state, obs):
        keys = jax.random.split(key, C)
        plays, states = jax.vmap(lambda k, s, c: learner.act(k, s, inner_obs(obs, c)))(
            keys, state, jnp.arange(C)
        )
        c = obs.context
        action = Play(plays.x, plays.y, plays.qx[c], plays.qy[c])
        return action, _put(state, c, _take(states, c))

    def update(state, obs, action, feedback):
        c = obs.context
        inner_action = Play(action.x[c], action.y[c], action.qx, action.qy)
        new = learner.update(_take(state, c), inner_obs(obs, c), inner_action, feedback)
        return _put(state, c, new)

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Neural: a flax MLP policy trained with optax.
# --------------------------------------------------------------------------------------


class MLPPolicy(nn.Module):
    """Prompt features ``[..., d]`` -> response logits ``[..., n]``.

    ``hidden = ()`` is a linear layer. Hidden activations are tanh scaled by
    ``1/sqrt(width)`` (so the SGD step size does not depend on the width or the
    feature scale). The output layer starts at zero, so the initial policy is uniform
    on every prompt (as the tabular learners start).
    """

    num_responses: int
    hidden: tuple[int, ...] = (64,)
    use_bias: bool = True

    @nn.compact
    def __call__(self, features: Array) -> Array:
        h = features
        dt = features.dtype  # parameters in the input's precision (float64 under x64)
        for width in self.hidden:
            h = jnp.tanh(nn.Dense(width, use_bias=self.use_bias, param_dtype=dt)(h))
            # Output scaling 1/sqrt(width) (NTK-style): |h|^2 <= 1, so a plain SGD
            # step moves the logits by O(learning_rate) whatever the width/features.
            h = h / jnp.sqrt(width)
        return nn.Dense(
            self.num_responses,
            use_bias=self.use_bias,
            kernel_init=nn.initializers.zeros,
            param_dtype=dt,
        )(h)


class NeuralPolicyState(NamedTuple):
    """Network parameters of the iterate and of EGPO's extrapolated point."""

    params: Any  # pytree: theta_t
    half: Any  # pytree: theta_{t+1/2} (EGPO; equal to params otherwise)
    phase: Array  # [] 0: query pi_theta_t; 1: query pi_theta_{t+1/2} (EGPO)
    t: Array  # [] full iterations done


def _make_optimizer(optimizer: str, learning_rate) -> optax.GradientTransformation:
    if optimizer == "sgd":
        return optax.sgd(learning_rate)
    if optimizer == "adam":
        return optax.adam(learning_rate)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")


def neural_policy(
    num_features: int,
    num_responses: int,
    *,
    method: str = "egpo",
    hidden: tuple[int, ...] = (64,),
    use_bias: bool = True,
    eta=0.5,
    optimizer: str = "sgd",
    learning_rate=1.0,
    inner_steps: int = 20,
    mixture=0.125,
) -> Learner:
    """A policy network for contextual preference games, trained with optax.

    ``method="online_ipo_1"`` (OMD / INPO form): each round minimise the online IPO
    regression loss ``L_t`` (module docstring) of the drawn prompt from ``theta_t``;
    ``pi_{theta_{t+1}}(.|c) ~ pi_t^{1-eta beta} mu^{eta beta} exp(eta P_c pi_t)``
    when the minimisation is exact.

    ``method="egpo"``: two rounds per iteration (EGPO, Algorithm 1): round 1 queries
    ``pi_theta_t`` and fits ``theta_{t+1/2}`` to the OMD target from ``theta_t``;
    round 2 queries ``pi_{theta_{t+1/2}}`` (for the prompt drawn then) and fits
    ``theta_{t+1}`` to the OMD target built from ``theta_t`` and the extrapolated
    win rates. Different prompts in the two rounds make it a stochastic extragradient
    step on the prompt-averaged game.

    ``method="nash_md_pg"``: query the geometric mixture
    ``pi_theta^{1-m} mu^m`` and take ``inner_steps`` optax steps on
    ``-(<pi_theta, g> - beta KL(pi_theta || mu))`` (Munos et al. 2023, Sec. 7).

    Every inner minimisation restarts the optimiser state (each round is a new
    regression problem, as in iterative preference optimisation).

    Args:
      num_features: d, the prompt feature dimension.
      num_responses: n.
      method: one of ``NEURAL_METHODS``.
      hidden: hidden layer widths (tanh); ``()`` is a linear policy.
      use_bias: biases in the Dense layers.
      eta: mirror-descent step of the target (traceable).
      optimizer: ``"adam"`` or ``"sgd"`` (optax).
      learning_rate: optax learning rate (traceable).
      inner_steps: optax steps per round (Python int).
      mixture: Nash-MD-PG's geometric mixture coefficient ``m`` (traceable).

    Returns:
      A :class:`Learner` for :func:`envs.games.contextual_game_env`.
    """
    d = check_int(num_features, "num_features")
    n = check_int(num_responses, "num_responses", minimum=2)
    K = check_int(inner_steps, "inner_steps")
    if method not in NEURAL_METHODS:
        raise ValueError(f"method must be one of {NEURAL_METHODS}, got {method!r}")
    check_positive(eta, "eta")
    check_positive(learning_rate, "learning_rate")
    hidden = tuple(check_int(w, "hidden width") for w in hidden)
    net = MLPPolicy(n, hidden, use_bias)
    opt = _make_optimizer(optimizer, learning_rate)
    two_rounds = method == "egpo"

    def log_policy(params, features):
        return normalize_logits(net.apply(params, features))

    def init(key):
        params = net.init(key, jnp.zeros((d,), float_dtype()))
        zero = jnp.zeros((), jnp.int32)
        return NeuralPolicyState(params, params, zero, zero)

    def query_logits(state, obs):
        c = obs.context
        if method == "nash_md_pg":
            return geometric_mixture(
                log_policy(state.params, obs.features[c]), jnp.log(obs.mu[c]), mixture
            )
        if two_rounds:
            current = jnp.where(state.phase == 0, 1.0, 0.0)
            own = log_policy(state.params, obs.features[c])
            half = log_policy(state.half, obs.features[c])
            return current * own + (1.0 - current) * half
        return log_policy(state.params, obs.features[c])

    def act(key, state, obs):
        table = jnp.exp(jax.vmap(lambda f: log_policy(state.params, f))(obs.features))
        q = jnp.exp(query_logits(state, obs))
        return Play(table, table, q, q), state

    def minimise(loss_fn, start):
        def body(_, carry):
            params, opt_state = carry
            grads = jax.grad(loss_fn)(params)
            updates, opt_state = opt.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state

        params, _ = jax.lax.fori_loop(0, K, body, (start, opt.init(start)))
        return params

    def update(state, obs, action, feedback):
        c = obs.context
        feat, log_mu = obs.features[c], jnp.log(obs.mu[c])
        g = feedback.row
        anchor = log_policy(state.params, feat)
        if method == "nash_md_pg":

            def pg_loss(p):
                logp = log_policy(p, feat)
                pi = jnp.exp(logp)
                return -(pi @ g - obs.beta * (pi @ (logp - log_mu)))

            new = minimise(pg_loss, state.params)
            return NeuralPolicyState(new, new, state.phase, state.t + 1)

        # OMD target logits (EGPO Eq. (OMD); the online IPO loss's minimiser).
        target = (1.0 - eta * obs.beta) * anchor + eta * obs.beta * log_mu + eta * g

        def ipo_loss(p):
            diff = log_policy(p, feat) - target
            return jnp.mean(diff**2) - jnp.mean(diff) ** 2

        new = minimise(ipo_loss, state.params)
        if not two_rounds:
            return NeuralPolicyState(new, new, state.phase, state.t + 1)
        first = state.phase == 0
        pick = lambda a, b: jax.tree.map(  # noqa: E731
            lambda u, v: jnp.where(first, u, v), a, b
        )
        return NeuralPolicyState(
            pick(state.params, new),
            pick(new, state.half),
            1 - state.phase,
            state.t + (1 - state.phase),
        )

    return Learner(init, act, update)
