r"""Stochastic multi-armed bandits: explore-then-commit, epsilon-greedy, the index
policies UCB1, UCB-V, MOSS and KL-UCB, and successive elimination.

Every learner follows :mod:`algorithms.core`: ``obs`` is ``()``, the action is an int32
arm index and the feedback is the pulled arm's reward. Learners are written for one
seed; the runner applies ``vmap``.

Conventions shared by the index policies:

* ``t`` in an index is the number of rounds played so far, except for UCB-V, whose paper
  indexes its exploration function by the current round (rounds played so far + 1).
* An arm never pulled has index ``+inf``, so every index policy first pulls each arm
  once, in the order ``0, 1, ..., K - 1``.
* Ties go to the lowest arm index, so every policy but epsilon-greedy is a
  deterministic function of the rewards it has seen and its ``act`` ignores the key.

The pure index functions (:func:`ucb1_index`, :func:`ucb_v_index`, :func:`moss_index`,
:func:`kl_ucb_index`, :func:`elimination_radius`, :func:`epsilon_greedy_rate`) are
exported for tests and plots.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from algorithms.core import (
    Array,
    Key,
    Learner,
    check_in_unit_interval,
    check_int,
    check_no_obs,
    check_nonnegative,
    check_positive,
    float_dtype,
    safe_log,
)

__all__ = [
    "EpsilonGreedyState",
    "ExploreThenCommitState",
    "KLUCBState",
    "MOSSState",
    "SuccessiveEliminationState",
    "UCB1State",
    "UCBVState",
    "elimination_radius",
    "epsilon_greedy",
    "epsilon_greedy_rate",
    "explore_then_commit",
    "kl_ucb",
    "kl_ucb_index",
    "moss",
    "moss_index",
    "successive_elimination",
    "ucb1",
    "ucb1_index",
    "ucb_v",
    "ucb_v_index",
]


# --- Shared pieces -------------------------------------------------------------------


def _zero_stats(num_arms: int) -> tuple[Array, Array]:
    """Per-arm pull counts and reward sums, all zero, in ``float_dtype()``.

    Counts are floats, exact integers up to 2^24 (16.7 million) pulls of one arm in
    float32 (2^53 under x64): integer counts cost a conversion per arm per round, which
    measured 1.8x UCB1's whole round on CPU under ``vmap``.
    """
    return jnp.zeros((num_arms,), float_dtype()), jnp.zeros((num_arms,), float_dtype())


def _one_hot(action: Array, num_arms: int) -> Array:
    """``[K]`` bool mask of the pulled arm.

    Per-arm updates go through this mask and ``jnp.where`` instead of ``x.at[action]``,
    which under ``vmap`` becomes a batched scatter.
    """
    return jnp.arange(num_arms) == action


def _add_reward(counts: Array, sums: Array, action: Array, reward: Array):
    """Counts and sums after arm ``action`` returned ``reward``."""
    pulled = _one_hot(action, counts.shape[0])
    reward = jnp.asarray(reward, sums.dtype)
    return counts + pulled, jnp.where(pulled, sums + reward, sums)


def _empirical_means(sums: Array, counts: Array) -> Array:
    """``sums / counts``; 0 for arms never pulled."""
    return sums / jnp.maximum(counts, 1).astype(sums.dtype)


def _argmax(values: Array) -> Array:
    """Argmax over the last axis, ties to the lowest index, as int32.

    Written as a max and a min over the maximising indices rather than ``jnp.argmax``:
    XLA's CPU backend fuses the index computation into argmax's variadic (value, index)
    reduction and emits it as scalar code (measured 5x slower for KL-UCB's index); two
    plain reductions stay vectorised. Equal to ``jnp.argmax`` on NaN-free input.
    """
    num = values.shape[-1]
    best = jnp.max(values, axis=-1, keepdims=True)
    index = jnp.min(jnp.where(values == best, jnp.arange(num), num), axis=-1)
    return jnp.minimum(index, num - 1).astype(jnp.int32)


def _argmax_simple(values: Array) -> Array:
    """``jnp.argmax`` (ties to the lowest index) as int32.

    Faster than :func:`_argmax` when the index is cheap (UCB1, MOSS, UCB-V: measured
    ~1.3x on the whole round); :func:`_argmax` wins when the index is a long fused
    computation (KL-UCB).
    """
    return jnp.argmax(values, axis=-1).astype(jnp.int32)


def _first_unpulled_or(counts: Array, action: Array) -> Array:
    """The lowest-index arm never pulled if there is one, else ``action``."""
    unpulled = counts == 0
    return jnp.where(jnp.any(unpulled), _argmax(unpulled), action).astype(jnp.int32)


# --- Explore-then-commit -------------------------------------------------------------


class ExploreThenCommitState(NamedTuple):
    """State of :func:`explore_then_commit`."""

    counts: Array  # [K] pulls per arm (float, exact integers)
    sums: Array  # [K] sum of rewards per arm
    committed_arm: Array  # [] int32 empirical best arm at the end of exploration


def explore_then_commit(num_arms: int, *, explore_per_arm=10) -> Learner:
    r"""Explore-then-commit: m round-robin pulls of each arm, then the empirical best.

    .. math::

        A_t = \begin{cases} (t - 1) \bmod K & t \le mK, \\
              \arg\max_i \hat\mu_i(mK) & t > mK, \end{cases}

    with :math:`\hat\mu_i(mK)` arm ``i``'s mean over the exploration phase (frozen at
    round mK; ties to the lowest index).

    Args:
      num_arms: K, the number of arms (static).
      explore_per_arm: m > 0, pulls of each arm before committing; an integer value,
        traceable (a sweep over m is one program). For two 1-subgaussian arms with gap
        Delta, Lattimore and Szepesvári (2020), Eq. (6.5), take
        ``m = max(1, ceil(4 / Delta**2 * log(n * Delta**2 / 4)))``; the default 10 is
        only a placeholder.

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`ExploreThenCommitState`.

    References:
      Lattimore and Szepesvári, "Bandit Algorithms", Cambridge University Press, 2020,
      Algorithm 1 (Chapter 6). Theorem 6.1: for 1-subgaussian arms,
      :math:`R_n \le m \sum_i \Delta_i
      + (n - mK) \sum_i \Delta_i \exp(-m \Delta_i^2 / 4)`.
    """
    num_arms = check_int(num_arms, "num_arms")
    check_positive(explore_per_arm, "explore_per_arm")

    def init(key: Key) -> ExploreThenCommitState:
        del key
        counts, sums = _zero_stats(num_arms)
        return ExploreThenCommitState(counts, sums, jnp.zeros((), jnp.int32))

    def act(key: Key, state: ExploreThenCommitState, obs):
        del key
        check_no_obs(obs)
        t = jnp.sum(state.counts)  # rounds played so far
        exploring = t < num_arms * explore_per_arm
        action = jnp.where(exploring, t % num_arms, state.committed_arm)
        return action.astype(jnp.int32), state

    def update(state: ExploreThenCommitState, obs, action, reward):
        del obs
        counts, sums = _add_reward(state.counts, state.sums, action, reward)
        # The empirical best is tracked during exploration and frozen after round mK.
        exploring = jnp.sum(counts) <= num_arms * explore_per_arm
        best = _argmax(_empirical_means(sums, counts))
        committed = jnp.where(exploring, best, state.committed_arm)
        return ExploreThenCommitState(counts, sums, committed.astype(jnp.int32))

    return Learner(init, act, update)


# --- Epsilon-greedy ------------------------------------------------------------------


class EpsilonGreedyState(NamedTuple):
    """State of :func:`epsilon_greedy`."""

    counts: Array  # [K] pulls per arm (float, exact integers)
    sums: Array  # [K] sum of rewards per arm


def epsilon_greedy_rate(t, num_arms: int, *, epsilon, decay: bool, c, d) -> Array:
    r"""Exploration probability of :func:`epsilon_greedy` in round ``t`` (1-based).

    ``epsilon`` when ``decay`` is False, else :math:`\min\{1, cK / (d^2 t)\}`.
    """
    if decay:
        t = jnp.maximum(jnp.asarray(t, float_dtype()), 1.0)
        return jnp.minimum(1.0, c * num_arms / (d * d * t))
    return jnp.asarray(epsilon, float_dtype())


def epsilon_greedy(
    num_arms: int, *, epsilon=0.1, decay: bool = False, c=5.0, d=0.1
) -> Learner:
    r"""Epsilon-greedy: a uniform random arm with probability eps_t, else the greedy.

    After one pull of each arm (in index order), in round ``t`` (1-based):

    .. math::

        A_t = \begin{cases} \text{uniform on } \{1, \dots, K\}
                  & \text{with probability } \varepsilon_t, \\
              \arg\max_i \hat\mu_i & \text{otherwise}, \end{cases}
        \qquad
        \varepsilon_t = \begin{cases} \varepsilon & \text{constant}, \\
              \min\{1, cK / (d^2 t)\} & \text{decay } (\varepsilon_n\text{-GREEDY}).
              \end{cases}

    ``act`` splits its key once into (explore?, which arm) and draws both every round.

    Args:
      num_arms: K (static).
      epsilon: constant exploration probability in [0, 1] (traceable); unused when
        ``decay``.
      decay: static Python bool; True selects the schedule of Auer et al. (2002).
      c: schedule constant > 0 (traceable). Theorem 3's bound is O(c / (d^2 t)) "for c
        large enough (e.g. c > 5)"; default 5.
      d: schedule constant, 0 < d <= the smallest gap (traceable); default 0.1.

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`EpsilonGreedyState`.

    References:
      Auer, Cesa-Bianchi and Fischer, "Finite-time Analysis of the Multiarmed Bandit
      Problem", Machine Learning 47, 2002, Figure 2 (epsilon_n-GREEDY) and Theorem 3:
      for 0 < d <= min_i Delta_i the probability of pulling a suboptimal arm after
      n >= cK/d rounds is O(c / (d^2 n)) (c large enough), hence O(log n) regret. With
      a constant epsilon every round costs at least (epsilon / K) sum_i Delta_i: linear
      regret.
    """
    num_arms = check_int(num_arms, "num_arms")
    if not isinstance(decay, bool):
        raise ValueError(f"decay must be a Python bool (it is static), got {decay!r}")
    check_in_unit_interval(epsilon, "epsilon")
    check_positive(c, "c")
    check_positive(d, "d")

    def init(key: Key) -> EpsilonGreedyState:
        del key
        return EpsilonGreedyState(*_zero_stats(num_arms))

    def act(key: Key, state: EpsilonGreedyState, obs):
        check_no_obs(obs)
        key_explore, key_arm = jax.random.split(key)
        t = jnp.sum(state.counts) + 1  # the current round, 1-based (n in the paper)
        rate = epsilon_greedy_rate(t, num_arms, epsilon=epsilon, decay=decay, c=c, d=d)
        explore = jax.random.uniform(key_explore, (), rate.dtype) < rate
        random_arm = jax.random.randint(key_arm, (), 0, num_arms, jnp.int32)
        greedy_arm = _argmax(_empirical_means(state.sums, state.counts))
        action = jnp.where(explore, random_arm, greedy_arm)
        return _first_unpulled_or(state.counts, action), state

    def update(state: EpsilonGreedyState, obs, action, reward):
        del obs
        counts, sums = _add_reward(state.counts, state.sums, action, reward)
        return EpsilonGreedyState(counts, sums)

    return Learner(init, act, update)


# --- UCB1 ----------------------------------------------------------------------------


class UCB1State(NamedTuple):
    """State of :func:`ucb1`."""

    counts: Array  # [K] pulls per arm (float, exact integers)
    sums: Array  # [K] sum of rewards per arm


def ucb1_index(sums: Array, counts: Array, t, alpha=2.0) -> Array:
    r"""UCB1 indices :math:`\hat\mu_a + \sqrt{\alpha \ln t / N_a}`, +inf where N_a = 0.

    Args:
      sums: ``[K]`` reward sums.
      counts: ``[K]`` pulls per arm.
      t: rounds played so far (``sum(counts)``).
      alpha: exploration scale (2 in Auer et al. 2002).

    Returns:
      ``[K]`` indices.
    """
    dtype = jnp.result_type(sums, float)
    n = jnp.asarray(counts).astype(dtype)
    safe_n = jnp.maximum(n, 1.0)
    log_t = jnp.log(jnp.maximum(jnp.asarray(t, dtype), 1.0))
    index = sums / safe_n + jnp.sqrt(alpha * log_t / safe_n)
    return jnp.where(n > 0, index, jnp.inf)


def ucb1(num_arms: int, *, alpha=2.0) -> Learner:
    r"""UCB1: the arm with the largest upper confidence bound.

    After one pull of each arm, with ``t`` the number of rounds played so far:

    .. math::

        A_{t+1} = \arg\max_a \; \hat\mu_a(t) + \sqrt{\frac{\alpha \ln t}{N_a(t)}} .

    Args:
      num_arms: K (static).
      alpha: exploration scale > 0 (traceable); alpha = 2 is the paper's UCB1.

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`UCB1State`.

    References:
      Auer, Cesa-Bianchi and Fischer, "Finite-time Analysis of the Multiarmed Bandit
      Problem", Machine Learning 47, 2002, Figure 1 (UCB1) and Theorem 1: for rewards
      in [0, 1] and alpha = 2,
      :math:`R_n \le \sum_{a: \Delta_a > 0} 8 \ln n / \Delta_a
      + (1 + \pi^2 / 3) \sum_a \Delta_a`.
    """
    num_arms = check_int(num_arms, "num_arms")
    check_positive(alpha, "alpha")

    def init(key: Key) -> UCB1State:
        del key
        return UCB1State(*_zero_stats(num_arms))

    def act(key: Key, state: UCB1State, obs):
        del key
        check_no_obs(obs)
        t = jnp.sum(state.counts)
        return _argmax_simple(ucb1_index(state.sums, state.counts, t, alpha)), state

    def update(state: UCB1State, obs, action, reward):
        del obs
        return UCB1State(*_add_reward(state.counts, state.sums, action, reward))

    return Learner(init, act, update)


# --- UCB-V ---------------------------------------------------------------------------


class UCBVState(NamedTuple):
    """State of :func:`ucb_v`: Welford's running moments (no cancellation)."""

    counts: Array  # [K] pulls per arm (float, exact integers)
    means: Array  # [K] empirical means
    sq_dev_sums: Array  # [K] sum of squared deviations from the mean (Welford's M2)


