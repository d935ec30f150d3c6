"""Sparse misspecified linear bandits: the env's instances, the epsilon-net search on a
noiseless hand-built instance, its 4 epsilon guarantee on random misspecified instances,
a slow NumPy loop, the net size against eps^-s d^s, and the registry's contract."""

import math

import jax
import numpy as np
import pytest

from algorithms.bandits.sparse import (
    SPARSE_ALGORITHMS,
    make_sparse_learner,
    net_size,
    noisy_query_repeats,
    sorted_hypotheses,
    sparse_net,
    sparse_net_search,
)
from envs.linear_bandits import linear_bandit
from envs.sparse_linear_bandits import (
    NEAR_OPTIMAL_FACTOR,
    sample_sparse_theta,
    sparse_misspecified_bandit,
)
from tests.helpers import check_learner_contract


def _features(num_arms, dim, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(num_arms, dim))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def _jitted(learner, env):
    return jax.jit(learner.act), jax.jit(learner.update), jax.jit(env.step)


def _play(learner, env, params, rounds, jitted=None):
    state = learner.init(jax.random.key(0))
    env_state, obs = env.reset(jax.random.key(1), params)
    act, update, step = _jitted(learner, env) if jitted is None else jitted
    actions, regrets = [], []
    for t in range(rounds):
        a, state = act(jax.random.key(t), state, obs)
        env_state, nxt, r, info = step(jax.random.key(t), env_state, a, params)
        state = update(state, obs, a, r)
        obs = nxt
        actions.append(int(a))
        regrets.append(float(info.regret))
    return actions, np.asarray(regrets), state


def test_noiseless_hand_built_instance_returns_the_support_and_action():
    # Actions +-e_i and one dense action; theta* = 0.8 e_1 (s = 1), no misspecification.
    feats = np.concatenate([np.eye(4), -np.eye(4), np.full((1, 4), 0.5)])
    env = linear_bandit(feats, [0.0, 0.8, 0.0, 0.0], noise_std=0.0)
    learner = sparse_net_search(feats, sparsity=1, epsilon=0.1)
    actions, regrets, state = _play(learner, env, env.params, 12)
    assert bool(state.done)
    assert actions[-1] == 1  # e_1, the optimal action
    net, greedy, values = sorted_hypotheses(feats, 1, 0.1)
    accepted = net[int(state.pointer)]
    assert np.flatnonzero(accepted).tolist() == [1]  # the true support
    # Hypotheses with v_theta = 1.2 (the grid's largest coordinate) come first: their
    # greedy actions e_0 (reward 0), the dense action (0.4 < 1.2 - 0.2), ... fail; the
    # search stops at the first greedy action e_1 whose reward 0.8 >= v - 2 eps.
    assert int(state.num_queries) == len(set(actions[: int(state.num_queries)]))
    assert int(state.num_queries) <= feats.shape[0]
    assert regrets[-1] == 0.0


def _numpy_search(features, rewards, sparsity, epsilon):
    """The search as a plain loop: hypotheses by decreasing predicted optimum, each
    greedy action queried once, accept when reward >= v - 2 eps."""
    net = sparse_net(features.shape[1], sparsity, epsilon)
    pred = net @ features.T
    greedy, values = pred.argmax(axis=1), pred.max(axis=1)
    order = np.argsort(-values, kind="stable")
    memory, queries = {}, []
    for i in order:
        a = int(greedy[i])
        if a not in memory:
            memory[a] = rewards[a]
            queries.append(a)
        if memory[a] >= values[i] - 2 * epsilon:
            return queries, a
    raise AssertionError("no hypothesis accepted")


def test_matches_numpy_loop_and_is_4_epsilon_optimal_on_random_instances():
    feats = _features(40, 4, seed=1)
    epsilon = 0.15
    env = sparse_misspecified_bandit(feats, 2, epsilon)
    learner = sparse_net_search(feats, sparsity=2, epsilon=epsilon)
    jitted = _jitted(learner, env)
    for seed in range(3):
        params = env.sample_params(jax.random.key(seed))
        mu = np.asarray(params.features @ params.theta + params.bias, np.float64)
        queries, answer = _numpy_search(feats, mu, 2, epsilon)
        actions, regrets, state = _play(learner, env, params, len(queries) + 3, jitted)
        assert actions[: len(queries)] == queries
        assert actions[-1] == answer and int(state.num_queries) == len(queries)
        # The theorem of the docstring: the answer is 4 eps-optimal.
        assert mu.max() - mu[answer] <= 4 * epsilon + 1e-6
        assert regrets[-1] <= 4 * epsilon + 1e-5


