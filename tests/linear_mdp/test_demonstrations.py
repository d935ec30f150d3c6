"""Demonstration-regularised RL in linear MDPs: the env with demonstrations, behaviour
cloning over the linear softmax class, the KL-regularised LSVI backup and the learners.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.linear_mdp import (
    ALGORITHMS,
    elliptical_bonus,
    lsvi_q_values,
    lsvi_ucb,
)
from algorithms.linear_mdp.demonstrations import (
    bc_objective,
    demo_lsvi_ucb,
    linear_behavior_cloning,
    linear_behavior_cloning_learner,
    soft_lsvi_q_values,
)
from algorithms.linear_mdp.lsvi import LSVIStats
from algorithms.tabular.demonstrations import demonstration_counts
from envs.demonstrations import Demonstrations, expert_policy
from envs.linear_demonstrations import (
    LinearDemonstrationParams,
    with_linear_demonstrations,
)
from envs.linear_mdp import (
    linear_mdp_from_tabular,
    linear_to_tabular,
    random_linear_mdp,
    sample_linear_mdp_params,
    two_state_linear_mdp,
)
from envs.tabular_mdp import sample_tabular_mdp_params, simulate_episode
from experiments.runner import run
from tests.linear_mdp.test_lsvi import _random_history, _stats_from_history
from tests.tabular.test_demonstrations import _numpy_soft_backward_induction

# ----------------------------------------------------------------------------------
# The env.
# ----------------------------------------------------------------------------------


def test_env_shows_optimal_demonstrations_and_exact_regret():
    env = with_linear_demonstrations(two_state_linear_mdp([0.2, 0.7, 0.4], 4), 6, 4)
    reset, step = jax.jit(env.reset), jax.jit(env.step)
    state, obs = reset(jax.random.key(0), env.params)
    np.testing.assert_array_equal(obs.features, env.params.linear.features)
    np.testing.assert_array_equal(obs.demonstrations.mask, [1, 1, 1, 1, 0, 0])
    # The expert plays argmax_a p_a = 1; at the last step every action ties (the
    # reward depends on the state only) and the lowest index wins.
    np.testing.assert_array_equal(obs.demonstrations.actions[:, :-1], 1)
    np.testing.assert_array_equal(obs.demonstrations.actions[:, -1], 0)
    tabular = linear_to_tabular(env.params.linear)
    expert = expert_policy(tabular)
    _, obs2, trajectory, info = step(jax.random.key(1), state, expert, env.params)
    assert abs(float(info.regret)) < 1e-6 and float(info.gap) == float(info.regret)
    np.testing.assert_array_equal(obs2.demonstrations.states, obs.demonstrations.states)
    # Uniform policy: V* - V^unif = (H - 1) (0.7 - mean p) (two_state_linear_mdp).
    uniform = jnp.full((4, 2, 3), 1.0 / 3.0)
    _, _, _, info = step(jax.random.key(1), state, uniform, env.params)
    np.testing.assert_allclose(info.regret, 3 * (0.7 - np.mean([0.2, 0.7, 0.4])), 1e-5)
    with pytest.raises(ValueError, match="num_demonstrations"):
        with_linear_demonstrations(two_state_linear_mdp([0.2, 0.7], 4), 3, 5)


# ----------------------------------------------------------------------------------
# Behaviour cloning.
# ----------------------------------------------------------------------------------


def _numpy_bc_gradient(w, features, counts, reg):
    logits = features @ w
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    mean = np.einsum("sa,sad->sd", p, features)
    return np.einsum("sa,sad->d", counts, features) - counts.sum(-1) @ mean - reg * w


def test_bc_newton_reaches_the_stationary_point_of_the_objective():
    """Float64: the returned weights zero the (NumPy) gradient of the regularised
    log-likelihood, and no random perturbation increases it (strict concavity)."""
    rng = np.random.default_rng(1)
    features = rng.dirichlet(np.ones(3), (4, 3))  # S = 4, A = 3, d = 3
    counts = rng.integers(0, 12, (2, 4, 3)).astype(float)  # H = 2
    counts[1, 2] = [0.0, 0.0, 9.0]  # a deterministic expert in one state
    with jax.enable_x64(True):
        w, log_pi = linear_behavior_cloning(
            jnp.asarray(features), jnp.asarray(counts), 0.5, num_steps=25
        )
        w = np.asarray(w)
        for h in range(2):
            grad = _numpy_bc_gradient(w[h], features, counts[h], 0.5)
            assert np.abs(grad).max() < 1e-8, grad
            best = float(bc_objective(jnp.asarray(w[h]), features, counts[h], 0.5))
            for _ in range(5):
                other = w[h] + 0.05 * rng.normal(size=3)
                assert float(bc_objective(other, features, counts[h], 0.5)) < best
        logits = np.einsum("sad,hd->hsa", features, w)
        expected = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        np.testing.assert_allclose(log_pi, expected, atol=1e-12)
    # No data: w = 0, the uniform policy.
    w0, log_pi0 = linear_behavior_cloning(
        jnp.asarray(features, jnp.float32), jnp.zeros((2, 4, 3)), 1.0
    )
    np.testing.assert_allclose(w0, 0.0, atol=1e-7)
    np.testing.assert_allclose(np.exp(log_pi0), 1.0 / 3.0, rtol=1e-6)


def _numpy_trajectory_kl(tabular, expert, log_bc):
    """E_{pi^E} sum_h KL(pi^E_h(s_h) || pi^BC_h(s_h)), by a forward pass (float64)."""
    P = np.asarray(tabular.transitions, np.float64)
    pe = np.asarray(expert, np.float64)
    lb = np.asarray(log_bc, np.float64)
    occupancy = np.asarray(tabular.initial, np.float64)
    total = 0.0
    for h in range(pe.shape[0]):
        kl_s = np.sum(pe[h] * (np.log(pe[h]) - lb[h]), axis=-1)
        total += occupancy @ kl_s
        occupancy = np.einsum("s,sa,sat->t", occupancy, pe[h], P[h])
    return total


@pytest.mark.slow  # CI time (~10 s of CPU, statistical)
def test_bc_kl_to_a_realisable_expert_falls_like_d_h_over_2n():
    """A softmax expert pi_{w*} (realisable). For a well-specified MLE the expected
    KL(pi^E || pi^BC) is (#identifiable params) / (2 N) + o(1 / N). The features lie
    on the simplex, so w's component along (1, ..., 1) shifts every logit alike and
    is not identifiable: (d - 1) H = 6 parameters, 2 N KL -> chi^2_6 (mean 6, sd 3.5;
    measured 5.5, 6.6, 6.6, 7.5 at N = 100, 300, 1000, 3000, 48 seeds). Averaged over
    48 seeds the sd of 2 N mean-KL is 0.5; the window [4, 9] adds room for the
    higher-order terms and the tiny ridge bias, and holding at N = 100 and 1000
    checks the 1 / N rate. A wrong gradient, a non-converged Newton or a ridge that
    dominates leaves it (rho = 50 gives 2 N KL ~ 1.8e3 at N = 1000, measured)."""
    num_states, num_actions, dim, horizon = 6, 4, 3, 3
    lin = sample_linear_mdp_params(
        jax.random.key(7), num_states, num_actions, dim, horizon
    )
    tabular = linear_to_tabular(lin)
    w_star = 4.0 * jax.random.normal(jax.random.key(8), (horizon, dim))
    expert = jax.nn.softmax(jnp.einsum("sad,hd->hsa", lin.features, w_star), axis=-1)
    n_max, seeds = 1000, 48

    def kl_inputs(key, n):
        keys = jax.random.split(key, n_max)
        traj = jax.vmap(lambda k: simulate_episode(k, tabular, expert))(keys)
        mask = (jnp.arange(n_max) < n).astype(jnp.float32)
        counts = demonstration_counts(
            Demonstrations(traj.states, traj.actions, mask), num_states, num_actions
        )
        return linear_behavior_cloning(lin.features, counts, 1e-3, 20)[1]

    fn = jax.jit(jax.vmap(jax.vmap(kl_inputs, (None, 0)), (0, None)))
    log_bc = np.asarray(
        fn(jax.random.split(jax.random.key(9), seeds), jnp.asarray([100, 1000]))
    )  # [seeds, 2, H, S, A]
    for j, n in enumerate((100, 1000)):
        kls = [
            _numpy_trajectory_kl(tabular, expert, log_bc[i, j]) for i in range(seeds)
        ]
        scaled = 2 * n * np.mean(kls)
        assert 4.0 < scaled < 9.0, (n, scaled)


# ----------------------------------------------------------------------------------
# The KL-regularised LSVI backup.
# ----------------------------------------------------------------------------------


def _numpy_soft_lsvi(features, history, beta, reg, horizon, ref, lam):
    """Plain float64 loops over the whole history (rlberry's structure) with the soft
    backup V = lam log sum_a ref e^(Q / lam)."""
    num_states, num_actions, dim = features.shape
    q = np.zeros((horizon, num_states, num_actions))
    v_next = np.zeros(num_states)
    for h in reversed(range(horizon)):
        gram = reg * np.eye(dim)
        target = np.zeros(dim)
        for states, actions, rewards in history:
            phi = features[states[h], actions[h]]
            gram += np.outer(phi, phi)
            y = rewards[h] + (v_next[states[h + 1]] if h + 1 < horizon else 0.0)
            target += phi * y
        inv = np.linalg.inv(gram)
        w = inv @ target
        v = np.zeros(num_states)
        for s in range(num_states):
            for a in range(num_actions):
                phi = features[s, a]
                q[h, s, a] = min(phi @ w + beta * np.sqrt(phi @ inv @ phi), horizon - h)
            m = q[h, s].max()
            v[s] = m + lam * np.log(np.sum(ref[h, s] * np.exp((q[h, s] - m) / lam)))
        v_next = v
    return q, v_next


def _backup_inputs(seed=0):
    rng = np.random.default_rng(seed)
    num_states, num_actions, dim, horizon = 5, 3, 4, 4
    features = rng.dirichlet(np.ones(dim), (num_states, num_actions))
    history = [
        (s[:horizon], a, r)
        for s, a, r in _random_history(rng, num_states, num_actions, horizon, 9)
    ]
    stats = _stats_from_history(features, history, num_states, horizon, 1.0)
    bonus = jnp.stack(
        [elliptical_bonus(jnp.asarray(features), stats.gram_inv[h]) for h in range(4)]
    )
    ref = rng.dirichlet(np.ones(num_actions), (horizon, num_states))
    return features, history, stats, bonus, ref


@pytest.mark.parametrize("lam", [0.05, 0.5, 5.0])
def test_soft_backup_equals_the_numpy_history_recomputation(lam):
    features, history, stats, bonus, ref = _backup_inputs()
    q, v, policy = soft_lsvi_q_values(
        jnp.asarray(features, jnp.float32), stats, 0.7, bonus, jnp.asarray(ref), lam
    )
    q_ref, v0_ref = _numpy_soft_lsvi(features, history, 0.7, 1.0, 4, ref, lam)
    # float32 regression on a float64 reference: 1e-4 as in test_lsvi.
    np.testing.assert_allclose(q, q_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(v[0], v0_ref, rtol=1e-4, atol=1e-4)
    # pi = ref e^(Q / lam) / normaliser, and V = <pi, Q> - lam KL(pi || ref) (Gibbs).
    q64 = q_ref
    unnorm = ref * np.exp((q64 - q64.max(-1, keepdims=True)) / lam)
    np.testing.assert_allclose(
        policy, unnorm / unnorm.sum(-1, keepdims=True), atol=1e-4
    )
    pol = np.asarray(policy, np.float64)
    gibbs = np.sum(pol * q64, -1) - lam * np.sum(pol * np.log(pol / ref), -1)
    np.testing.assert_allclose(v[:4], gibbs, rtol=1e-3, atol=1e-3)


def test_soft_backup_with_exact_one_hot_data_is_the_tabular_soft_value_iteration():
    """One-hot features, every (s, a) seen n times with exactly P-distributed next
    states, beta = 0, ridge -> 0: the soft LSVI backup is the KL-regularised value
    iteration of the tabular MDP (the float64 NumPy loop of the tabular tests)."""
    params = sample_tabular_mdp_params(jax.random.key(4), 4, 3, 5)
    lin = linear_mdp_from_tabular(params)
    horizon, num_states, num_actions = params.rewards.shape
    dim = num_states * num_actions
    n, reg = 1000.0, 1e-6
    gram = jnp.broadcast_to((n + reg) * jnp.eye(dim), (horizon, dim, dim))
    stats = LSVIStats(
        gram,
        jnp.zeros_like(gram),
        jnp.linalg.inv(gram),
        n * params.rewards.reshape(horizon, dim),
        n * params.transitions.reshape(horizon, dim, num_states).at[-1].set(0.0),
        jnp.asarray(1, jnp.int32),
    )
    ref = np.random.default_rng(2).dirichlet(np.ones(3), (horizon, num_states))
    q, v, policy = soft_lsvi_q_values(
        lin.features, stats, 0.0, jnp.zeros((horizon, 4, 3)), jnp.asarray(ref), 0.3
    )
    caps = np.arange(horizon, 0, -1.0)
    q_ref, v_ref, pi_ref = _numpy_soft_backward_induction(
        np.asarray(params.transitions, np.float64),
        np.asarray(params.rewards, np.float64),
        ref,
        0.3,
        caps,
    )
    # Relative ridge bias 1e-9; float32 rounding dominates.
    np.testing.assert_allclose(q, q_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(v, v_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(policy, pi_ref, atol=1e-5)


def test_soft_backup_tends_to_the_hard_max_as_lambda_vanishes():
    """V_soft in [max Q + lam log min ref, max Q] per step, so the gap to LSVI-UCB's
    hard backup is O(lam); it shrinks with lam and the policy becomes greedy."""
    features, _, stats, bonus, ref = _backup_inputs(seed=3)
    features = jnp.asarray(features, jnp.float32)
    hard = np.asarray(lsvi_q_values(features, stats, 0.7, bonus))
    errors = []
    for lam in (1e-1, 1e-2, 1e-4):
        q, _, policy = soft_lsvi_q_values(
            features, stats, 0.7, bonus, jnp.asarray(ref), lam
        )
        errors.append(np.abs(np.asarray(q) - hard).max())
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-3, errors
    greedy = hard.argmax(-1)
    assert np.all(np.take_along_axis(np.asarray(policy), greedy[..., None], -1) > 0.99)


# ----------------------------------------------------------------------------------
# The learners.
# ----------------------------------------------------------------------------------


def test_learners_validate_their_arguments():
    with pytest.raises(ValueError, match="lam"):
        demo_lsvi_ucb(2, 3, 4, 3, lam=-1.0)
    with pytest.raises(ValueError, match="bc_reg"):
        linear_behavior_cloning_learner(2, 3, 4, 3, bc_reg=0.0)
    assert "demo_lsvi_ucb" in ALGORITHMS and "linear_behavior_cloning" in ALGORITHMS


@pytest.mark.slow
def test_many_demonstrations_beat_lsvi_ucb_without_them():
    """Random linear MDPs (S = 10, A = 5, d = 4, H = 4, one instance per seed, the
    same for both learners: paired). With N^E = 500 optimal demonstrations the cloned
    policy is nearly optimal (per-episode regret ~0.03 against LSVI-UCB's ~0.15-0.3
    early on, measured), so after K = 60 episodes the demo-regularised learner's
    regret must be below half of LSVI-UCB's on average, and lower on at least 28 of
    32 seeds. A learner that ignored the demonstrations (lambda -> 0) or a wrong soft
    backup would sit at LSVI-UCB's level and fail both."""
    shape = (10, 5, 4, 4)
    env = with_linear_demonstrations(random_linear_mdp(*shape), 500)
    kw = dict(key=jax.random.key(2), num_seeds=32, record=[60])
    ours = run(demo_lsvi_ucb(*shape), env, 60, **kw).final_regret
    base = run(lsvi_ucb(*shape), env, 60, **kw).final_regret
    assert ours.mean() < 0.5 * base.mean(), (ours.mean(), base.mean())
    assert np.sum(ours < base) >= 28, (ours, base)


@pytest.mark.slow
def test_bc_learner_improves_with_demonstrations():
    """Fast statistical check on one instance, paired seeds: BC alone from 200
    demonstrations has a much smaller exact regret than from 2 (the uniform-ish
    clone), averaged over 16 seeds (measured ~0.05 vs ~0.35 per episode)."""
    shape = (10, 5, 4, 4)
    lin = sample_linear_mdp_params(jax.random.key(1), *shape)
    env = with_linear_demonstrations(random_linear_mdp(*shape), 200)
    instances = LinearDemonstrationParams(
        jax.tree.map(lambda x: jnp.stack([x, x]), lin), jnp.asarray([2, 200])
    )
    res = run(
        linear_behavior_cloning_learner(*shape),
        env,
        2,
        key=jax.random.key(0),
        num_seeds=16,
        instances=instances,
    )
    per_episode = res.final_regret / 2  # [2, seeds]
    assert per_episode[1].mean() < 0.4 * per_episode[0].mean(), per_episode.mean(1)
    assert np.all(per_episode >= -1e-5)  # regret against the optimum