def ucb_v_index(
    means: Array, variances: Array, counts: Array, t, zeta=1.2, c=1.0, b=1.0
) -> Array:
    r"""UCB-V indices :math:`\bar X + \sqrt{2 V E / s} + 3 c b E / s`, E = zeta ln t.

    Args:
      means: ``[K]`` empirical means.
      variances: ``[K]`` empirical variances, normalised by 1/s.
      counts: ``[K]`` pulls per arm (s); an arm never pulled has index +inf.
      t: the current round, 1-based (rounds played so far + 1).
      zeta: exploration constant.
      c: scale of the range term.
      b: rewards lie in [0, b].

    Returns:
      ``[K]`` indices.
    """
    dtype = jnp.result_type(means, float)
    s = jnp.asarray(counts).astype(dtype)
    safe_s = jnp.maximum(s, 1.0)
    exploration = zeta * jnp.log(jnp.maximum(jnp.asarray(t, dtype), 1.0))  # E_t
    bonus = jnp.sqrt(2.0 * jnp.maximum(variances, 0.0) * exploration / safe_s)
    index = means + bonus + 3.0 * c * b * exploration / safe_s
    return jnp.where(s > 0, index, jnp.inf)


def ucb_v(num_arms: int, *, zeta=1.2, c=1.0, b=1.0) -> Learner:
    r"""UCB-V: an upper confidence bound from an empirical Bernstein inequality.

    After one pull of each arm, in round ``t`` (1-based), with ``s = T_k(t - 1)`` pulls,
    empirical mean :math:`\bar X_{k,s}` and variance
    :math:`V_{k,s} = \frac1s \sum_{j \le s} (X_{k,j} - \bar X_{k,s})^2`:

    .. math::

        B_{k,s,t} = \bar X_{k,s} + \sqrt{\frac{2 V_{k,s} \mathcal E_t}{s}}
                    + c \, \frac{3 b \, \mathcal E_t}{s},
        \qquad \mathcal E_t = \zeta \log t .

    Args:
      num_arms: K (static).
      zeta: exploration constant > 0 (traceable); the regret bound needs zeta > 1.
      c: scale of the range term > 0 (traceable); c = 1 in the regret bound.
      b: rewards lie in [0, b], b > 0 (traceable).

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`UCBVState`.

    References:
      Audibert, Munos and Szepesvári, "Exploration-exploitation tradeoff using
      variance estimates in multi-armed bandits", Theoretical Computer Science 410,
      2009: the index B_{k,s,t} with exploration function E_t = zeta log t, and its
      expected-regret bound (Theorem 1 as we read it): for c = 1 and zeta > 1,
      :math:`E[T_k(n)] \le c_\zeta (\sigma_k^2 / \Delta_k^2 + 2b / \Delta_k) \log n`,
      so :math:`R_n = O(\sum_{k: \Delta_k > 0} (\sigma_k^2 / \Delta_k + 2b) \log n)`.
    """
    num_arms = check_int(num_arms, "num_arms")
    check_positive(zeta, "zeta")
    check_positive(c, "c")
    check_positive(b, "b")

    def init(key: Key) -> UCBVState:
        del key
        counts, zeros = _zero_stats(num_arms)
        return UCBVState(counts, zeros, zeros)

    def act(key: Key, state: UCBVState, obs):
        del key
        check_no_obs(obs)
        t = jnp.sum(state.counts) + 1  # the current round, 1-based
        s = jnp.maximum(state.counts, 1).astype(state.means.dtype)
        variances = state.sq_dev_sums / s
        index = ucb_v_index(state.means, variances, state.counts, t, zeta, c, b)
        return _argmax_simple(index), state

    def update(state: UCBVState, obs, action, reward):
        del obs
        pulled = _one_hot(action, num_arms)
        reward = jnp.asarray(reward, state.means.dtype)
        counts = state.counts + pulled
        deviation = reward - state.means
        means = state.means + deviation / jnp.maximum(counts, 1).astype(reward.dtype)
        # Welford: M2 += (x - old mean) (x - new mean), for the pulled arm only.
        sq_dev_sums = state.sq_dev_sums + deviation * (reward - means)
        return UCBVState(
            counts,
            jnp.where(pulled, means, state.means),
            jnp.where(pulled, sq_dev_sums, state.sq_dev_sums),
        )

    return Learner(init, act, update)


