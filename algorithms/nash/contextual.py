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

  The regression / contrastive learners of the source papers are network forms of
  the same tabular steps: neural Nash-MD (the online IPO regression onto the Nash-MD
  target, mixture queries; with one-hot prompts, a linear layer and lr ``n / 2`` it
  IS tabular Nash-MD), neural INPO (INPO's pair loss, pairs drawn from the frozen
  iterate; minimiser = the OMD step), neural DNO (DNO's soft-label regression on all
  pairs of K responses sampled on-policy; minimiser on the sampled responses = the
  soft policy-iteration / Nash-MD step) and DNO-Prct (hard winner/loser pairs with
  a margin filter, DPO loss against the previous iterate). See
  :func:`neural_policy`.

References:
  Zhou, Fazel, Du (2025). Extragradient Preference Optimization (EGPO): Beyond
  Last-Iterate Convergence for NLHF. Sec. 5 (equivalent online IPO implementation for
  neural policies) and the neural simulations (section numbers from memory,
  unverified).
  Munos et al. (2023). Nash Learning from Human Feedback. Sec. 5 (Nash-MD), Sec. 7
  (Nash-MD-PG).
  Calandriello et al. (2024). Human Alignment of LLMs through Online Preference
  Optimisation (online IPO).
  Zhang et al. (2024). Iterative Nash Policy Optimization (INPO), Algorithm 1.
  Rosset et al. (2024). Direct Nash Optimization, Algorithms 1 and 2 (DNO, DNO-Prct).
  (Only abstracts / introductions of these papers were readable while writing this
  module: equation and algorithm numbers are from memory, unverified.)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from algorithms.core import (
    Learner,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
)
from algorithms.nash.common import geometric_mixture, normalize_logits
from envs.core import sample_categorical
from envs.games import GameObs, Play

Array = jax.Array

