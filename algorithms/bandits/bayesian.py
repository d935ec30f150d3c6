r"""Bayesian multi-armed bandits: Thompson sampling (Beta and Gaussian) and Bayes-UCB.

Every learner follows :mod:`algorithms.core`: ``obs`` is ``()``, the action is an int32
arm index, the feedback is the pulled arm's reward. Learners are written for one seed;
the runner ``vmap`` s.

**Rewards in [0, 1] that are not binary.** The Beta learners
(:func:`thompson_sampling`, :func:`bayes_ucb`) keep the *fractional-count* posterior
:math:`\mathrm{Beta}(\alpha_0 + S_i, \beta_0 + N_i - S_i)`, where ``S_i`` is the sum of
arm ``i``'s rewards and ``N_i`` its pulls. For Bernoulli rewards this is the exact
conjugate posterior. Agrawal and Goyal (2012, Algorithm 2) instead feed a fresh
Bernoulli(r) coin to the exact posterior; that coin would need randomness in ``update``,
which the protocol keeps deterministic, so we use the fractional update (the same
posterior mean, a smaller variance; their Theorem 1 is proved for the Bernoulli-coin
version only). Rewards are clipped to [0, 1] so the posterior parameters stay positive
on any environment.

**Fixed-cost Beta sampling.** ``jax.random.beta`` draws two Gamma variables with a
rejection *while-loop*; under ``vmap`` every lane waits for the slowest one. Thompson
sampling draws ``Beta(a, b) = sigmoid(log G_a - log G_b)`` with each Gamma variable
from a fixed number of Marsaglia-Tsang proposals (:mod:`algorithms.sampling`, where the
exactness bound is), and only needs the argmax, so it compares the logits
``log G_a - log G_b``.

The pure helpers (:func:`gaussian_posterior`, :func:`beta_upper_quantile`, and
:func:`~algorithms.sampling.beta_sample`, :func:`~algorithms.sampling.log_gamma_sample`
re-exported) are exported for tests and plots.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import betainc, gammaln, ndtri

from algorithms.core import (
    Array,
    Key,
    Learner,
    argmax_tiebreak,
    check_int,
    check_no_obs,
    check_nonnegative,
    check_positive,
    float_dtype,
    is_concrete,
)
from algorithms.sampling import (
    NUM_GAMMA_PROPOSALS,
    _beta_logit_sample,
    beta_sample,
    log_gamma_sample,
)

__all__ = [
    "BayesUCBState",
    "GaussianThompsonSamplingState",
    "NUM_GAMMA_PROPOSALS",
    "ThompsonSamplingState",
    "bayes_ucb",
    "beta_sample",
    "beta_upper_quantile",
    "gaussian_posterior",
    "gaussian_thompson_sampling",
    "log_gamma_sample",
    "thompson_sampling",
]

# --------------------------------------------------------------------------------------
# Beta-Bernoulli Thompson sampling.
# --------------------------------------------------------------------------------------


class ThompsonSamplingState(NamedTuple):
    """State of :func:`thompson_sampling`: the Beta posterior of every arm."""

    alpha: Array  # [K] prior_alpha + sum of rewards
    beta: Array  # [K] prior_beta + sum of (1 - reward)


def _beta_posterior_update(state, action: Array, reward: Array):
    """``alpha[a] += r``, ``beta[a] += 1 - r`` with r clipped to [0, 1].

    Through a one-hot mask, not ``x.at[action]``, which under ``vmap`` is a batched
    scatter (slow on CPU); the sums are the same floats.
    """
    reward = jnp.clip(jnp.asarray(reward, state.alpha.dtype), 0.0, 1.0)
    pulled = jnp.arange(state.alpha.shape[-1]) == action
    return state._replace(
        alpha=jnp.where(pulled, state.alpha + reward, state.alpha),
        beta=jnp.where(pulled, state.beta + (1.0 - reward), state.beta),
    )


def thompson_sampling(
    num_arms: int,
    *,
    prior_alpha=1.0,
    prior_beta=1.0,
    num_proposals: int = NUM_GAMMA_PROPOSALS,
) -> Learner:
    r"""Beta-Bernoulli Thompson sampling: pull the arm whose posterior draw is largest.

    .. math::

        \theta_i \sim \mathrm{Beta}(\alpha_i, \beta_i), \qquad
        A_t = \arg\max_i \theta_i, \qquad
        \alpha_{A_t} \mathrel{+}= r_t, \quad \beta_{A_t} \mathrel{+}= 1 - r_t,

    from :math:`\alpha_i = \alpha_0`, :math:`\beta_i = \beta_0`. Rewards in [0, 1] that
    are not binary update the posterior fractionally (module docstring). The draws come
    from :func:`beta_sample`'s fixed-cost sampler; ties have probability zero.

    Args:
      num_arms: K (static).
      prior_alpha: :math:`\alpha_0 > 0` (traceable); 1 with ``prior_beta = 1`` is the
        uniform prior of the papers.
      prior_beta: :math:`\beta_0 > 0` (traceable).
      num_proposals: Marsaglia-Tsang proposals per Gamma draw (static; see
        :func:`log_gamma_sample`: 4 keeps every draw within total variation 1.1e-7 of
        exact once the posterior parameters are >= 1; 3 costs 22% fewer random words
        for 6.1e-6).

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`ThompsonSamplingState`.

    References:
      Thompson, "On the Likelihood that One Unknown Probability Exceeds Another in View
      of the Evidence of Two Samples", Biometrika 25, 1933.
      Agrawal and Goyal, "Analysis of Thompson Sampling for the Multi-armed Bandit
      Problem", COLT 2012, Algorithm 1 (Bernoulli rewards) and Algorithm 2 (rewards in
      [0, 1]); Theorem 1: :math:`O\big((\sum_{i} 1/\Delta_i^2)^2 \ln T\big)` regret.
      Kaufmann, Korda and Munos, "Thompson Sampling: An Asymptotically Optimal
      Finite-Time Analysis", ALT 2012, Theorem 1: with the uniform prior,
      :math:`\mathbb{E}[N_i(T)] \le (1 + \epsilon) \ln T / \mathrm{kl}(\mu_i, \mu^*)
      + o(\ln T)`, matching the Lai-Robbins lower bound.
    """
    num_arms = check_int(num_arms, "num_arms")
    check_positive(prior_alpha, "prior_alpha")
    check_positive(prior_beta, "prior_beta")
    num_proposals = check_int(num_proposals, "num_proposals")

    def init(key: Key) -> ThompsonSamplingState:
        del key
        dtype = float_dtype()
        return ThompsonSamplingState(
            alpha=jnp.full((num_arms,), prior_alpha, dtype),
            beta=jnp.full((num_arms,), prior_beta, dtype),
        )

    def act(key: Key, state: ThompsonSamplingState, obs):
        check_no_obs(obs)
        logits = _beta_logit_sample(key, state.alpha, state.beta, num_proposals)
        return jnp.argmax(logits).astype(jnp.int32), state

    def update(state: ThompsonSamplingState, obs, action, reward):
        del obs
        return _beta_posterior_update(state, action, reward)

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Gaussian Thompson sampling.
# --------------------------------------------------------------------------------------


class GaussianThompsonSamplingState(NamedTuple):
    """State of :func:`gaussian_thompson_sampling`: sufficient statistics per arm."""

    counts: Array  # [K] pulls per arm (float)
    sums: Array  # [K] sum of rewards per arm


def gaussian_posterior(
    counts: Array, sums: Array, *, prior_mean=0.0, prior_var=1.0, noise_var=1.0
) -> tuple[Array, Array]:
    r"""Posterior mean and variance of a Gaussian mean with known noise variance.

    .. math::

        \sigma_i^{-2} = \frac{1}{v_0} + \frac{N_i}{\sigma^2}, \qquad
        m_i = \sigma_i^2 \Big(\frac{m_0}{v_0} + \frac{S_i}{\sigma^2}\Big).

    Args:
      counts: ``[K]`` pulls :math:`N_i`.
      sums: ``[K]`` reward sums :math:`S_i`.
      prior_mean: :math:`m_0`.
      prior_var: :math:`v_0 > 0`.
      noise_var: :math:`\sigma^2 > 0`, the reward noise variance.

    Returns:
      ``(mean, var)``, each ``[K]``.
    """
    precision = 1.0 / prior_var + counts / noise_var
    var = 1.0 / precision
    mean = var * (prior_mean / prior_var + sums / noise_var)
    return mean, var


def gaussian_thompson_sampling(
    num_arms: int, *, prior_mean=0.0, prior_var=1.0, noise_var=1.0
) -> Learner:
    r"""Thompson sampling with a Gaussian prior and Gaussian rewards of known variance.

    .. math::

        \theta_i \sim N(m_i, \sigma_i^2), \qquad A_t = \arg\max_i \theta_i,

    with the exact conjugate posterior :math:`(m_i, \sigma_i^2)` of
    :func:`gaussian_posterior`. With the defaults (prior N(0, 1), unit noise) the
    posterior is :math:`N\big(S_i / (N_i + 1), 1 / (N_i + 1)\big)`, Agrawal and Goyal's
    Gaussian Thompson sampling.

    Args:
      num_arms: K (static).
      prior_mean: :math:`m_0` (traceable).
      prior_var: :math:`v_0 > 0` (traceable).
      noise_var: :math:`\sigma^2 > 0`, the assumed reward variance (traceable).

    Returns:
      A :class:`~algorithms.core.Learner` with state
      :class:`GaussianThompsonSamplingState`.

    References:
      Agrawal and Goyal, "Further Optimal Regret Bounds for Thompson Sampling", AISTATS
      2013, Gaussian Thompson sampling (Algorithm 2) and Theorem 1.2 (as numbered in the
      arXiv version 1209.3353): for rewards in [0, 1],
      :math:`\mathbb{E}[R(T)] = O\big(\sum_{i} \ln(T \Delta_i^2) / \Delta_i\big)` and
      :math:`O(\sqrt{N T \ln N})` for N arms.
    """
    num_arms = check_int(num_arms, "num_arms")
    check_positive(prior_var, "prior_var")
    check_positive(noise_var, "noise_var")

    def init(key: Key) -> GaussianThompsonSamplingState:
        del key
        zeros = jnp.zeros((num_arms,), float_dtype())
        return GaussianThompsonSamplingState(counts=zeros, sums=zeros)

    def act(key: Key, state: GaussianThompsonSamplingState, obs):
        check_no_obs(obs)
        mean, var = gaussian_posterior(
            state.counts,
            state.sums,
            prior_mean=prior_mean,
            prior_var=prior_var,
            noise_var=noise_var,
        )
        noise = jax.random.normal(key, (num_arms,), state.sums.dtype)
        return jnp.argmax(mean + jnp.sqrt(var) * noise).astype(jnp.int32), state

    def update(state: GaussianThompsonSamplingState, obs, action, reward):
        del obs
        reward = jnp.asarray(reward, state.sums.dtype)
        pulled = jnp.arange(num_arms) == action  # a mask, not a batched scatter
        return GaussianThompsonSamplingState(
            counts=state.counts + pulled,
            sums=jnp.where(pulled, state.sums + reward, state.sums),
        )

    return Learner(init, act, update)


# --------------------------------------------------------------------------------------
# Bayes-UCB.
# --------------------------------------------------------------------------------------


def beta_upper_quantile(
    alpha: Array, beta: Array, tail_prob: Array, *, num_iters: int | None = None
) -> Array:
    r"""The point :math:`q` with :math:`P(X > q) = \delta` for :math:`X \sim
    \mathrm{Beta}(\alpha, \beta)`, by safeguarded Newton steps.

    The upper tail is evaluated as :math:`F(q) = I_{1-q}(\beta, \alpha)` (=
    :math:`1 - I_q(\alpha, \beta)`, DLMF 8.17.4) so small tail probabilities keep their
    relative precision (``1 - I_q`` would round to multiples of 6e-8 in float32).

    **Method.** Newton's method on :math:`g = \log F - \log \delta` as a function of
    :math:`y = -\log(1 - q)`, decreasing with :math:`dg/dy = -p(q)(1 - q) / F(q)` (``p``
    the Beta density); in y the step is exact at once for :math:`\alpha = 1`, where
    :math:`\log F = -\beta y`. It starts from the normal
    approximation :math:`\mu + z_{1-\delta} \sigma` of the quantile and keeps a bracket
    ``[lo, hi]`` (initially [0, 1]) that every evaluation of ``F`` shrinks; a Newton
    step leaving the bracket (or undefined, when ``F`` underflows) is replaced by
    bisection, so the iteration always converges. ``betainc`` is the expensive call
    (~240 ns per element on CPU): Newton needs ``num_iters`` of them (default 8 in
    float32, 16 in float64) where bisection to the same precision needs 25 / 54.

    Accuracy is limited by ``betainc`` itself: in float32, for posteriors of ``>= 1e4``
    pulls its log-gamma prefactor loses digits and the quantile is off by up to
    ~1e-4 (< 0.2 posterior standard deviations); under ``jax_enable_x64`` it agrees
    with a float64 reference to ~1e-9 (tests).

    Args:
      alpha, beta: ``[...]`` Beta parameters > 0.
      tail_prob: :math:`\delta`, broadcastable; ``>= 1`` gives 0.
      num_iters: Newton steps (static); default 8 (float32) or 16 (float64).

    Returns:
      ``[...]`` quantiles :math:`Q(1 - \delta; \alpha, \beta)`.
    """
    alpha, beta = jnp.broadcast_arrays(alpha, beta)
    dtype = jnp.result_type(alpha, float)
    alpha, beta = alpha.astype(dtype), beta.astype(dtype)
    tail_prob = jnp.broadcast_to(jnp.asarray(tail_prob, dtype), alpha.shape)
    if num_iters is None:
        num_iters = 16 if dtype == jnp.float64 else 8
    tiny = jnp.finfo(dtype).tiny
    eps = jnp.finfo(dtype).eps
    safe_tail = jnp.clip(tail_prob, tiny, 1.0)
    log_tail = jnp.log(safe_tail)
    log_norm = gammaln(alpha) + gammaln(beta) - gammaln(alpha + beta)
    total = alpha + beta
    mean = alpha / total
    std = jnp.sqrt(alpha * beta / (total * total * (total + 1.0)))
    # Normal-approximation start, clipped into the open interval.
    start = jnp.clip(mean + ndtri(1.0 - 0.5 * safe_tail) * std, eps, 1.0 - eps)
    start = jnp.where(safe_tail >= 0.5, mean, start)

    def newton(_, carry):
        q, lo, hi = carry
        upper = betainc(beta, alpha, 1.0 - q)  # F(q)
        above = upper > safe_tail  # the quantile is > q
        lo = jnp.where(above, q, lo)
        hi = jnp.where(above, hi, q)
        log_density = (
            (alpha - 1.0) * jnp.log(q) + (beta - 1.0) * jnp.log1p(-q) - log_norm
        )
        step = (jnp.log(jnp.maximum(upper, tiny)) - log_tail) * jnp.exp(
            jnp.log(jnp.maximum(upper, tiny)) - log_density
        )
        # Newton in y = -log(1 - q) (dq/dy = 1 - q): exact in one step when alpha = 1,
        # where log F = beta log(1 - q) is linear in y; then mapped back to q.
        proposal = -jnp.expm1(jnp.log1p(-q) - step / (1.0 - q))
        # Closed bracket: at convergence the step is ~0 and q sits on a bracket end.
        inside = (proposal >= lo) & (proposal <= hi) & jnp.isfinite(proposal)
        q = jnp.where(inside, proposal, 0.5 * (lo + hi))
        return q, lo, hi

    q, _, _ = jax.lax.fori_loop(
        0, num_iters, newton, (start, jnp.zeros_like(alpha), jnp.ones_like(alpha))
    )
    return jnp.where(tail_prob >= 1.0, 0.0, q)


class BayesUCBState(NamedTuple):
    """State of :func:`bayes_ucb`: the Beta posterior of every arm and the round."""

    alpha: Array  # [K] 1 + sum of rewards
    beta: Array  # [K] 1 + sum of (1 - reward)
    num_rounds: Array  # [] int32 rounds played so far


def bayes_ucb(num_arms: int, *, horizon, c=0.0) -> Learner:
    r"""Bayes-UCB for Bernoulli rewards: the arm with the largest posterior quantile.

    At round :math:`t = 1, 2, \ldots`, with the uniform prior and Beta posteriors:

    .. math::

        A_t = \arg\max_i \; Q\Big(1 - \frac{1}{t (\log n)^c};\;
        \mathrm{Beta}(1 + S_i, 1 + N_i - S_i)\Big),

    computed by :func:`beta_upper_quantile`. Ties (all quantiles are 0 at ``t = 1``
    when ``c = 0``) are broken uniformly at random. Rewards in [0, 1] update the
    posterior fractionally (module docstring).

    Args:
      num_arms: K (static).
      horizon: n >= 2, the horizon in the quantile level (traceable; it is not a
        shape). With ``c = 0`` (the paper's recommended practical choice) it has no
        effect.
      c: :math:`c \ge 0` (traceable); Theorem 1 assumes :math:`c \ge 5`.

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`BayesUCBState`.

    References:
      Kaufmann, Cappé and Garivier, "On Bayesian Upper Confidence Bounds for Bandit
      Problems", AISTATS 2012, Algorithm 1 and Theorem 1: for Bernoulli rewards, the
      uniform prior and :math:`c \ge 5`, :math:`\mathbb{E}[N_i(n)] \le (1 + \epsilon)
      \log n / \mathrm{kl}(\mu_i, \mu^*) + o(\log n)`, asymptotically optimal.
    """
    num_arms = check_int(num_arms, "num_arms")
    check_nonnegative(c, "c")
    if is_concrete(horizon) and not bool(jnp.all(jnp.asarray(horizon) >= 2)):
        raise ValueError(f"horizon must be >= 2, got {horizon!r}")

    def init(key: Key) -> BayesUCBState:
        del key
        ones = jnp.ones((num_arms,), float_dtype())
        return BayesUCBState(alpha=ones, beta=ones, num_rounds=jnp.zeros((), jnp.int32))

    def act(key: Key, state: BayesUCBState, obs):
        check_no_obs(obs)
        dtype = state.alpha.dtype
        t = (state.num_rounds + 1).astype(dtype)
        log_horizon = jnp.log(jnp.asarray(horizon, dtype))
        tail_prob = 1.0 / (t * jnp.power(log_horizon, jnp.asarray(c, dtype)))
        quantiles = beta_upper_quantile(state.alpha, state.beta, tail_prob)
        return argmax_tiebreak(key, quantiles), state

    def update(state: BayesUCBState, obs, action, reward):
        del obs
        state = _beta_posterior_update(state, action, reward)
        return state._replace(num_rounds=state.num_rounds + 1)

    return Learner(init, act, update)