# --- MOSS ----------------------------------------------------------------------------


class MOSSState(NamedTuple):
    """State of :func:`moss`."""

    counts: Array  # [K] pulls per arm (float, exact integers)
    sums: Array  # [K] sum of rewards per arm


def moss_index(sums: Array, counts: Array, horizon) -> Array:
    r"""MOSS indices :math:`\hat\mu_a + \sqrt{\max\{\ln(n / (K N_a)), 0\} / N_a}`.

    Args:
      sums: ``[K]`` reward sums.
      counts: ``[K]`` pulls per arm; an arm never pulled has index +inf.
      horizon: n, the number of rounds of the run.

    Returns:
      ``[K]`` indices.
    """
    dtype = jnp.result_type(sums, float)
    n = jnp.asarray(counts).astype(dtype)
    safe_n = jnp.maximum(n, 1.0)
    num_arms = n.shape[-1]
    log_plus = jnp.maximum(jnp.log(horizon / (num_arms * safe_n)), 0.0)
    index = sums / safe_n + jnp.sqrt(log_plus / safe_n)
    return jnp.where(n > 0, index, jnp.inf)


def moss(num_arms: int, *, horizon) -> Learner:
    r"""MOSS, the Minimax Optimal Strategy in the Stochastic case.

    After one pull of each arm:

    .. math::

        A_{t+1} = \arg\max_a \; \hat\mu_a(t)
            + \sqrt{\frac{\max\{\ln(n / (K N_a(t))), 0\}}{N_a(t)}} .

    Args:
      num_arms: K (static).
      horizon: n > 0, the number of rounds. It only enters the index as a number, so it
        may be traced (a sweep over horizons is one program).

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`MOSSState`.

    References:
      Audibert and Bubeck, "Minimax policies for adversarial and stochastic bandits",
      COLT 2009: the MOSS index and its minimax bound, for rewards in [0, 1],
      :math:`\sup R_n \le 49 \sqrt{nK}` (no log factor; the lower bound is
      :math:`\Omega(\sqrt{nK})`).
    """
    num_arms = check_int(num_arms, "num_arms")
    check_positive(horizon, "horizon")

    def init(key: Key) -> MOSSState:
        del key
        return MOSSState(*_zero_stats(num_arms))

    def act(key: Key, state: MOSSState, obs):
        del key
        check_no_obs(obs)
        return _argmax_simple(moss_index(state.sums, state.counts, horizon)), state

    def update(state: MOSSState, obs, action, reward):
        del obs
        return MOSSState(*_add_reward(state.counts, state.sums, action, reward))

    return Learner(init, act, update)