def test_guarantee_over_many_instances_numpy():
    # The deterministic guarantee (no probability involved): 4 eps-optimal on every
    # instance with |b| <= eps and s-sparse theta* of norm <= 1, here 200 random ones
    # with adversarial and random misspecification.
    rng = np.random.default_rng(5)
    feats = _features(60, 5, seed=2)
    for trial in range(200):
        s = 1 + trial % 3
        eps = [0.3, 0.2][trial % 2]
        theta = np.zeros(5)
        support = rng.choice(5, s, replace=False)
        theta[support] = rng.normal(size=s)
        theta *= rng.uniform(0.2, 1.0) / np.linalg.norm(theta)
        linear = feats @ theta
        if trial % 4 < 2:
            bias = np.where(linear >= linear.max() - eps, -eps, eps)
        else:
            bias = rng.uniform(-eps, eps, size=60)
        mu = linear + bias
        queries, answer = _numpy_search(feats, mu, s, eps)
        assert mu.max() - mu[answer] <= 4 * eps + 1e-12
        assert len(queries) <= min(60, net_size(5, s, eps))


def test_net_covers_sparse_parameters_within_epsilon():
    rng = np.random.default_rng(0)
    for s, eps in ((1, 0.2), (2, 0.15), (3, 0.3)):
        net = sparse_net(5, s, eps)
        assert net.shape[0] == net_size(5, s, eps)
        assert np.all(np.count_nonzero(net, axis=1) <= s)
        for _ in range(30):
            theta = np.zeros(5)
            theta[rng.choice(5, s, replace=False)] = rng.normal(size=s)
            theta *= rng.uniform(0, 1) / np.linalg.norm(theta)
            assert np.min(np.linalg.norm(net - theta, axis=1)) <= eps + 1e-12


def test_net_size_scales_as_eps_minus_s_d_s():
    # Loose check of the theorem's O(eps^-s d^s): the log-log slope of N against 1/eps
    # between eps = 0.05 and 0.0125 is s (up to the +1 grid centre and the ball
    # boundary), and N / (C(d, s) eps^-s) stays within constant factors.
    d = 6
    for s in (1, 2):
        sizes = [net_size(d, s, eps) for eps in (0.05, 0.0125)]
        slope = math.log(sizes[1] / sizes[0]) / math.log(4)
        assert s - 0.15 <= slope <= s + 0.05, (s, slope)
    for s in (1, 2, 3):
        for eps in (0.2, 0.1):
            ratio = net_size(d, s, eps) / (math.comb(d, s) * eps**-s)
            # The ball of radius 1 + eps in grid units h = 2 eps / sqrt(s): between
            # (1/2)^s (a cube inside) and (sqrt(s) + 1)^s (the surrounding cube).
            assert 0.5**s <= ratio <= (math.sqrt(s) + 1.5) ** s


def test_env_draws_sparse_theta_and_bounded_misspecification():
    feats = _features(30, 6, seed=3)
    env = sparse_misspecified_bandit(feats, 2, 0.1)
    sample = jax.jit(env.sample_params)
    one_step = jax.jit(env.step)
    for seed in range(3):
        params = sample(jax.random.key(seed))
        theta = np.asarray(params.theta)
        assert np.count_nonzero(theta) == 2
        np.testing.assert_allclose(np.linalg.norm(theta), 1.0, rtol=1e-5)
        np.testing.assert_allclose(np.abs(np.asarray(params.bias)), 0.1, rtol=1e-6)
        state, obs = env.reset(jax.random.key(0), params)
        mu = np.asarray(params.features @ params.theta + params.bias)
        for a in range(30):
            _, _, reward, info = one_step(jax.random.key(a), state, np.int32(a), params)
            assert float(reward) == pytest.approx(mu[a], abs=1e-6)  # noiseless
            assert float(info.regret) == pytest.approx(mu.max() - mu[a], abs=1e-6)
            near = mu.max() - mu[a] <= NEAR_OPTIMAL_FACTOR * 0.1
            assert float(info.near_optimal) == float(near)
    # ``switched`` flags a change of action (the first pull counts as one).
    flags = []
    state, _ = env.reset(jax.random.key(0), params)
    for t, a in enumerate([0, 0, 3, 3, 0]):
        state, _, _, info = one_step(jax.random.key(t), state, np.int32(a), params)
        flags.append(float(info.switched))
    assert flags == [1.0, 0.0, 1.0, 0.0, 1.0]
    theta = np.asarray(sample_sparse_theta(jax.random.key(9), 8, 3, 0.5))
    assert np.count_nonzero(theta) == 3
    np.testing.assert_allclose(np.linalg.norm(theta), 0.5, rtol=1e-5)


