"""Hard needle instances for misspecified linear bandits (dense: Du et al. 2020;
sparse: an s-sparse theta*): the claimed properties checked exactly in float64, the
zero-reward argument (a learner's actions before its first pull of the target do not
depend on the target), the env's oracle fields, and the net search on the sparse
needle."""

import math

import jax
import numpy as np
import pytest

from algorithms.bandits.linear import oful_fixed_actions, phased_elimination
from algorithms.bandits.sparse import sorted_hypotheses, sparse_net_search
from envs.sparse_linear_bandits import (
    NEAR_OPTIMAL_FACTOR,
    dense_needle_instances,
    near_orthogonal_signs,
    needle_bandit,
    needle_params,
    sparse_needle_instances,
)

# Float64 rounding of eps / delta * delta: the bounds hold to a few ulps.
ULP = 1e-12


def _instance(instances, m):
    return jax.tree.map(lambda leaf: leaf[m], needle_params(instances))


def _check_needle(inst, gap_factor):
    """Uniform misspecification <= eps (attained), zero rewards off the target, the
    target the only 4 eps-optimal action with gap >= gap_factor * eps."""
    eps = inst.epsilon
    x = inst.features
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=0, atol=ULP)
    # The decomposition means = X theta + b, recomputed here.
    b = inst.means - inst.thetas @ x.T
    np.testing.assert_allclose(b, inst.biases, rtol=0, atol=ULP)
    assert np.max(np.abs(b)) <= eps + ULP
    assert np.max(np.abs(b)) >= eps - ULP  # the bound is tight
    for m, target in enumerate(inst.targets):
        mu = inst.means[m]
        others = np.delete(mu, target)
        assert np.all(others == 0.0)
        gap = mu[target] - others.max()
        assert gap >= gap_factor * eps - ULP
        near = np.flatnonzero(mu.max() - mu <= NEAR_OPTIMAL_FACTOR * eps)
        assert near.tolist() == [target]


def test_near_orthogonal_signs_pairwise_bound_exact():
    dim, tau = 48, 0.3
    x = near_orthogonal_signs(dim, 60, tau, seed=1)
    signs = np.rint(x * math.sqrt(dim)).astype(np.int64)
    np.testing.assert_array_equal(np.abs(signs), 1)  # entries +-1/sqrt(d)
    np.testing.assert_allclose(x, signs / math.sqrt(dim), rtol=0, atol=0)
    gram = signs @ signs.T  # exact integers
    off = np.abs(gram[~np.eye(60, dtype=bool)])
    assert off.max() <= tau * dim
    assert len({row.tobytes() for row in signs}) == 60
    with pytest.raises(RuntimeError, match="pairwise"):
        near_orthogonal_signs(8, 50, 0.2, max_candidates=2_000)
    with pytest.raises(ValueError, match="tau"):
        near_orthogonal_signs(8, 5, 1.5)


def test_dense_needle_misspecification_gap_and_near_orthogonality():
    dim, tau, eps = 64, 0.3, 0.1
    inst = dense_needle_instances(dim, 40, eps, tau=tau, seed=2)
    x = inst.features
    gram = np.abs(x @ x.T)
    np.fill_diagonal(gram, 0.0)
    assert gram.max() <= tau + ULP and inst.tau == pytest.approx(gram.max())
    # gap = eps / tau_i + eps >= eps (1 / tau + 1) > 4 eps as tau < 1/3.
    _check_needle(inst, 1.0 / tau + 1.0)
    # theta_i is along x_i (dense, so the sparse search has no guarantee here).
    for m, target in enumerate(inst.targets):
        theta = inst.thetas[m]
        assert np.count_nonzero(theta) == dim
        np.testing.assert_allclose(
            theta / np.linalg.norm(theta), x[target], rtol=0, atol=ULP
        )
    with pytest.raises(ValueError, match="1/3"):
        dense_needle_instances(dim, 10, eps, tau=0.4)


@pytest.mark.parametrize("sparsity", [1, 2])
def test_sparse_needle_sparsity_misspecification_and_alignment(sparsity):
    dim, eps, rho = 24, 0.1, 3.25
    inst = sparse_needle_instances(dim, 200, sparsity, eps, rho=rho, seed=3)
    num_targets = dim // sparsity
    assert inst.features.shape == (200 + num_targets, dim)
    assert len(inst.targets) == num_targets
    _check_needle(inst, rho + 1.0)
    a = rho * math.sqrt(sparsity / dim)
    for m, target in enumerate(inst.targets):
        theta = inst.thetas[m]
        support = np.flatnonzero(theta)
        # s-sparse, on block m, with ||theta*|| <= 1 (the net search's bound B).
        assert support.tolist() == list(range(m * sparsity, (m + 1) * sparsity))
        assert np.linalg.norm(theta) <= 1.0
        u = theta / np.linalg.norm(theta)
        align = np.abs(inst.features @ u)
        assert align[target] == pytest.approx(a, abs=ULP)
        # The alignment bound: every other action has |<x_j, u_m>| <= sqrt(s / d).
        assert np.delete(align, target).max() <= math.sqrt(sparsity / dim) + ULP
    assert inst.tau <= math.sqrt(sparsity / dim) + ULP
    # Decoys are distinct sign vectors / sqrt(d).
    decoys = np.delete(inst.features, inst.targets, axis=0)
    signs = np.rint(decoys * math.sqrt(dim))
    np.testing.assert_allclose(decoys, signs / math.sqrt(dim), rtol=0, atol=ULP)
    assert len({row.tobytes() for row in signs}) == 200