NEURAL_METHODS = (
    "online_ipo_1",
    "egpo",
    "nash_md_pg",
    "nash_md",
    "inpo",
    "dno",
    "dno_prct",
)
# Methods whose update trains on responses the learner sampled itself in ``act``.
SAMPLING_METHODS = ("dno", "dno_prct")


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
    samples: Array  # [K] int32 responses drawn from pi_theta_t(.|c) in act (DNO)


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
    num_samples: int = 8,
    margin=0.0,
    smoothing: bool = True,
) -> Learner:
    """A policy network for contextual preference games, trained with optax.

    Every method takes ``inner_steps`` optax steps per round from the current
    parameters ``theta_t`` (the optimiser state restarts each round: each round is a
    new regression problem) on a loss built from the drawn prompt ``c``, the frozen
    iterate ``pi_t = pi_{theta_t}(.|c)`` and the feedback ``g = P_c q`` (``q`` the
    query; exact, or estimated from sampled comparisons).

    ``method="online_ipo_1"`` (OMD): the online IPO regression loss ``L_t`` (module
    docstring) of the drawn prompt; ``pi_{theta_{t+1}}(.|c) ~ pi_t^{1-eta beta}
    mu^{eta beta} exp(eta P_c pi_t)`` when the minimisation is exact.

    ``method="egpo"``: two rounds per iteration (EGPO, Algorithm 1): round 1 queries
    ``pi_theta_t`` and fits ``theta_{t+1/2}`` to the OMD target from ``theta_t``;
    round 2 queries ``pi_{theta_{t+1/2}}`` (for the prompt drawn then) and fits
    ``theta_{t+1}`` to the OMD target built from ``theta_t`` and the extrapolated
    win rates. Different prompts in the two rounds make it a stochastic extragradient
    step on the prompt-averaged game.

    ``method="nash_md_pg"``: query the geometric mixture ``pi_theta^{1-m} mu^m`` and
    take optax steps on ``-(<pi_theta, g> - beta KL(pi_theta || mu))`` (Munos et al.
    2023, Sec. 7).

    ``method="nash_md"`` (neural Nash-MD): query the geometric mixture
    ``pi_t^mu ~ pi_t^{1 - eta beta} mu^{eta beta}`` (Munos et al. 2023, Eq. (8),
    number from memory, unverified) and regress the logits onto the tabular Nash-MD
    target ``log pi_t^mu + eta P_c pi_t^mu``,

    .. math::
        L_t(\\theta) = \\mathrm{Var}_{y\\sim u}\\big(\\log\\pi_\\theta(y|c)
            - \\log\\pi_t^\\mu(y|c) - \\eta\\,g(y)\\big),

    whose minimisers over all policies are exactly the tabular Nash-MD step
    ``pi_{t+1} ~ pi_t^mu exp(eta P(. > pi_t^mu))`` (Munos et al. 2023, Sec. 5). The
    paper's deep-learning version (Sec. 7) is the policy-gradient form
    (``nash_md_pg``); this is the regression form of the same step, as for OMD. With
    sampled feedback ``g`` compares against responses drawn from ``pi_t^mu``.

    ``method="inpo"`` (neural INPO): query ``pi_t`` and minimise INPO's loss, on
    response pairs drawn on-policy from the frozen iterate,

    .. math::
        \\ell_t(\\theta) = \\tfrac12\\,\\mathbb{E}_{y, y'\\sim\\pi_t}\\Big[\\Big(
            \\log\\frac{\\pi_\\theta(y)}{\\pi_\\theta(y')}
            - (1 - \\eta\\beta)\\log\\frac{\\pi_t(y)}{\\pi_t(y')}
            - \\eta\\beta\\log\\frac{\\mu(y)}{\\mu(y')}
            - \\eta\\big(g(y) - g(y')\\big)\\Big)^2\\Big],

    ``g(y) = P(y > pi_t)``. INPO's own loss regresses on the Bernoulli label
    ``1[y > y'] - 1/2`` of each pair instead of ``g(y) - g(y')``; under product
    sampling ``y, y' ~ pi_t`` the two losses differ by a constant independent of
    ``theta`` (the projection of ``P(y > y') - 1/2`` onto differences
    ``f(y) - f(y')`` is ``P(y > pi_t) - P(y' > pi_t)``), so they have the same
    gradients in expectation. INPO writes the loss divided by ``eta^2`` (the same
    minimiser; the scale is absorbed in the learning rate). Its minimiser over all
    policies is the OMD step ``pi_t^{1-eta beta} mu^{eta beta} exp(eta g)``; unlike
    ``online_ipo_1`` (uniform pairs) the pairs are weighted by ``pi_t``, as in the
    paper, so rarely played responses are fitted slowly.

    ``method="dno"`` (neural DNO, the regression objective of DNO's Algorithm 1, on
    batched on-policy samples): ``act`` draws ``num_samples`` responses
    ``y_1..y_K ~ pi_t(.|c)``; the rewards are the win rates ``r = g`` against the
    query, and the network minimises the binary cross-entropy over all pairs
    ``i < j``

    .. math::
        -\\sigma(r_i - r_j)\\log\\sigma\\Big(\\frac{u_{ij}}{\\eta}\\Big)
        - \\sigma(r_j - r_i)\\log\\sigma\\Big(-\\frac{u_{ij}}{\\eta}\\Big),\\quad
        u_{ij} = \\log\\frac{\\pi_\\theta(y_i)}{\\pi_{\\rm ref}(y_i)}
                - \\log\\frac{\\pi_\\theta(y_j)}{\\pi_{\\rm ref}(y_j)},

    minimised (over the sampled responses) by the soft policy iteration
    ``pi_{t+1} ~ pi_ref exp(eta r)`` (DNO's ``eta`` is ``1 / eta`` here). With
    ``smoothing=False``, ``pi_ref = pi_t`` and the query is ``pi_t``: DNO as
    published, unregularised (the tabular :func:`algorithms.nash.dno`, i.e. Hedge
    self-play). With ``smoothing=True`` (default), DNO's extension to regularised
    preferences: ``pi_ref`` and the query are the geometric mixture ``pi_t^mu``
    (weight ``eta beta``), so the exact minimiser is the Nash-MD step and the fixed
    point is the regularised equilibrium.

    ``method="dno_prct"`` (neural DNO-Prct, DNO's Algorithm 2): the same on-policy
    samples, ranked by their win rates; every pair with ``|r_i - r_j| > margin`` (the
    large-margin filter) becomes a (winner, loser) pair and the network minimises the
    DPO loss ``-log sigma(s_ij u_ij / eta)`` (``s_ij = sign(r_i - r_j)``: the winner's
    log-ratio minus the loser's), with the previous iterate (or its smoothed mixture) as
    the reference. Hard labels carry no magnitude: the loss has no finite minimiser
    and the step is set by ``inner_steps`` and the learning rate; its fixed point is
    not the regularised equilibrium (the pull towards ``mu`` is only through the
    smoothed reference), so expect a bias floor.

    Args:
      num_features: d, the prompt feature dimension.
      num_responses: n.
      method: one of ``NEURAL_METHODS``.
      hidden: hidden layer widths (tanh); ``()`` is a linear policy.
      use_bias: biases in the Dense layers.
      eta: mirror-descent step of the target (traceable). The mixture methods need
        ``eta * beta <= 1`` (a geometric mixture weight); ``beta`` is read from the
        observation at run time, so this is not checked here: above 1 the "mixture"
        extrapolates away from the reference.
      optimizer: ``"adam"`` or ``"sgd"`` (optax).
      learning_rate: optax learning rate (traceable).
      inner_steps: optax steps per round (Python int).
      mixture: Nash-MD-PG's geometric mixture coefficient ``m`` (traceable).
      num_samples: K, responses sampled per round (``dno``, ``dno_prct``).
      margin: DNO-Prct's win-rate margin filter (traceable, ``>= 0``).
      smoothing: DNO with the geometric-mixture reference and query (regularised).

    Returns:
      A :class:`Learner` for :func:`envs.games.contextual_game_env`.

    References:
      Munos, Valko, Calandriello et al. (2023). Nash Learning from Human Feedback.
      Sec. 5 (Nash-MD), Sec. 7 (deep-learning versions).
      Zhang, Yu, Peng et al. (2024). Iterative Nash Policy Optimization: Aligning
      LLMs with General Preferences via No-Regret Learning. Algorithm 1 and its loss
      (equation numbers not verified: only the abstract was readable; the loss is
      reconstructed from the OMD step it is stated to minimise).
      Rosset, Cheng, Mitra, Santacroce, Awadallah, Xie (2024). Direct Nash
      Optimization. Algorithm 1 (DNO, regression objective), Algorithm 2 (DNO-Prct:
      on-policy samples, large-margin pairs, DPO loss against the previous iterate),
      Appendix A (regularised preferences; reconstruction, unverified: only Sec. 3-4
      introductions and the abstract were readable).
    """
    d = check_int(num_features, "num_features")
    n = check_int(num_responses, "num_responses", minimum=2)
    K = check_int(inner_steps, "inner_steps")
    if method not in NEURAL_METHODS:
        raise ValueError(f"method must be one of {NEURAL_METHODS}, got {method!r}")
    check_positive(eta, "eta")
    check_positive(learning_rate, "learning_rate")
    check_nonnegative(margin, "margin")
    hidden = tuple(check_int(w, "hidden width") for w in hidden)
    net = MLPPolicy(n, hidden, use_bias)
    opt = _make_optimizer(optimizer, learning_rate)
    two_rounds = method == "egpo"
    sampling = method in SAMPLING_METHODS
    S = check_int(num_samples, "num_samples", minimum=2) if sampling else 0
    pairs_i, pairs_j = jnp.triu_indices(S, k=1) if sampling else (None, None)
    # Nash-MD's mixture (and smoothed DNO's) has weight eta * beta.
    smoothed = method == "nash_md" or (sampling and smoothing)

    def log_policy(params, features):
        return normalize_logits(net.apply(params, features))

    def init(key):
        params = net.init(key, jnp.zeros((d,), float_dtype()))
        zero = jnp.zeros((), jnp.int32)
        return NeuralPolicyState(params, params, zero, zero, jnp.zeros((S,), jnp.int32))

    def reference_logits(logits, log_mu, beta):
        if smoothed:
            return geometric_mixture(logits, log_mu, eta * beta)
        return logits

    def query_logits(state, obs):
        c = obs.context
        own = log_policy(state.params, obs.features[c])
        if method == "nash_md_pg":
            return geometric_mixture(own, jnp.log(obs.mu[c]), mixture)
        if two_rounds:
            current = jnp.where(state.phase == 0, 1.0, 0.0)
            half = log_policy(state.half, obs.features[c])
            return current * own + (1.0 - current) * half
        return reference_logits(own, jnp.log(obs.mu[c]), obs.beta)

    def act(key, state, obs):
        table = jnp.exp(jax.vmap(lambda f: log_policy(state.params, f))(obs.features))
        q = jnp.exp(query_logits(state, obs))
        if sampling:  # DNO: K on-policy responses y_k ~ pi_t(.|c)
            pi_c = table[obs.context]
            samples = jax.vmap(lambda k: sample_categorical(k, pi_c))(
                jax.random.split(key, S)
            )
            state = state._replace(samples=samples)
        return Play(table, table, q, q), state

    def minimise(loss_fn, start):
        def body(_, carry):
            params, opt_state = carry
            grads = jax.grad(loss_fn)(params)
            updates, opt_state = opt.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state

        params, _ = jax.lax.fori_loop(0, K, body, (start, opt.init(start)))
        return params

    def finish(state, new):
        return state._replace(params=new, half=new, t=state.t + 1)

    def update(state, obs, action, feedback):
        c = obs.context
        feat, log_mu = obs.features[c], jnp.log(obs.mu[c])
        g = feedback.row
        anchor = log_policy(state.params, feat)  # log pi_t(.|c), frozen
        if method == "nash_md_pg":

            def pg_loss(p):
                logp = log_policy(p, feat)
                pi = jnp.exp(logp)
                return -(pi @ g - obs.beta * (pi @ (logp - log_mu)))

            return finish(state, minimise(pg_loss, state.params))

        if sampling:
            ref = reference_logits(anchor, log_mu, obs.beta)
            yi, yj = state.samples[pairs_i], state.samples[pairs_j]  # [K(K-1)/2]
            dr = g[yi] - g[yj]

            def dno_loss(p):
                ratio = log_policy(p, feat) - ref
                z = (ratio[yi] - ratio[yj]) / eta
                if method == "dno":  # Alg. 1: soft labels sigma(r_i - r_j)
                    lab = jax.nn.sigmoid(dr)
                    bce = lab * jax.nn.log_sigmoid(z) + (1 - lab) * jax.nn.log_sigmoid(
                        -z
                    )
                    return -jnp.mean(bce)
                keep = jnp.abs(dr) > margin  # Alg. 2: large margin
                dpo = jax.nn.log_sigmoid(jnp.sign(dr) * z)
                return -jnp.sum(jnp.where(keep, dpo, 0.0)) / jnp.maximum(keep.sum(), 1)

            return finish(state, minimise(dno_loss, state.params))

        if method == "nash_md":
            # Tabular Nash-MD target: log pi_t^mu + eta P(. > pi_t^mu).
            target = reference_logits(anchor, log_mu, obs.beta) + eta * g
        else:
            # OMD target logits (EGPO Eq. (OMD); the online IPO / INPO minimiser).
            target = (1.0 - eta * obs.beta) * anchor + eta * obs.beta * log_mu + eta * g

        if method == "inpo":
            w = jnp.exp(anchor)  # pairs y, y' ~ pi_t (frozen)
            base = target - eta * g  # (1 - eta beta) log pi_t + eta beta log mu

            def inpo_loss(p):
                logp = log_policy(p, feat)
                h = (logp[:, None] - logp[None, :]) - (base[:, None] - base[None, :])
                res = h - eta * (g[:, None] - g[None, :])
                return 0.5 * jnp.sum(w[:, None] * w[None, :] * res**2)

            return finish(state, minimise(inpo_loss, state.params))

        def ipo_loss(p):
            diff = log_policy(p, feat) - target
            return jnp.mean(diff**2) - jnp.mean(diff) ** 2

        new = minimise(ipo_loss, state.params)
        if not two_rounds:
            return finish(state, new)
        first = state.phase == 0
        pick = lambda a, b: jax.tree.map(  # noqa: E731
            lambda u, v: jnp.where(first, u, v), a, b
        )
        return state._replace(
            params=pick(state.params, new),
            half=pick(new, state.half),
            phase=1 - state.phase,
            t=state.t + (1 - state.phase),
        )

    return Learner(init, act, update)