def test_rejects_bad_arguments():
    feats = _features(10, 3)
    with pytest.raises(ValueError, match="sparsity"):
        sparse_net_search(feats, sparsity=4, epsilon=0.1)
    with pytest.raises(ValueError, match="epsilon"):
        sparse_net_search(feats, sparsity=1, epsilon=0.0)
    with pytest.raises(ValueError, match="norm <= 1"):
        sparse_misspecified_bandit(2 * feats, 1, 0.1)
    learner = sparse_net_search(feats, sparsity=1, epsilon=0.2)
    with pytest.raises(ValueError, match="action set"):
        learner.act(jax.random.key(0), learner.init(jax.random.key(0)), feats[:5])
    with pytest.raises(ValueError, match="unknown algorithm"):
        make_sparse_learner("nope", feats, sparsity=1, epsilon=0.1, horizon=10)


def test_contract_sparse_net():
    feats = _features(12, 3)
    env = sparse_misspecified_bandit(feats, 1, 0.2)
    learner = make_sparse_learner(
        "sparse_net", feats, sparsity=1, epsilon=0.2, horizon=50
    )
    check_learner_contract(
        learner,
        env,
        params=env.sample_params(jax.random.key(0)),
        num_rounds=5,
        run_rounds=12,
        num_seeds=2,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SPARSE_ALGORITHMS))
def test_contract_registry(name):
    feats = _features(12, 3)
    env = sparse_misspecified_bandit(feats, 2, 0.1, noise_std=0.1)
    learner = make_sparse_learner(name, feats, sparsity=2, epsilon=0.1, horizon=100)
    check_learner_contract(learner, env, params=env.sample_params(jax.random.key(0)))


def test_figure_metrics_on_hand_set_sequences():
    from experiments.linbandit_sparse import queries_to_settle, rounds_to_near_optimal

    # Per-round indicators of two seeds, as the runner's cumulative counts.
    switched = np.cumsum([[1, 1, 0, 1, 0, 0], [1, 0, 0, 0, 0, 0]], axis=1)
    np.testing.assert_array_equal(queries_to_settle(switched), [4, 1])
    near = np.cumsum([[0, 1, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]], axis=1)
    np.testing.assert_array_equal(rounds_to_near_optimal(near), [3, 0])


# --- Noisy queries: each queried action pulled `repeats` times, its mean tested. ---


def _play_batch(learner, env, rounds, seeds):
    """(final gap of the answer, done, pulls spent) per seed: a jitted vmapped scan."""

    def one(key):
        k_params, k_env, k_learner = jax.random.split(key, 3)
        params = env.sample_params(k_params)
        env_state, obs = env.reset(k_env, params)

        def body(carry, t):
            state, env_state = carry
            a, state = learner.act(jax.random.fold_in(k_learner, t), state, obs)
            env_state, _, r, _ = env.step(
                jax.random.fold_in(k_env, t), env_state, a, params
            )
            return (learner.update(state, obs, a, r), env_state), None

        (state, _), _ = jax.lax.scan(
            body, (learner.init(k_learner), env_state), jax.numpy.arange(rounds)
        )
        mu = params.features @ params.theta + params.bias
        return mu.max() - mu[state.action], state.done, state.num_queries

    keys = jax.random.split(jax.random.key(0), seeds)
    return [np.asarray(v) for v in jax.jit(jax.vmap(one))(keys)]


