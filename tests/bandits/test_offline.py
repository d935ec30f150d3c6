"""Offline bandits: the behaviour policy's concentrability, the LCB penalty and policy
on hand-set data, the dataset's law, and LCB's sub-optimality shrinking with N."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.bandits.offline import greedy_policy, lcb_penalty, lcb_policy
from envs.offline_bandits import (
    behaviour_policy,
    hard_instance,
    offline_bandit,
    sample_dataset,
    suboptimality,
)


def test_behaviour_policy_has_the_requested_concentrability():
    means = jnp.array([[0.2, 0.9, 0.5], [0.7, 0.1, 0.3]])
    for c in (1.0, 1.5, 3.0):
        pi = behaviour_policy(means, c)
        np.testing.assert_allclose(pi.sum(-1), 1.0, rtol=1e-6)
        best = np.argmax(np.asarray(means), -1)
        c_star = np.max(1.0 / np.asarray(pi)[np.arange(2), best])
        np.testing.assert_allclose(c_star, c, rtol=1e-6)


def test_lcb_policy_on_hand_set_counts():
    counts = jnp.array([[100.0, 2.0, 0.0]])
    sums = jnp.array([[70.0, 2.0, 0.0]])
    delta = 0.1
    b = lambda n: math.sqrt(math.log(2 * 3 / delta) / (2 * n))  # noqa: E731
    np.testing.assert_allclose(
        lcb_penalty(counts, delta)[0, :2], [b(100), b(2)], rtol=1e-6
    )
    assert np.isinf(lcb_penalty(counts, delta)[0, 2])
    # LCB: 0.7 - b(100) = 0.557 > 1 - b(2) = 0.572? b(2) = 1.43 -> -0.43: arm 0.
    np.testing.assert_array_equal(lcb_policy(counts, sums, delta=delta), [[1, 0, 0]])
    # Greedy picks the lucky, rarely logged arm 1 (mean 1.0).
    np.testing.assert_array_equal(greedy_policy(counts, sums), [[0, 1, 0]])
    # A context without data: uniform.
    empty = jnp.zeros((1, 3))
    np.testing.assert_allclose(lcb_policy(empty, empty), [[1 / 3] * 3], rtol=1e-6)


def test_suboptimality_is_exact():
    params = offline_bandit([0.25, 0.75], [[0.1, 0.6], [0.5, 0.2]])
    policy = jnp.array([[1.0, 0.0], [0.5, 0.5]])
    expected = 0.25 * 0.5 + 0.75 * 0.5 * 0.3
    np.testing.assert_allclose(suboptimality(params, policy), expected, rtol=1e-6)


@pytest.mark.slow
def test_dataset_has_the_right_law():
    params = offline_bandit([0.3, 0.7], [[0.2, 0.8], [0.6, 0.4]])
    pi_b = behaviour_policy(params.means, 2.0)
    keys = jax.random.split(jax.random.key(0), 300)
    data = jax.vmap(lambda k: sample_dataset(k, params, pi_b, 500))(keys)
    assert np.all(np.asarray(data.counts).sum((1, 2)) == 500)
    cell = np.asarray(params.context_probs[:, None] * pi_b)
    # Mean count 500 p over 300 datasets: sd of the mean <= sqrt(125 / 300) = 0.65.
    np.testing.assert_allclose(np.asarray(data.counts).mean(0), 500 * cell, atol=3.5)
    # >= 300 * 500 * 0.075 = 11,250 rewards per cell: sd of the ratio <= 0.005.
    ratio = np.asarray(data.reward_sums).sum(0) / np.asarray(data.counts).sum(0)
    np.testing.assert_allclose(ratio, params.means, atol=0.025)


@pytest.mark.slow
def test_lcb_suboptimality_shrinks_with_n_fast():
    """Uniform coverage, S = 1: N = 30 vs N = 3,000 (gap 1/sqrt(N)): the mean
    sub-optimality must fall by > 3x (the rate predicts 10x; 200 seeds)."""
    lcb = lambda c, s: lcb_policy(c, s, delta=0.1)  # noqa: E731
    small = _mean_suboptimality(lcb, 1, 4.0, 30, seeds=200)
    large = _mean_suboptimality(lcb, 1, 4.0, 3000, seeds=200)
    assert large < small / 3


def test_invalid_instances_raise():
    with pytest.raises(ValueError, match="one entry per context"):
        offline_bandit([1.0], [[0.1, 0.2], [0.3, 0.4]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        offline_bandit([1.0], [[0.1, 1.2]])
    with pytest.raises(ValueError, match="probability"):
        offline_bandit([0.5, 0.6], [[0.1, 0.2], [0.3, 0.4]])


def _mean_suboptimality(policy_fn, s, c, n, seeds=400):
    def one(key):
        k_inst, k_data = jax.random.split(key)
        params = hard_instance(k_inst, s, 4, n)
        data = sample_dataset(k_data, params, behaviour_policy(params.means, c), n)
        return suboptimality(params, policy_fn(data.counts, data.reward_sums))

    keys = jax.random.split(jax.random.key(1), seeds)
    return float(jax.jit(jax.vmap(one))(keys).mean())


@pytest.mark.slow
def test_lcb_suboptimality_shrinks_with_n_and_beats_greedy_near_expert():
    lcb = lambda c, s: lcb_policy(c, s, delta=0.1)  # noqa: E731
    # Expert data, S = 10: sub-optimality ~ (S - 1) / (e N) * 3/16 (rare contexts
    # missing): 100x more data, ~100x smaller; allow 20x (400 seeds).
    small, large = (_mean_suboptimality(lcb, 10, 1.0, n) for n in (100, 10_000))
    assert large < small / 20
    np.testing.assert_allclose(small, 9 / 100 * (1 - 1 / 100) ** 100 * 3 / 16, rtol=0.3)
    # Uniform coverage: ~1/sqrt(N): 100x more data, ~10x smaller; allow 4x.
    small, large = (_mean_suboptimality(lcb, 10, 4.0, n) for n in (100, 10_000))
    assert large < small / 4
    # Near-expert data: greedy is fooled by lucky rarely-logged arms, LCB is not.
    assert _mean_suboptimality(lcb, 10, 1.5, 1000) < 0.5 * _mean_suboptimality(
        greedy_policy, 10, 1.5, 1000
    )