# --- KL-UCB --------------------------------------------------------------------------


def _bernoulli_kl_upper_root(mean: Array, radius: Array, num_iters: int) -> Array:
    r"""The largest q in [mean, 1] with kl(mean, q) <= radius, by Halley's method.

    With p the mean, r the radius and H the entropy, the root is sought in
    ``y = -log(1 - q)``:

    .. math::

        g(y) = \mathrm{kl}(p, 1 - e^{-y}) - r
             = -H(p) - p \log(1 - e^{-y}) + (1 - p) y - r, \quad
        g' = (1 - p) - \frac{p}{e^y - 1}, \quad
        g'' = \frac{p e^y}{(e^y - 1)^2},

        y \leftarrow y - \frac{2 g}{g' + \sqrt{g'^2 - 2 g g''}}

    (Halley's irrational method: the root of the second-order Taylor model, with
    third-order convergence). On ``[-log(1 - p), inf)`` g is convex, increasing and
    asymptotically linear, and ``1 - q = e^{-y}`` stays exact near q = 1, where float32
    cannot resolve q. The step is finite where g' vanishes (at q = p), and left of the
    root (g < 0) the model always has a root, so an iterate that round-off puts at
    q = p moves on. Each step costs one exp and one log.

    The start is the smallest of four upper bounds on the root, from lower bounds on kl
    (for q >= p, :math:`\mathrm{kl}(p, q) = \int_p^q \frac{s - p}{s(1 - s)} ds`):
    Pinsker's ``kl >= 2 (q - p)^2``; ``kl >= (q - p)^2 / (2q)``, as s(1 - s) <= q;
    for p >= 1/2, ``kl >= (q - p)^2 / (2 p (1 - p))``, as s(1 - s) decreases on
    [p, 1]; and ``kl >= (1 - p) y - H(p)``. The first three are tight to second order
    as the radius goes to 0, the last as q goes to 1.

    Accuracy against a 200-step float64 bisection, on a grid of 809 means in [0, 1]
    (with 0, 1e-7, 1 - 1e-7 and 1) x 800 radii in [1e-10, 100]: in float64 the largest
    error is 5.7e-4 after one step, 1.3e-9 after two and 9e-12 after three. In float32
    round-off in g (about 1e-7, from cancellation) bounds it: 4e-6 for radii >= 1e-4,
    1.6e-5 for radii >= 1e-5, 4.4e-5 for radii >= 1e-6 (KL-UCB's radius ln t / N_a
    falls below 1e-6 only after about 2e7 rounds).
    """
    p = mean
    tiny = jnp.finfo(p.dtype).tiny
    q_floor = jnp.sqrt(tiny)  # keeps q^2 normal (XLA may rewrite a / q / q)
    lt_one = p < 1.0
    # log and exp rather than log1p and expm1, which XLA's CPU backend compiles to much
    # slower code inside a fusion; the absolute error this costs in q is round-off.
    y_min = -jnp.log(1.0 - jnp.where(lt_one, p, 0.0))  # y at q = p
    entropy = (1.0 - p) * y_min - jnp.where(p > 0, p * safe_log(p), 0.0)  # H(p)
    q_pinsker = p + jnp.sqrt(radius / 2.0)
    q_small = p + radius + jnp.sqrt(radius * (radius + 2.0 * p))
    q_large = jnp.where(p >= 0.5, p + jnp.sqrt(2.0 * p * (1.0 - p) * radius), jnp.inf)
    q_start = jnp.minimum(jnp.minimum(q_pinsker, q_small), q_large)
    y_from_q = -jnp.log(1.0 - jnp.where(q_start < 1.0, q_start, 0.0))
    y_from_q = jnp.where(q_start < 1.0, y_from_q, jnp.inf)
    y_linear = (radius + entropy) / jnp.where(lt_one, 1.0 - p, 1.0)
    y = jnp.maximum(jnp.minimum(y_from_q, y_linear), y_min)
    y = jnp.where(lt_one, y, 1.0)  # p = 1: the answer is 1; keep the lane finite

    def halley_step(_, y):
        gap = jnp.exp(-y)  # 1 - q, exact in relative terms even where q rounds to 1
        q = jnp.maximum(1.0 - gap, q_floor)
        g = -entropy - p * jnp.log(q) + (1.0 - p) * y - radius
        ratio = p * gap / q  # p / (e^y - 1)
        d1 = jnp.maximum((1.0 - p) - ratio, 0.0)  # >= 0 on [y_min, inf) but round-off
        d2 = ratio / q  # p e^y / (e^y - 1)^2
        # Root of g + d1 s + d2 s^2 / 2 in the cancellation-free form; 2 g / d1 where
        # the model has no root.
        discriminant = jnp.maximum(d1 * d1 - 2.0 * g * d2, 0.0)
        step = 2.0 * g / jnp.maximum(d1 + jnp.sqrt(discriminant), tiny)
        return jnp.maximum(y - step, y_min)

    y = jax.lax.fori_loop(0, num_iters, halley_step, y, unroll=True)
    q = jnp.clip(1.0 - jnp.exp(-y), p, 1.0)
    # Radius 0 (t = 1): the root q = p is double (g' = 0 there), so round-off e in g
    # would move it by sqrt(e / g''); return it exactly. p = 1: the answer is 1 = p.
    return jnp.where(lt_one & (radius > 0), q, p)


