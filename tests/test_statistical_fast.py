"""Fast statistical checks against the theory (the default run; larger ones are slow).

Tolerances: each check compares a mean over >= 200 seeds with a margin of 4 standard
errors (a correct implementation fails with probability < 1e-4 per check under the
normal approximation), and each also beats a trivial policy by a wide margin, so a
broken learner (uniform, greedy, inverted index) fails.
"""

import math

import jax
import numpy as np

from algorithms.bandits import make_learner
from envs.adversarial_bandits import switching_bandit
from envs.bandits import bernoulli_bandit
from experiments.runner import run


def _final(name, env, num_rounds, num_seeds, num_arms, key=0):
    learner = make_learner(name, num_arms=num_arms, horizon=num_rounds)
    result = run(
        learner,
        env,
        num_rounds,
        key=jax.random.key(key),
        num_seeds=num_seeds,
        record=[num_rounds // 2, num_rounds],
    )
    return result.regret[:, -1], result.regret[:, 0]


def _mean_se(x):
    x = np.asarray(x, np.float64)
    return x.mean(), x.std(ddof=1) / math.sqrt(len(x))


def test_ucb1_under_auer_bound_and_far_below_uniform():
    means = np.array([0.5, 0.8, 0.6])
    horizon = 2000
    final, _ = _final("ucb1", bernoulli_bandit(means), horizon, 200, 3)
    mean, se = _mean_se(final)
    gaps = means.max() - means[means < means.max()]
    # Auer, Cesa-Bianchi and Fischer (2002), Theorem 1.
    auer = np.sum(8 * np.log(horizon) / gaps) + (1 + np.pi**2 / 3) * np.sum(gaps)
    uniform = gaps.sum() / 3 * horizon
    assert mean + 4 * se < auer
    assert mean + 4 * se < uniform / 2


def test_thompson_and_kl_ucb_below_ucb1_paired():
    env = bernoulli_bandit([0.5, 0.45, 0.4, 0.3, 0.2])
    ucb, _ = _final("ucb1", env, 1000, 200, 5)
    for name in ("thompson", "kl_ucb"):
        other, _ = _final(name, env, 1000, 200, 5)
        diff, se = _mean_se(other - ucb)  # same seeds: paired differences
        assert diff + 4 * se < 0, (name, diff, se)


def test_exp3_under_its_bound_where_ucb1_is_not():
    env = switching_bandit(2)
    horizon, num_arms = 2000, 2
    bound = math.sqrt(2 * horizon * num_arms * math.log(num_arms))  # L&S Theorem 11.2
    exp3, _ = _final("exp3", env, horizon, 200, num_arms)
    mean, se = _mean_se(exp3)
    assert mean + 4 * se < bound
    ucb, _ = _final("ucb1", env, horizon, 50, num_arms)
    assert ucb.mean() > 2 * bound  # the sequence defeats UCB1: the check can fail


def test_constant_epsilon_greedy_is_linear():
    # With epsilon = 0.1 every round explores with probability 0.1 and picks one of the
    # two 0.8-gap arms with probability 2/3: slope 0.1 * 2/3 * 0.8 = 0.0533 once the
    # greedy choice is right (it is by T/2 on this easy instance).
    env = bernoulli_bandit([0.9, 0.1, 0.1])
    final, half = _final("eps_greedy", env, 2000, 200, 3)
    slope, se = _mean_se((final - half) / 1000)
    assert abs(slope - 0.1 * 2 / 3 * 0.8) < 4 * se + 1e-3
    assert (
        slope > 0.04
    )  # linear: a sublinear learner's slope at T = 2000 is far smaller