def test_sparse_needle_rejects_bad_arguments():
    with pytest.raises(ValueError, match="rho"):
        sparse_needle_instances(24, 10, 1, 0.1, rho=3.0)
    with pytest.raises(ValueError, match="< 1"):
        sparse_needle_instances(12, 10, 2, 0.1)  # a = 3.25 sqrt(1/6) > 1
    with pytest.raises(ValueError, match="epsilon"):
        sparse_needle_instances(24, 50, 1, 0.5)  # ||theta*|| = 0.5 sqrt(24) > 1


def _actions(learner, env, params, rounds):
    act, update, step = jax.jit(learner.act), jax.jit(learner.update), jax.jit(env.step)
    state = learner.init(jax.random.key(0))
    env_state, obs = env.reset(jax.random.key(1), params)
    actions, infos = [], []
    for t in range(rounds):
        a, state = act(jax.random.key(t), state, obs)
        env_state, obs, r, info = step(jax.random.key(t), env_state, a, params)
        state = update(state, obs, a, r)
        actions.append(int(a))
        infos.append(jax.tree.map(float, info))
    return actions, infos, state


@pytest.mark.parametrize("name", ["oful", "phased_elim"])
def test_linear_methods_play_the_same_actions_until_they_pull_the_target(name):
    # The lower-bound argument: every non-target reward is exactly 0 in every
    # instance, so the action sequence before the first pull of the target cannot
    # depend on which spike is the target. Fails if rewards leak the target.
    inst = sparse_needle_instances(16, 48, 1, 0.1, seed=4)
    env = needle_bandit(inst)
    k, d = inst.features.shape
    if name == "oful":
        learner = oful_fixed_actions(d, k, noise_std=0.1, delta=0.01)
    else:
        learner = phased_elimination(d, k, noise_std=0.1, delta=0.01)
    runs = [_actions(learner, env, _instance(inst, m), k) for m in (0, 5, 11)]
    targets = set(inst.targets[[0, 5, 11]].tolist())
    reference = runs[0][0]
    stop = next((t for t, a in enumerate(reference) if a in targets), len(reference))
    assert stop > 0
    for actions, _, _ in runs[1:]:
        assert actions[:stop] == reference[:stop]
    # The env's first_hit is the round of the first pull of the target.
    for m, (actions, infos, _) in zip((0, 5, 11), runs, strict=True):
        target = int(inst.targets[m])
        if target in actions:
            first = actions.index(target) + 1
            assert infos[-1].first_hit == first
            assert infos[first - 1].near_optimal == 1.0
            if first > 1:
                assert infos[first - 2].first_hit == 0.0


def test_needle_env_rewards_and_oracle_fields():
    inst = sparse_needle_instances(16, 32, 1, 0.1, seed=5)
    env = needle_bandit(inst)
    params = env.sample_params(jax.random.key(3))
    m = int(np.flatnonzero(inst.targets == int(params.target))[0])
    step = jax.jit(env.step)
    state, obs = env.reset(jax.random.key(0), params)
    np.testing.assert_allclose(np.asarray(obs), inst.features, rtol=1e-6)
    target = int(params.target)
    other = (target + 1) % inst.features.shape[0]
    flags = []
    for t, a in enumerate([other, other, target, other]):
        state, _, reward, info = step(jax.random.key(t), state, np.int32(a), params)
        assert float(reward) == pytest.approx(inst.means[m, a], abs=1e-6)
        flags.append(jax.tree.map(float, info))
    assert [f.switched for f in flags] == [1.0, 0.0, 1.0, 1.0]
    assert [f.near_optimal for f in flags] == [0.0, 0.0, 1.0, 0.0]
    assert [f.first_hit for f in flags] == [0.0, 0.0, 3.0, 3.0]
    assert [f.last_switch for f in flags] == [1.0, 1.0, 3.0, 4.0]
    assert flags[0].regret == pytest.approx(inst.means[m].max(), abs=1e-6)


def test_net_search_finds_the_sparse_needle_with_queries_independent_of_k():
    # On the sparse needle the search queries the M spikes (the greedy actions of its
    # largest hypotheses), then accepts the target: M queries for every K, below the
    # number of distinct greedy actions of its net.
    dim, eps = 16, 0.1
    counts = {}
    for num_decoys in (48, 160):
        inst = sparse_needle_instances(dim, num_decoys, 1, eps, seed=6)
        env = needle_bandit(inst)
        learner = sparse_net_search(inst.features, sparsity=1, epsilon=eps)
        _, greedy, _ = sorted_hypotheses(inst.features, 1, eps)
        bound = len(np.unique(greedy))
        for m in (0, 7, 15):
            actions, infos, state = _actions(
                learner, env, _instance(inst, m), bound + 2
            )
            assert bool(state.done)
            assert actions[-1] == inst.targets[m]
            assert int(state.num_queries) <= bound
            counts[(num_decoys, m)] = int(state.num_queries)
    assert set(counts.values()) == {dim}  # M = d / s = 16 queries, at both K