def _kl_ucb_exploration(t, c, dtype) -> Array:
    """f(t) = max(ln t + c ln ln t, 0) of Eq. (2), finite at t = 1."""
    log_t = jnp.log(jnp.maximum(jnp.asarray(t, dtype), 1.0))
    log_log_t = jnp.log(jnp.maximum(log_t, jnp.finfo(dtype).tiny))
    return jnp.maximum(log_t + c * log_log_t, 0.0)


def kl_ucb_index(mean, count, t, c=0.0, *, num_iters: int = 2) -> Array:
    r"""KL-UCB index for Bernoulli rewards (elementwise, broadcasting).

    .. math::

        U = \max\{q \in [\hat\mu, 1] :
            N \, \mathrm{kl}(\hat\mu, q) \le \ln t + c \ln \ln t\},

    by ``num_iters`` Halley steps (``_bernoulli_kl_upper_root``). The exploration level
    is clipped at 0 (with c > 0 it is negative for t near 1, e.g. t = 2 and c > 1.9) and
    ``ln ln t`` is kept finite at t = 1.

    Args:
      mean: empirical means in [0, 1].
      count: pulls N; an arm never pulled has index +inf.
      t: rounds played so far.
      c: the coefficient of ln ln t, >= 0.
      num_iters: Halley steps (static). Two give an error below 2e-9 in float64 (three
        below 1e-11); in float32 round-off limits it to about 1e-5.

    Returns:
      Indices, in the broadcast shape of the inputs.
    """
    dtype = jnp.result_type(mean, float)
    mean = jnp.clip(jnp.asarray(mean, dtype), 0.0, 1.0)
    n = jnp.asarray(count).astype(dtype)
    exploration = _kl_ucb_exploration(t, c, dtype)
    mean, n, exploration = jnp.broadcast_arrays(mean, n, exploration)
    radius = exploration / jnp.maximum(n, 1.0)
    index = _bernoulli_kl_upper_root(mean, radius, num_iters)
    return jnp.where(n > 0, index, jnp.inf)


