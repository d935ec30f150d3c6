"""Self-play learners for symmetric preference games (one policy plays itself).

Each learner keeps log-probabilities ``logits`` (``[n]``) of its policy ``pi_t``, reads
the regularisation ``(beta, mu)`` from the observation (:class:`envs.games.GameObs`),
acts with a :class:`envs.games.Play` whose iterate is ``(pi_t, pi_t)`` and whose query
is the policy it needs the win-rate vector of, and updates from ``feedback.row`` =
``P q`` (``P(y > q)`` for every response ``y``; exact or estimated from sampled
comparisons). Tabular forms throughout; ``g`` below is that feedback vector.

Theorem, algorithm and equation numbers cited in this module are from memory and
UNVERIFIED (only the papers' abstracts were accessible while writing it); the bounds the
tests check numerically are stated where they are used.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import Learner, check_int, check_positive, float_dtype
from algorithms.nash.common import geometric_mixture, normalize_logits, uniform_logits
from envs.games import Play

Array = jax.Array


class PolicyState(NamedTuple):
    """A tabular policy and the iteration count."""

    logits: Array  # [n] log pi_t (normalised)
    t: Array  # [] iterations done


class EGPOState(NamedTuple):
    """EGPO / extragradient: the iterate, the extrapolated point and the phase."""

    logits: Array  # [n] log pi_t
    half: Array  # [n] log pi_{t+1/2}
    phase: Array  # [] 0: query pi_t; 1: query pi_{t+1/2}
    t: Array  # [] full iterations done


def _init(n: int):
    def init(key):
        return PolicyState(uniform_logits(n), jnp.zeros((), jnp.int32))

    return init


def _play(logits: Array, query_logits: Array) -> Play:
    pi, q = jnp.exp(logits), jnp.exp(query_logits)
    return Play(pi, pi, q, q)


def _md_step(logits, log_mu, beta, eta, g):
    """Eq. (OMD): ``log pi' = (1 - eta beta) log pi + eta beta log mu + eta g``."""
    return normalize_logits((1.0 - eta * beta) * logits + eta * beta * log_mu + eta * g)


