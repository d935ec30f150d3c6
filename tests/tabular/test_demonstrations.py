"""Demonstration-regularised RL: the demonstrations env, behaviour cloning, the
KL-regularised backward induction, the learners' contract and a statistical check."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.tabular import optimal_q_values
from algorithms.tabular.demonstrations import (
    DEMONSTRATION_ALGORITHMS,
    behavior_cloning,
    demo_regularized_ucbvi,
    kl_regularized_backward_induction,
)
from envs.demonstrations import (
    DemonstrationParams,
    Demonstrations,
    expert_policy,
    with_demonstrations,
)
from envs.tabular_mdp import deep_sea, policy_value, river_swim
from experiments.runner import run
from tests.helpers import check_learner_contract


def test_behavior_cloning_closed_form():
    # S = 3, A = 3, H = 2; three trajectories, the third masked out.
    states = jnp.asarray([[0, 1], [0, 2], [1, 1]])
    actions = jnp.asarray([[2, 0], [2, 1], [0, 0]])
    mask = jnp.asarray([1.0, 1.0, 0.0])
    kappa = 0.5
    pi = np.asarray(
        behavior_cloning(Demonstrations(states, actions, mask), 3, 3, kappa)
    )
    expected = np.full((2, 3, 3), 1.0 / 3.0)  # unvisited: uniform
    # h = 0, s = 0: a = 2 twice -> (2 + k, k, k) / (2 + 3k).
    expected[0, 0] = np.array([kappa, kappa, 2 + kappa]) / (2 + 3 * kappa)
    # h = 1, s = 1: a = 0 once; s = 2: a = 1 once (the masked row adds nothing).
    expected[1, 1] = np.array([1 + kappa, kappa, kappa]) / (1 + 3 * kappa)
    expected[1, 2] = np.array([kappa, 1 + kappa, kappa]) / (1 + 3 * kappa)
    np.testing.assert_allclose(pi, expected, rtol=1e-6)


def _numpy_soft_backward_induction(P, r, ref, lam, caps):
    """Plain float64 loops: Q = min(cap, r + P V'), V = lam log sum ref e^(Q / lam)."""
    H, S, A = r.shape
    V = np.zeros((H + 1, S))
    Q = np.zeros((H, S, A))
    pi = np.zeros((H, S, A))
    for h in reversed(range(H)):
        for s in range(S):
            for a in range(A):
                Q[h, s, a] = min(caps[h], r[h, s, a] + P[h, s, a] @ V[h + 1])
            w = ref[h, s] * np.exp((Q[h, s] - Q[h, s].max()) / lam)
            V[h, s] = Q[h, s].max() + lam * np.log(w.sum())
            pi[h, s] = w / w.sum()
    return Q, V, pi


@pytest.mark.parametrize("lam", [0.05, 0.5, 3.0])
def test_kl_backward_induction_matches_numpy(lam):
    rng = np.random.default_rng(0)
    H, S, A = 4, 5, 3
    P = rng.dirichlet(np.ones(S), size=(H, S, A))
    r = rng.uniform(size=(H, S, A))
    r[1, 2, 0] = np.inf  # an unvisited pair: Q is its cap
    ref = rng.dirichlet(np.ones(A), size=(H, S))
    caps = np.arange(H, 0, -1).astype(float)
    with jax.enable_x64(True):
        q, v, pi = kl_regularized_backward_induction(
            jnp.asarray(P), jnp.asarray(r), jnp.asarray(ref), lam, jnp.asarray(caps)
        )
        q, v, pi = np.asarray(q), np.asarray(v), np.asarray(pi)
    q_ref, v_ref, pi_ref = _numpy_soft_backward_induction(P, r, ref, lam, caps)
    np.testing.assert_allclose(q, q_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v, v_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(pi, pi_ref, rtol=1e-10, atol=1e-12)
    # Gibbs variational principle: V = <pi, Q> - lam KL(pi || ref) at every (h, s).
    kl = np.sum(pi_ref * np.log(pi_ref / ref), axis=-1)
    np.testing.assert_allclose(
        v[:-1], np.sum(pi_ref * q_ref, -1) - lam * kl, rtol=1e-9, atol=1e-10
    )


def test_kl_backward_induction_limits():
    # lambda -> 0: the unregularised optimum; a uniform reference does not matter then.
    rng = np.random.default_rng(1)
    H, S, A = 3, 4, 3
    P = jnp.asarray(rng.dirichlet(np.ones(S), size=(H, S, A)), jnp.float32)
    r = jnp.asarray(rng.uniform(size=(H, S, A)), jnp.float32)
    ref = jnp.full((H, S, A), 1.0 / A)
    q, v, pi = kl_regularized_backward_induction(P, r, ref, 1e-4)
    np.testing.assert_allclose(q, optimal_q_values(P, r), rtol=1e-4, atol=1e-3)
    # lambda large: the policy is the reference.
    _, _, pi = kl_regularized_backward_induction(P, r, ref * 0 + 0.2, 1e4)
    np.testing.assert_allclose(pi, 1.0 / 3.0, atol=1e-3)


def test_env_demonstrations_follow_the_optimal_policy():
    base = river_swim(4, 6)
    env = with_demonstrations(base, 5, num_demonstrations=3)
    reset, step = jax.jit(env.reset), jax.jit(env.step)
    state, obs = reset(jax.random.key(0), env.params)
    expert = np.asarray(expert_policy(base.params))
    states, actions = np.asarray(obs.states), np.asarray(obs.actions)
    assert states.shape == actions.shape == (5, 6)
    np.testing.assert_array_equal(obs.mask, [1, 1, 1, 0, 0])
    for h in range(6):
        np.testing.assert_array_equal(actions[:, h], expert[h, states[:, h]].argmax(-1))
    np.testing.assert_array_equal(states[:, 0], 0)  # river_swim starts in state 0
    # The expert's regret is zero; the uniform policy's is V* - V^unif.
    _, obs2, _, info = step(jax.random.key(1), state, jnp.asarray(expert), env.params)
    assert abs(float(info.regret)) < 1e-5 and float(info.gap) == float(info.regret)
    np.testing.assert_array_equal(obs2.states, obs.states)
    uniform = jnp.full((6, 4, 2), 0.5)
    _, _, _, info = step(jax.random.key(1), state, uniform, env.params)
    v_star = float(state.optimal_value)
    v_unif = float(policy_value(base.params, uniform)[0, 0])
    np.testing.assert_allclose(float(info.regret), v_star - v_unif, rtol=1e-5)


def test_env_validation():
    with pytest.raises(ValueError, match="num_demonstrations"):
        with_demonstrations(river_swim(4, 6), 5, num_demonstrations=6)
    with pytest.raises(ValueError, match="max_demonstrations"):
        with_demonstrations(river_swim(4, 6), 0)
    with pytest.raises(ValueError, match="lam"):
        demo_regularized_ucbvi(4, 2, 6, 10, lam=0.0)


# demo_ucbvi's eager (disable_jit) rollout is the slowest part: with the slow tests.
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=[pytest.mark.slow] if n == "demo_ucbvi" else [])
        for n in DEMONSTRATION_ALGORITHMS
    ],
)
def test_contract(name):
    env = with_demonstrations(river_swim(4, 5), 3, num_demonstrations=2)
    learner = DEMONSTRATION_ALGORITHMS[name](4, 2, 5, 20)
    policies = check_learner_contract(
        learner, env, num_rounds=4, run_rounds=20, num_seeds=2
    )
    np.testing.assert_allclose(policies.sum(-1), 1.0, atol=1e-5)