class KLUCBState(NamedTuple):
    """State of :func:`kl_ucb`."""

    counts: Array  # [K] pulls per arm (float, exact integers)
    sums: Array  # [K] sum of rewards per arm


def kl_ucb(num_arms: int, *, c=0.0, num_iters: int = 2) -> Learner:
    r"""KL-UCB for rewards in [0, 1], with the Bernoulli divergence.

    After one pull of each arm, with ``t`` rounds played so far:

    .. math::

        A_{t+1} = \arg\max_a \max\{q \in [\hat\mu_a(t), 1] :
            N_a(t) \, \mathrm{kl}(\hat\mu_a(t), q) \le \ln t + c \ln \ln t\},

    with kl the Bernoulli Kullback-Leibler divergence. The inner maximisation is a fixed
    number of Halley steps from a bracketing start (:func:`kl_ucb_index`): no
    data-dependent loop; five logs and three exps per arm and round.

    Args:
      num_arms: K (static).
      c: the coefficient of ln ln t, >= 0 (traceable). Theorem 1 takes c = 3; the
        paper's experiments use c = 0 (the default).
      num_iters: Halley steps (static Python int); the default 2 is accurate to 2e-9 in
        float64.

    Returns:
      A :class:`~algorithms.core.Learner` with state :class:`KLUCBState`.

    References:
      Garivier and Cappé, "The KL-UCB Algorithm for Bounded Stochastic Bandits and
      Beyond", COLT 2011, Algorithm 1 with Eq. (2); Theorem 1 (c = 3, rewards in
      [0, 1]): :math:`E[N_n(a)] \le (1 + \varepsilon) \ln n / \mathrm{kl}(\mu_a, \mu^*)
      + O(\ln \ln n)`, matching Lai and Robbins' lower bound for Bernoulli arms.
    """
    num_arms = check_int(num_arms, "num_arms")
    num_iters = check_int(num_iters, "num_iters")
    check_nonnegative(c, "c")

    def init(key: Key) -> KLUCBState:
        del key
        return KLUCBState(*_zero_stats(num_arms))

    def act(key: Key, state: KLUCBState, obs):
        del key
        check_no_obs(obs)
        t = jnp.sum(state.counts)
        means = _empirical_means(state.sums, state.counts)
        index = kl_ucb_index(means, state.counts, t, c, num_iters=num_iters)
        return _argmax(index), state

    def update(state: KLUCBState, obs, action, reward):
        del obs
        return KLUCBState(*_add_reward(state.counts, state.sums, action, reward))

    return Learner(init, act, update)