def nash_md(num_responses: int, *, eta=0.1, decreasing: bool = False) -> Learner:
    """Nash-MD: mirror descent against the geometric mixture with ``mu``.

    .. math::
        \\pi_t^\\mu \\propto \\pi_t^{1-\\eta\\beta}\\mu^{\\eta\\beta},\\qquad
        \\pi_{t+1} \\propto \\pi_t^\\mu
            \\exp\\big(\\eta\\,P(\\cdot \\succ \\pi_t^\\mu)\\big).

    The query is the mixture ``pi_t^mu`` (sampled feedback compares against responses
    drawn from it, as in the paper). ``decreasing=True`` uses
    ``eta_t = 2 / (beta (t + 2))`` (``eta`` ignored): the recursion in the proof of
    Theorem 1, ``KL_{t+1} <= (1 - eta_t beta) KL_t + 2 eta_t^2``, then gives
    ``KL(pi*, pi_t) <= 8 / (beta^2 (t + 1))`` for ``t >= 1`` by induction (the
    second-order constant 2 is our reading of the proof, unverified). With a constant
    step the last iterate reaches ``O(eta / beta)`` at linear rate ``(1 - eta beta)``.

    Args:
      num_responses: n.
      eta: step size (traceable), ``eta * beta <= 1``.
      decreasing: the ``O(1/t)`` schedule above.

    References:
      Munos, Valko, Calandriello et al. (2023). Nash Learning from Human Feedback.
      Sec. 5 (Nash-MD), Eq. (8) (mixture), Theorem 1 (last-iterate
      ``KL(pi*, pi_T) <= (KL_0 + 2 log T / beta^2) / T`` with ``eta = log T/(beta T)``;
      numbers from memory, unverified).
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    if not decreasing:
        check_positive(eta, "eta")

    def step_size(beta, t):
        tf = t.astype(float_dtype())
        return 2.0 / (beta * (tf + 2.0)) if decreasing else eta

    def act(key, state, obs):
        lr = step_size(obs.beta, state.t)
        mix = geometric_mixture(state.logits, jnp.log(obs.mu_x), lr * obs.beta)
        return _play(state.logits, mix), state

    def update(state, obs, action, feedback):
        lr = step_size(obs.beta, state.t)
        mix = geometric_mixture(state.logits, jnp.log(obs.mu_x), lr * obs.beta)
        logits = normalize_logits(mix + lr * feedback.row)
        return PolicyState(logits, state.t + 1)

    return Learner(_init(n), act, update)


def online_mirror_descent(num_responses: int, *, eta=0.1) -> Learner:
    """Online mirror descent (EGPO's "Online IPO 1"): self-play OMD, query ``pi_t``.

    .. math::
        \\pi_{t+1} \\propto \\pi_t^{1-\\eta\\beta}\\mu^{\\eta\\beta}
        \\exp\\big(\\eta\\,P(\\cdot\\succ\\pi_t)\\big).

    It is the natural-gradient (mirror) step on the online IPO loss
    ``(beta/2) E_{y,y'~pi_t}[(h(y, y') - (P(y>y') - 1/2)/beta)^2]``,
    ``h = log(pi/mu)(y) - log(pi/mu)(y')``, and the closed-form minimiser of INPO's
    loss (Zhang et al. 2024, Eq. (4.x), Lemma: the minimiser is this OMD step; equation
    number unverified). Converges for the regularised game only in the sense of
    no-regret (average iterate); the last iterate need not converge for small
    ``beta`` (EGPO, Sec. 4).

    References:
      Zhou, Fazel, Du (2025). EGPO. Sec. 4 (online IPO, OMD form).
      Zhang, Yu, et al. (2024). Iterative Nash Policy Optimization, Algorithm 1 (INPO).
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    check_positive(eta, "eta")

    def act(key, state, obs):
        return _play(state.logits, state.logits), state

    def update(state, obs, action, feedback):
        logits = _md_step(state.logits, jnp.log(obs.mu_x), obs.beta, eta, feedback.row)
        return PolicyState(logits, state.t + 1)

    return Learner(_init(n), act, update)


def online_ipo_gradient(num_responses: int, *, eta=0.1) -> Learner:
    """EGPO's "Online IPO 2": a plain gradient step in the softmax logits on the
    online IPO loss (samples from the current policy, stop-gradient):

    .. math::
        \\theta_{t+1} = \\theta_t - 2\\eta\\,\\pi_t\\odot\\big(\\beta(r_t - \\langle
        \\pi_t, r_t\\rangle) - (g_t - \\langle\\pi_t, g_t\\rangle)\\big),\\quad
        r_t = \\log(\\pi_t/\\mu),\\ g_t = P\\pi_t,

    the exact gradient of
    ``(beta/2) E_{y,y'~pi_t}[(h_theta(y,y') - (P(y>y')-1/2)/beta)^2]``
    (derivation in the module's tests). Preconditioning by ``1/(2 pi)`` gives
    :func:`online_mirror_descent`.

    References:
      Zhou, Fazel, Du (2025). EGPO, Sec. 4 and 6; Calandriello et al. (2024). Human
      Alignment of LLMs through Online Preference Optimisation (online IPO).
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    check_positive(eta, "eta")

    def act(key, state, obs):
        return _play(state.logits, state.logits), state

    def update(state, obs, action, feedback):
        pi = jnp.exp(state.logits)
        r = state.logits - jnp.log(obs.mu_x)
        g = feedback.row
        grad = 2.0 * pi * (obs.beta * (r - pi @ r) - (g - pi @ g))
        return PolicyState(normalize_logits(state.logits - eta * grad), state.t + 1)

    return Learner(_init(n), act, update)


def egpo(num_responses: int, *, eta=0.5) -> Learner:
    """Extragradient preference optimisation (EGPO), tabular; two rounds per iteration.

    .. math::
        \\pi_{t+1/2} \\propto \\pi_t^{1-\\eta\\beta}\\mu^{\\eta\\beta}
            \\exp(\\eta P\\pi_t),\\qquad
        \\pi_{t+1} \\propto \\pi_t^{1-\\eta\\beta}\\mu^{\\eta\\beta}
            \\exp(\\eta P\\pi_{t+1/2}).

    Round 1 queries ``pi_t``, round 2 queries ``pi_{t+1/2}``; both rounds are evaluated
    at ``pi_t``. Last-iterate linear convergence,
    ``KL(pi*, pi_T) <= (1 - eta beta)^T KL(pi*, pi_0)`` for
    ``eta <= 1 / (beta + 2 max|P|)`` (the entropy-regularised extragradient bound of Cen
    et al. 2021, Theorem 1, that EGPO's Theorem 1 builds on; constants from memory,
    unverified; checked numerically in the tests). With sampled feedback the same
    update uses unbiased win-rate estimates.

    References:
      Zhou, Fazel, Du (2025). Extragradient Preference Optimization (EGPO): Beyond
      Last-Iterate Convergence for NLHF. Algorithm 1, Theorem 1.
      Cen, Wei, Chi (2021). Fast Policy Extragradient Methods for Competitive Games
      with Entropy Regularization. Theorem 1.
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    check_positive(eta, "eta")

    def init(key):
        zero = jnp.zeros((), jnp.int32)
        return EGPOState(uniform_logits(n), uniform_logits(n), zero, zero)

    def act(key, state, obs):
        query = jnp.where(state.phase == 0, state.logits, state.half)
        return _play(state.logits, query), state

    def update(state, obs, action, feedback):
        new = _md_step(state.logits, jnp.log(obs.mu_x), obs.beta, eta, feedback.row)
        first = state.phase == 0
        return EGPOState(
            jnp.where(first, state.logits, new),
            jnp.where(first, new, state.half),
            1 - state.phase,
            state.t + (1 - state.phase),
        )

    return Learner(init, act, update)


def magnetic_mirror_descent(num_responses: int, *, eta=0.5) -> Learner:
    """Magnetic mirror descent (MMD) with negative entropy, magnet ``mu``, self-play.

    .. math::
        \\pi_{t+1} \\propto \\big(\\pi_t\\,\\mu^{\\eta\\beta}\\big)^{1/(1+\\eta\\beta)}
        \\exp\\Big(\\frac{\\eta}{1+\\eta\\beta} P\\pi_t\\Big).

    Linear last-iterate convergence to the regularised equilibrium for small enough
    ``eta`` (Sokota et al. 2023, Theorem 3.4, number from memory, unverified); the
    basis of MPO (Wang et al. 2024).

    References:
      Sokota, D'Orazio, Kolter et al. (2023). A Unified Approach to Reinforcement
      Learning, Quantal Response Equilibria, and Two-Player Zero-Sum Games. Eq. (MMD).
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    check_positive(eta, "eta")

    def act(key, state, obs):
        return _play(state.logits, state.logits), state

    def update(state, obs, action, feedback):
        eb = eta * obs.beta
        logits = (state.logits + eb * jnp.log(obs.mu_x) + eta * feedback.row) / (1 + eb)
        return PolicyState(normalize_logits(logits), state.t + 1)

    return Learner(_init(n), act, update)


def nash_md_pg(num_responses: int, *, eta=1.0, mixture=0.125) -> Learner:
    """Nash-MD-PG: a policy-gradient step in the softmax logits on the regularised
    preference against the geometric mixture ``pi^{1-m} mu^m``:

    .. math::
        \\theta_{t+1} = \\theta_t + \\eta\\,\\pi_t\\odot\\Big((g_t - \\langle\\pi_t,
        g_t\\rangle) - \\beta\\big(\\log\\tfrac{\\pi_t}{\\mu} - \\mathrm{KL}(\\pi_t\\|
        \\mu)\\big)\\Big),\\quad g_t = P\\pi_t^{\\mu},

    the exact gradient of ``P(pi_theta > pi_t^mu) - beta KL(pi_theta || mu)`` (the
    REINFORCE estimate's expectation; with sampled feedback ``g`` is estimated).

    References:
      Munos, Valko, Calandriello et al. (2023). Nash Learning from Human Feedback.
      Sec. 7 (Nash-MD-PG), mixture coefficient as a hyperparameter.
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    check_positive(eta, "eta")

    def act(key, state, obs):
        mix = geometric_mixture(state.logits, jnp.log(obs.mu_x), mixture)
        return _play(state.logits, mix), state

    def update(state, obs, action, feedback):
        pi = jnp.exp(state.logits)
        g = feedback.row
        r = state.logits - jnp.log(obs.mu_x)
        grad = pi * ((g - pi @ g) - obs.beta * (r - pi @ r))
        return PolicyState(normalize_logits(state.logits + eta * grad), state.t + 1)

    return Learner(_init(n), act, update)


def spo(num_responses: int, *, eta=0.1) -> Learner:
    """Self-play preference optimisation (SPO): Hedge self-play on win-rate rewards
    ``r_t(y) = P(y > pi_t)`` (unregularised; ``beta`` is ignored):

    .. math:: \\pi_{t+1} \\propto \\pi_t\\exp(\\eta\\,P\\pi_t).

    The average iterate converges to the minimax winner at rate
    ``O(sqrt(log n / T))`` (regret of Hedge; SPO, Theorem 2.3, number unverified); the
    last iterate cycles on intransitive games.

    References:
      Swamy, Dann, Kidambi, Wu, Agarwal (2024). A Minimaximalist Approach to
      Reinforcement Learning from Human Feedback. Algorithm 1 with Hedge as the
      no-regret learner.
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    check_positive(eta, "eta")

    def act(key, state, obs):
        return _play(state.logits, state.logits), state

    def update(state, obs, action, feedback):
        logits = normalize_logits(state.logits + eta * feedback.row)
        return PolicyState(logits, state.t + 1)

    return Learner(_init(n), act, update)


def dno(num_responses: int, *, kl_strength=2.0) -> Learner:
    """Direct Nash Optimisation (DNO), tabular: each iteration regresses onto the soft
    policy-iteration target for the on-policy win rates ``r_t(y) = P(y > pi_t)``,

    .. math::
        \\pi_{t+1} = \\arg\\max_\\pi\\ \\mathbb{E}_{y\\sim\\pi}[r_t(y)] - \\eta\\,
        \\mathrm{KL}(\\pi\\|\\pi_t) \\propto \\pi_t\\exp(r_t/\\eta),

    which is the exact minimiser of DNO's regression objective for a tabular policy.
    In this form it coincides with :func:`spo` (Hedge) at step ``1/eta``; the papers
    differ in their LLM instantiations, not here.

    References:
      Rosset, Cheng, Mitra, Santacroce, Awadallah, Xie (2024). Direct Nash
      Optimization. Algorithm 1 (idealised DNO), Eq. (soft policy iteration).
    """
    n = check_int(num_responses, "num_responses", minimum=2)
    check_positive(kl_strength, "kl_strength")

    def act(key, state, obs):
        return _play(state.logits, state.logits), state

    def update(state, obs, action, feedback):
        logits = normalize_logits(state.logits + feedback.row / kl_strength)
        return PolicyState(logits, state.t + 1)

    return Learner(_init(n), act, update)
