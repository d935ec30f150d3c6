"""Offline (logged-data) contextual and multi-armed bandits with a controlled
concentrability coefficient.

An instance is a context distribution ``rho [S]`` and Bernoulli mean rewards
``means [S, K]`` (a multi-armed bandit is ``S = 1``). A dataset of ``N`` samples is
drawn i.i.d. from ``s ~ rho``, ``a ~ pi_b(. | s)``, ``r ~ Bernoulli(means[s, a])``; the
behaviour policy puts mass ``1 / C`` on the optimal arm of each context and spreads the
rest uniformly, so the (weak, single-policy) concentrability coefficient of
Rashidinejad et al. (2021),

.. math::

    C^* = \\max_s \\frac{\\rho(s)}{\\rho(s)\\, \\pi_b(\\pi^*(s) \\mid s)}
        = \\max_s \\frac{1}{\\pi_b(\\pi^*(s) \\mid s)},

equals ``C`` exactly: ``C = 1`` is expert data (imitation), ``C = K`` is uniform
coverage. Learners need only the sufficient statistics of the dataset, the counts
``N(s, a)`` and the reward sums, which are drawn exactly in law: ``counts ~
Multinomial(N, rho(s) pi_b(a | s))`` and ``sums | counts ~ Binomial(counts, means)``
(the same distribution as summing ``N`` logged samples, at a cost independent of
``N``). The offline setting has no rounds: the figure vmaps a function of
``(key, N, C)``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.core import check_int, float_dtype

Array = jax.Array


class OfflineBanditParams(NamedTuple):
    """An offline contextual bandit instance."""

    context_probs: Array  # [S] rho
    means: Array  # [S, K] Bernoulli mean rewards


class OfflineDataset(NamedTuple):
    """Sufficient statistics of a logged dataset."""

    counts: Array  # [S, K] N(s, a)
    reward_sums: Array  # [S, K] sum of the rewards of (s, a)


def offline_bandit(context_probs, means) -> OfflineBanditParams:
    """Validated instance: ``rho`` a distribution on ``S`` contexts, means in [0, 1]."""
    rho = np.asarray(context_probs, dtype=np.float64)
    mu = np.asarray(means, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[1] < 2:
        raise ValueError(f"means must be [S, K] with K >= 2, got shape {mu.shape}")
    if rho.shape != (mu.shape[0],):
        raise ValueError(
            f"context_probs must have one entry per context ({mu.shape[0]}), got "
            f"shape {rho.shape}"
        )
    if np.any(rho < 0) or abs(rho.sum() - 1) > 1e-6:
        raise ValueError("context_probs must be a probability vector")
    if np.any((mu < 0) | (mu > 1)):
        raise ValueError("means must lie in [0, 1] (Bernoulli rewards)")
    dtype = float_dtype()
    return OfflineBanditParams(jnp.asarray(rho, dtype), jnp.asarray(mu, dtype))


def behaviour_policy(means: Array, concentrability) -> Array:
    """``pi_b [S, K]``: ``1 / C`` on each context's optimal arm, the rest uniform.

    ``C = concentrability >= 1`` (traceable); then ``C* = C`` exactly.
    """
    num_arms = means.shape[-1]
    c = jnp.asarray(concentrability, means.dtype)
    best = jax.nn.one_hot(jnp.argmax(means, axis=-1), num_arms, dtype=means.dtype)
    return best / c + (1.0 - best) * (1.0 - 1.0 / c) / (num_arms - 1)


def sample_dataset(
    key, params: OfflineBanditParams, behaviour: Array, num_samples
) -> OfflineDataset:
    """The sufficient statistics of ``num_samples`` logged samples (traceable ``N``)."""
    k_counts, k_rewards = jax.random.split(key)
    cell_probs = params.context_probs[:, None] * behaviour  # [S, K]
    shape = cell_probs.shape
    n = jnp.asarray(num_samples, params.means.dtype)
    counts = jax.random.multinomial(k_counts, n, cell_probs.reshape(-1)).reshape(shape)
    sums = jax.random.binomial(k_rewards, counts, params.means)
    return OfflineDataset(counts.astype(params.means.dtype), sums.astype(counts.dtype))


def suboptimality(params: OfflineBanditParams, policy: Array) -> Array:
    """``J(pi*) - J(pi) = sum_s rho(s) (max_a r(s, a) - sum_a pi(a|s) r(s, a))`` for a
    policy ``[S, K]`` of action distributions (exact)."""
    best = jnp.max(params.means, axis=-1)
    value = jnp.sum(policy * params.means, axis=-1)
    return jnp.sum(params.context_probs * (best - value))


def hard_instance(
    key, num_contexts: int, num_arms: int, num_samples
) -> OfflineBanditParams:
    """The instance family used for the rates (lower-bound style, one per ``N``).

    Context 0 is frequent (``rho_0 = 1 - (S - 1) / N``); each of the ``S - 1`` others
    has probability ``1 / N``, so it is missing from the data with probability about
    ``1 / e`` whatever ``N`` (the ``S / N`` term of the expert rate). In context 0 the
    best arm's mean is ``1/2 + Delta_N`` with ``Delta_N = min(1/4, 1 / sqrt(N))`` and
    the others ``1/2`` (the ``1 / sqrt(N)`` term under uniform coverage); in the rare
    contexts the gap is ``1/4``. The best arm of each context is drawn uniformly. With
    ``S = 1`` this is a multi-armed bandit with gap ``Delta_N``.
    """
    num_contexts = check_int(num_contexts, "num_contexts")
    num_arms = check_int(num_arms, "num_arms", minimum=2)
    dtype = float_dtype()
    n = jnp.asarray(num_samples, dtype)
    rare = jnp.full((num_contexts - 1,), 1.0, dtype) / n
    rho = jnp.concatenate([jnp.array([1.0], dtype) - jnp.sum(rare), rare])
    gap = jnp.concatenate(
        [
            jnp.minimum(0.25, 1.0 / jnp.sqrt(n))[None],
            jnp.full((num_contexts - 1,), 0.25),
        ]
    ).astype(dtype)
    best = jax.random.randint(key, (num_contexts,), 0, num_arms)
    means = 0.5 + gap[:, None] * jax.nn.one_hot(best, num_arms, dtype=dtype)
    return OfflineBanditParams(rho, means)