@pytest.mark.slow  # CI time (~9 s of CPU, statistical)
def test_more_demonstrations_lower_suboptimality():
    # Deterministic DeepSea N = 6 (one random action mapping): the played policy's exact
    # suboptimality after 20 episodes, N^E = 0 vs 16 demonstrations, 16 seeds each.
    # Without demonstrations the reference is uniform and 20 episodes are far too few
    # to find the treasure (gap ~1); with 16 the first policy already follows the
    # expert's path w.p. about (17/18)^6 ~ 0.71 (gap ~0.3). The test asks for half the
    # gap and a difference above 4 standard errors: a learner that ignored the
    # demonstrations (equal laws) passes that w.p. ~3e-5.
    size, horizon, episodes = 6, 6, 20
    base = deep_sea(size)
    mdp = base.sample_params(jax.random.key(2))
    env = with_demonstrations(base.with_params(mdp), 16)
    counts = jnp.asarray([0, 16], jnp.int32)
    instances = DemonstrationParams(
        jax.tree.map(lambda x: jnp.broadcast_to(x, (2, *x.shape)), mdp), counts
    )
    learner = demo_regularized_ucbvi(size, 2, horizon, episodes, lam=0.1)
    result = run(
        learner,
        env,
        episodes,
        key=jax.random.key(0),
        num_seeds=16,
        instances=instances,
        record=np.array([episodes]),
    )
    gap = np.asarray(result.metrics["gap"])[..., -1]  # [2, 16]
    diff = gap[0].mean() - gap[1].mean()
    se = np.sqrt(gap[0].var(ddof=1) / 16 + gap[1].var(ddof=1) / 16)
    assert diff > 4 * se + 1e-6, (gap.mean(1), se)
    assert gap[1].mean() < 0.5 * gap[0].mean(), gap.mean(1)