# --- Successive elimination ----------------------------------------------------------


class SuccessiveEliminationState(NamedTuple):
    """State of :func:`successive_elimination`."""

    counts: Array  # [K] pulls per arm (float, exact integers)
    sums: Array  # [K] sum of rewards per arm
    active: Array  # [K] bool, arms not eliminated


def elimination_radius(counts: Array, num_arms: int, delta) -> Array:
    r"""Even-Dar et al.'s radius :math:`\sqrt{\ln(4 K s^2 / \delta) / s}`, +inf at 0."""
    dtype = float_dtype()
    s = jnp.asarray(counts).astype(dtype)
    safe_s = jnp.maximum(s, 1.0)
    radius = jnp.sqrt(jnp.log(4.0 * num_arms * safe_s * safe_s / delta) / safe_s)
    return jnp.where(s > 0, radius, jnp.inf)


def successive_elimination(num_arms: int, *, delta=0.01) -> Learner:
    r"""Successive elimination: round-robin over the active arms, dropping sure losers.

    Rounds form phases: in phase ``s`` each active arm is pulled once, lowest index
    first. When a phase ends (all active arms have ``s`` pulls), arm ``a`` is eliminated
    if

    .. math::

        \max_{b \text{ active}} \hat\mu_b - \hat\mu_a \ge 2 \alpha_s,
        \qquad \alpha_s = \sqrt{\ln(4 K s^2 / \delta) / s},

    that is, if its upper confidence bound is at most the largest lower confidence
    bound. The last arm standing is pulled forever. Elimination happens in ``update``;
    the active set is a fixed-shape mask.

    Args:
      num_arms: K (static).
      delta: confidence in (0, 1] (traceable): with probability at least 1 - delta the
        best arm is never eliminated. For regret over a horizon T take delta ~ 1/T
        (Slivkins' regret version, Section 1.3.2, uses the radius sqrt(2 ln T / s)).

    Returns:
      A :class:`~algorithms.core.Learner` with state
      :class:`SuccessiveEliminationState`.

    References:
      Even-Dar, Mannor and Mansour, "Action Elimination and Stopping Conditions for the
      Multi-Armed Bandit and Reinforcement Learning Problems", JMLR 7, 2006, Successive
      Elimination with unknown biases (Algorithm 3; Theorem 8: the best arm survives
      with probability 1 - delta and the others are eliminated after
      O(sum_a ln(K / (delta Delta_a)) / Delta_a^2) pulls). Regret: Slivkins,
      "Introduction to Multi-Armed Bandits", 2019, Section 1.3.2,
      :math:`R_T = O(\sqrt{K T \log T})` and
      :math:`O(\sum_{a: \Delta_a > 0} \log T / \Delta_a)`.
    """
    num_arms = check_int(num_arms, "num_arms")
    check_in_unit_interval(delta, "delta", open_left=True)

    def init(key: Key) -> SuccessiveEliminationState:
        del key
        counts, sums = _zero_stats(num_arms)
        return SuccessiveEliminationState(counts, sums, jnp.ones((num_arms,), bool))

    def act(key: Key, state: SuccessiveEliminationState, obs):
        del key
        check_no_obs(obs)
        # Round-robin: the active arm with the fewest pulls, lowest index first.
        fewest = jnp.min(jnp.where(state.active, state.counts, jnp.inf))
        return _argmax(state.active & (state.counts == fewest)), state

    def update(state: SuccessiveEliminationState, obs, action, reward):
        del obs
        counts, sums = _add_reward(state.counts, state.sums, action, reward)
        active = state.active
        phase_pulls = jnp.max(jnp.where(active, counts, 0))
        phase_done = jnp.all(jnp.where(active, counts == phase_pulls, True))
        means = _empirical_means(sums, counts)
        radius = elimination_radius(counts, num_arms, delta).astype(means.dtype)
        lower = jnp.where(active, means - radius, -jnp.inf)
        upper = means + radius
        eliminate = phase_done & (upper <= jnp.max(lower))
        return SuccessiveEliminationState(counts, sums, active & ~eliminate)

    return Learner(init, act, update)