def test_noisy_query_repeats_formula_and_errors():
    # m = ceil(2 sigma^2 log(2 K / delta) / tol^2)
    assert noisy_query_repeats(0.5, 0.1, 0.001, 40) == math.ceil(
        2 * 0.25 * math.log(80 / 0.001) / 0.01
    )
    assert noisy_query_repeats(0.0, 0.1, 0.01, 40) == 1
    for bad in ((-1.0, 0.1, 0.1, 5), (1.0, 0.0, 0.1, 5), (1.0, 0.1, 1.0, 5)):
        with pytest.raises(ValueError):
            noisy_query_repeats(*bad)
    with pytest.raises(ValueError, match="repeats"):
        sparse_net_search(_features(10, 3), sparsity=1, epsilon=0.2, repeats=0)
    with pytest.raises(ValueError, match="tolerance"):
        sparse_net_search(_features(10, 3), sparsity=1, epsilon=0.2, tolerance=-0.1)


def test_repeats_on_noiseless_rewards_repeat_each_query():
    feats = _features(40, 4, seed=1)
    env = sparse_misspecified_bandit(feats, 2, 0.15)
    params = env.sample_params(jax.random.key(3))
    once = sparse_net_search(feats, sparsity=2, epsilon=0.15)
    thrice = sparse_net_search(feats, sparsity=2, epsilon=0.15, repeats=3)
    a1, _, s1 = _play(once, env, params, 30)
    n = int(s1.num_queries)
    a3, _, s3 = _play(thrice, env, params, 3 * n + 3)
    assert a3[: 3 * n] == [a for a in a1[:n] for _ in range(3)]
    assert a3[-1] == a1[-1] and int(s3.num_queries) == 3 * n
    np.testing.assert_allclose(s3.observed, s1.observed, rtol=1e-6)  # running means


def test_noisy_search_is_4_eps_plus_2_tol_optimal():
    # sigma = 0.2, tol = eps = 0.15, delta = 1e-4 per run: by the union bound no run
    # of 50 fails with probability >= 0.995 (Hoeffding's bound is loose: far higher).
    feats = _features(40, 4, seed=1)
    eps, sigma, tol = 0.15, 0.2, 0.15
    repeats = noisy_query_repeats(sigma, tol, 1e-4, 40)
    env = sparse_misspecified_bandit(feats, 2, eps, noise_std=sigma)
    learner = sparse_net_search(
        feats, sparsity=2, epsilon=eps, repeats=repeats, tolerance=tol
    )
    gap, done, pulls = _play_batch(learner, env, repeats * 40 + 1, seeds=50)
    assert done.all() and pulls.max() <= repeats * 40
    assert (gap <= 4 * eps + 2 * tol + 1e-5).all(), np.sort(gap)[-5:]


@pytest.mark.slow
def test_noisy_search_repeats_beat_single_noisy_queries():
    # sigma = 0.5, eps = tol = 0.1, delta = 0.001 (565 pulls per query), 200 seeds.
    # Measured: repeated queries 0 / 200 runs above 4 eps + 2 tol, mean gap 0.05;
    # single noisy queries 22 / 200, mean gap 0.23 (the mean over 200 seeds has a
    # standard error of ~0.02).
    feats = _features(40, 4, seed=1)
    eps, sigma, tol = 0.1, 0.5, 0.1
    repeats = noisy_query_repeats(sigma, tol, 0.001, 40)
    env = sparse_misspecified_bandit(feats, 2, eps, noise_std=sigma)
    noisy = sparse_net_search(
        feats, sparsity=2, epsilon=eps, repeats=repeats, tolerance=tol
    )
    gap, done, _ = _play_batch(noisy, env, repeats * 40 + 1, seeds=200)
    single, _, _ = _play_batch(
        sparse_net_search(feats, sparsity=2, epsilon=eps), env, 45, seeds=200
    )
    assert done.all() and np.sum(gap > 4 * eps + 2 * tol + 1e-5) <= 1
    assert single.mean() > 2 * gap.mean() and np.sum(single > 4 * eps + 2 * tol) >= 5
