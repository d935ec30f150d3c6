"""Tests for envs.adversarial_bandits: exact telescoped regret, the loss sequences, CRN.

The closed-loop checks (UCB1, uniform, EXP3) use the local helper ``_cumulative_regret``
(``lax.scan`` over rounds, ``vmap`` over seeds); they can move to
``experiments.runner``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.core import Learner, sample_categorical
from envs.adversarial_bandits import (
    AdversarialBanditInfo,
    KahanSum,
    PhasedLossParams,
    kahan_add,
    oblivious_bandit_from_fn,
    phase_index,
    phased_losses,
    stochastically_constrained_bandit,
    switching_bandit,
)

# --------------------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------------------


def _numpy_phase(t: np.ndarray, first_phase: float, growth: float) -> np.ndarray:
    """The phase of each round: round(s_j) <= t < round(s_{j+1}).

    ``s_j = first_phase (growth^j - 1) / (growth - 1)``, in float64.
    """
    starts = np.round(first_phase * (growth ** np.arange(80) - 1.0) / (growth - 1.0))
    return np.searchsorted(starts, t, side="right") - 1


def _numpy_losses(params: PhasedLossParams, num_rounds: int) -> np.ndarray:
    """The [T, K] (mean) loss table of a phased instance, in float64."""
    phases = _numpy_phase(
        np.arange(num_rounds), float(params.first_phase), float(params.growth)
    )
    return np.asarray(params.phase_losses, np.float64)[phases % 2]


@functools.cache
def _compiled_play(reset, step):
    """One jitted open-loop player per environment (params, actions, key as args)."""

    @jax.jit
    def run(params, actions, key):
        state, _ = reset(jax.random.key(123), params)

        def body(state, inputs):
            t, action = inputs
            state, _, feedback, info = step(
                jax.random.fold_in(key, t), state, action, params
            )
            return state, (feedback, info, state.cumulative_losses.total)

        rounds = jnp.arange(actions.shape[0])
        return jax.lax.scan(body, state, (rounds, actions))[1]

    return run


def _play(env, params, actions, key):
    """Plays a fixed action sequence: per-round feedback, info and L_t totals."""
    run = _compiled_play(env.reset, env.step)
    return run(params, jnp.asarray(actions, jnp.int32), key)


def _cumulative_regret(
    learner, env, params, num_rounds, keys, *, per_seed_params=False
):
    """Closed loop, ``vmap`` over seeds: per-seed cumulative regret [num_seeds, T].

    Round key = fold_in(seed_key, t), split into (learner, env) keys. With
    ``per_seed_params`` the params carry a leading seed axis (one instance per seed).
    """

    def one_seed(instance, seed_key):
        learner_state = learner.init(jax.random.fold_in(seed_key, 2**31 - 1))
        env_state, obs = env.reset(jax.random.fold_in(seed_key, 2**31 - 2), instance)

        def body(carry, t):
            learner_state, env_state, obs = carry
            key_learner, key_env = jax.random.split(jax.random.fold_in(seed_key, t))
            action, learner_state = learner.act(key_learner, learner_state, obs)
            env_state, next_obs, feedback, info = env.step(
                key_env, env_state, action, instance
            )
            learner_state = learner.update(learner_state, obs, action, feedback)
            return (learner_state, env_state, next_obs), info.regret

        carry = (learner_state, env_state, obs)
        return jax.lax.scan(body, carry, jnp.arange(num_rounds))[1]

    in_axes = (0 if per_seed_params else None, 0)
    regrets = jax.jit(jax.vmap(one_seed, in_axes=in_axes))(params, keys)
    return np.cumsum(np.asarray(regrets, np.float64), axis=1)


def _ucb1(num_arms: int) -> Learner:
    """UCB1 (Auer, Cesa-Bianchi and Fischer 2002, Figure 1), inline.

    Each arm once, then argmax mean + sqrt(2 ln t / n_a) with t the rounds played so far
    (ties to the lowest index). Inline so that this file does not depend on the bandit
    package.
    """

    def init(key):
        del key
        return jnp.zeros((num_arms,)), jnp.zeros((num_arms,))

    def act(key, state, obs):
        del key, obs
        counts, sums = state
        rounds = jnp.maximum(jnp.sum(counts), 1.0)
        safe = jnp.maximum(counts, 1.0)
        index = sums / safe + jnp.sqrt(2.0 * jnp.log(rounds) / safe)
        index = jnp.where(counts > 0, index, jnp.inf)
        return jnp.argmax(index).astype(jnp.int32), state

    def update(state, obs, action, reward):
        counts, sums = state
        return counts.at[action].add(1.0), sums.at[action].add(reward)

    return Learner(init, act, update)


def _uniform_learner(num_arms: int) -> Learner:
    def act(key, state, obs):
        return jax.random.randint(key, (), 0, num_arms, jnp.int32), state

    return Learner(lambda key: (), act, lambda state, obs, action, feedback: state)


def _exp3(num_arms: int) -> Learner:
    """Anytime EXP3 on losses 1 - reward, eta_t = sqrt(ln K / (t K)).

    Bubeck and Cesa-Bianchi (2012), Theorem 3.1: pseudo-regret <= 2 sqrt(T K ln K).
    """

    def init(key):
        del key
        return (
            jnp.zeros((num_arms,)),
            jnp.zeros(()),
            jnp.full((num_arms,), 1.0 / num_arms),
        )

    def act(key, state, obs):
        estimates, rounds, _ = state
        eta = jnp.sqrt(math.log(num_arms) / (num_arms * (rounds + 1.0)))
        probs = jax.nn.softmax(-eta * (estimates - jnp.min(estimates)))
        return sample_categorical(key, probs), (estimates, rounds, probs)

    def update(state, obs, action, reward):
        estimates, rounds, probs = state
        estimates = estimates.at[action].add((1.0 - reward) / probs[action])
        return estimates, rounds + 1.0, probs

    return Learner(init, act, update)


def _phase_losses_table(num_arms: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=(2, num_arms))


# --------------------------------------------------------------------------------------
# The loss sequences.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first_phase, growth", [(16.0, 2.0), (10.0, 1.6), (10.0, 3.0), (3.7, 1.25)]
)
def test_phase_index_matches_the_boundaries(first_phase, growth):
    t = np.arange(20_000)
    expected = _numpy_phase(t, first_phase, growth)
    with jax.enable_x64(True):
        env = switching_bandit(first_phase=first_phase, growth=growth)
        got = jax.jit(jax.vmap(phase_index, in_axes=(None, 0)))(env.params, t)
    np.testing.assert_array_equal(np.asarray(got), expected)
    # Phase j lasts first_phase * growth^j rounds (up to the rounding of boundaries).
    lengths = np.bincount(expected)[:-1]
    np.testing.assert_allclose(
        lengths, first_phase * growth ** np.arange(lengths.size), atol=1.0
    )


def test_phase_index_float32_at_exact_integer_boundaries():
    # With n0 = 16, g = 2 every boundary 16 (2^j - 1) is an integer exactly
    # representable in float32: the correction step must put t = s_j in phase j, not j -
    # 1.
    env = switching_bandit(first_phase=16.0, growth=2.0)
    t = np.arange(300_000)
    got = jax.jit(jax.vmap(phase_index, in_axes=(None, 0)))(env.params, t)
    np.testing.assert_array_equal(np.asarray(got), _numpy_phase(t, 16.0, 2.0))


def test_switching_default_losses():
    env = switching_bandit(num_arms=3, gap=0.1, first_phase=10.0, growth=3.0)
    np.testing.assert_allclose(
        np.asarray(env.params.phase_losses),
        [[0.0, 0.1, 0.1], [0.9, 1.0, 1.0]],
        atol=1e-7,
    )
    losses = jax.jit(jax.vmap(phased_losses, in_axes=(None, 0)))(
        env.params, jnp.arange(60)
    )
    # Phase 0 is t in [0, 10), phase 1 is [10, 40), phase 2 is [40, 130).
    np.testing.assert_allclose(np.asarray(losses[9]), [0.0, 0.1, 0.1], atol=1e-7)
    np.testing.assert_allclose(np.asarray(losses[10]), [0.9, 1.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(np.asarray(losses[39]), [0.9, 1.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(np.asarray(losses[40]), [0.0, 0.1, 0.1], atol=1e-7)


# --------------------------------------------------------------------------------------
# Exact telescoped regret against a NumPy reference.
# --------------------------------------------------------------------------------------


def _reference(losses, mean_losses, actions):
    """Regret against the best fixed arm at every round, by brute force in float64."""
    cumulative = np.cumsum(losses, axis=0)
    rounds = np.arange(len(actions))
    pulled = losses[rounds, actions]
    regret = np.cumsum(pulled) - cumulative.min(axis=1)
    best = cumulative[rounds, actions] == cumulative.min(axis=1)
    mean_cumulative = np.cumsum(mean_losses, axis=0)
    pseudo = np.cumsum(mean_losses[rounds, actions]) - mean_cumulative.min(axis=1)
    return regret, best, pseudo, pulled, cumulative


@pytest.mark.parametrize("kind", ["switching", "stochastically_constrained", "from_fn"])
def test_telescoped_regret_equals_hindsight_regret(kind):
    num_rounds, num_arms = 400, 3
    rng = np.random.default_rng(0)
    actions = rng.integers(0, num_arms, num_rounds)
    key = jax.random.key(7)
    with jax.enable_x64(True):
        if kind == "switching":
            env = switching_bandit(
                num_arms,
                phase_losses=_phase_losses_table(num_arms, 1),
                first_phase=5.0,
                growth=1.5,
            )
            means = losses = _numpy_losses(env.params, num_rounds)
        elif kind == "stochastically_constrained":
            env = stochastically_constrained_bandit(
                num_arms, gap=0.2, levels=(0.1, 0.6), first_phase=5.0, growth=1.5
            )
            means = _numpy_losses(env.params, num_rounds)
            # The env's draws: K uniforms from the round key, l = 1[u < mean].
            uniforms = np.asarray(
                jax.jit(
                    jax.vmap(
                        lambda t: jax.random.uniform(
                            jax.random.fold_in(key, t), (num_arms,), jnp.float64
                        )
                    )
                )(jnp.arange(num_rounds))
            )
            losses = (uniforms < means).astype(np.float64)
        else:
            weights = jnp.asarray([0.3, 0.7, 1.1])

            def loss_fn(params, t):
                return 0.5 + 0.5 * jnp.sin(params * t.astype(params.dtype))

            env = oblivious_bandit_from_fn(loss_fn, num_arms, weights)
            t = np.arange(num_rounds)[:, None]
            means = losses = 0.5 + 0.5 * np.sin(np.asarray(weights)[None, :] * t)
        feedback, info, totals = _play(env, env.params, actions, key)

    assert isinstance(info, AdversarialBanditInfo)
    regret, best, pseudo, pulled, cumulative = _reference(losses, means, actions)
    np.testing.assert_allclose(np.asarray(feedback), 1.0 - pulled, atol=1e-12)
    np.testing.assert_allclose(np.asarray(totals), cumulative, atol=1e-10)
    np.testing.assert_allclose(np.cumsum(np.asarray(info.regret)), regret, atol=1e-10)
    np.testing.assert_array_equal(np.asarray(info.best_arm_played), best.astype(float))
    np.testing.assert_allclose(
        np.cumsum(np.asarray(info.pseudo_regret)), pseudo, atol=1e-10
    )
    # Not vacuous: a random action sequence has positive regret and visits leaders.
    assert regret[-1] > 1.0 and 0 < best.mean() < 1


def test_losses_lie_in_unit_interval_and_reward_is_one_minus_loss():
    num_rounds = 3000
    actions = np.random.default_rng(1).integers(0, 4, num_rounds)
    for env in (
        switching_bandit(4, phase_losses=_phase_losses_table(4, 2), growth=1.3),
        stochastically_constrained_bandit(4, gap=0.3, first_phase=3.0, growth=1.3),
    ):
        feedback, _, totals = _play(env, env.params, actions, jax.random.key(0))
        increments = np.diff(np.asarray(totals, np.float64), axis=0, prepend=0.0)
        assert np.all(increments >= -1e-6) and np.all(increments <= 1 + 1e-6)
        feedback = np.asarray(feedback)
        assert np.all((feedback >= 0) & (feedback <= 1))
        pulled = increments[np.arange(num_rounds), actions]
        np.testing.assert_allclose(feedback, 1.0 - pulled, atol=1e-3)


def test_deterministic_sequence_is_identical_across_keys():
    env = switching_bandit(3, phase_losses=_phase_losses_table(3, 3), growth=1.4)
    actions = np.random.default_rng(2).integers(0, 3, 500)
    first = _play(env, env.params, actions, jax.random.key(0))
    second = _play(env, env.params, actions, jax.random.key(99))
    for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_stochastic_losses_use_the_key_and_not_the_action():
    env = stochastically_constrained_bandit(3, gap=0.2, levels=(0.3, 0.3))
    rng = np.random.default_rng(3)
    actions_a, actions_b = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    _, _, totals_a = _play(env, env.params, actions_a, jax.random.key(0))
    _, _, totals_b = _play(env, env.params, actions_b, jax.random.key(0))
    _, _, totals_c = _play(env, env.params, actions_a, jax.random.key(1))
    # Common random numbers: the losses do not depend on the actions played.
    np.testing.assert_array_equal(np.asarray(totals_a), np.asarray(totals_b))
    assert not np.array_equal(np.asarray(totals_a), np.asarray(totals_c))


def test_stochastically_constrained_keeps_the_gap():
    num_rounds, num_arms, gap = 20_000, 3, 0.2
    actions = np.zeros(num_rounds, np.int64)
    actions[::2] = 1
    with jax.enable_x64(True):
        env = stochastically_constrained_bandit(
            num_arms, gap=gap, first_phase=10.0, growth=2.0
        )
        _, info, totals = _play(env, env.params, actions, jax.random.key(11))
    means = _numpy_losses(env.params, num_rounds)  # [T, K], levels (0, 0.8) + gaps
    np.testing.assert_allclose(means[:, 1:] - means[:, :1], gap, atol=1e-12)
    empirical = np.asarray(totals)[-1]
    expected = means.sum(axis=0)
    # Sum of T independent Bernoulli(m_t) losses: sd = sqrt(sum_t m_t (1 - m_t)). Five
    # standard deviations: a correct env fails with probability < 1e-5 per arm.
    sd = np.sqrt(np.sum(means * (1 - means), axis=0))
    assert np.all(np.abs(empirical - expected) <= 5 * sd + 1e-9)
    # The realised gap L_T(i) - L_T(0) ~ gap T, sd = sqrt(sum_t var_i + var_0).
    sd_gap = np.sqrt(sd[1:] ** 2 + sd[0] ** 2)
    assert np.all(np.abs(empirical[1:] - empirical[0] - gap * num_rounds) <= 5 * sd_gap)
    # Not vacuous: the means drift (levels 0 and 1 - gap), so the sd is far below gap T.
    assert 5 * sd_gap.max() < 0.2 * gap * num_rounds
    # The pseudo-regret is exactly the gap of the pulled arm.
    np.testing.assert_allclose(
        np.asarray(info.pseudo_regret), gap * (actions != 0), atol=1e-12
    )


def test_playing_the_optimal_arm_has_no_regret():
    num_rounds = 10_000
    actions = np.zeros(num_rounds, np.int64)
    # Arm 0 is better by gap on every round: it leads at every round and its regret is
    # 0. The telescoped sum equals sum_t l_t(0) - L_T(0), the rounding error of the
    # Kahan sum L_T(0): ~1e-16 relative in float64, below one float32 ulp of
    # L_T <= 10^4 (2^-10) in float32.
    for x64, tolerance in ((True, 1e-9), (False, 2**-10)):
        with jax.enable_x64(x64):
            env = switching_bandit()
            _, info, _ = _play(env, env.params, actions, jax.random.key(0))
        regret = np.cumsum(np.asarray(info.regret, np.float64))
        assert np.max(np.abs(regret)) <= tolerance
        np.testing.assert_array_equal(np.asarray(info.best_arm_played), 1.0)

    env = stochastically_constrained_bandit(gap=0.1)
    _, info, _ = _play(env, env.params, actions, jax.random.key(5))
    regret = np.cumsum(np.asarray(info.regret, np.float64))
    # sum l(0) - min_i L(i) >= 0 always; at T = 10^4, L(1) - L(0) has mean gap T = 1000
    # and sd <= sqrt(T / 2) = 71, so arm 0 is the leader at the end (14 sd) and regret
    # is 0.
    assert np.all(regret >= -1e-3)
    assert abs(regret[-1]) < 1e-3
    # Pseudo-regret Delta_0 = 0 on every round, up to the float32 rounding of M_T(0).
    pseudo = np.cumsum(np.asarray(info.pseudo_regret, np.float64))
    assert np.max(np.abs(pseudo)) <= 2**-10


# --------------------------------------------------------------------------------------
# Precision of the cumulative losses.
# --------------------------------------------------------------------------------------


def test_kahan_summation_stays_exact_in_float32():
    num_terms = 1_000_000
    value = np.float32(0.1)
    exact = float(value) * num_terms  # float64 sum of the float32 value

    @jax.jit
    def sums():
        def body(carry, _):
            kahan, naive = carry
            return (kahan_add(kahan, jnp.full((1,), value)), naive + value), None

        zero = jnp.zeros((1,), jnp.float32)
        (kahan, naive), _ = jax.lax.scan(
            body, (KahanSum(zero, zero), zero), None, length=num_terms
        )
        return kahan.total[0], naive[0]

    kahan, naive = sums()
    # One unit in the last place of float32 at 10^5 is 2^-7 = 0.0078.
    assert abs(float(kahan) - exact) <= 0.008
    # Not vacuous: the naive float32 sum is off by hundreds of ulps.
    assert abs(float(naive) - exact) > 1.0


# --------------------------------------------------------------------------------------
# UCB1 is linear on the switching sequence; uniform and EXP3 are the references.
# --------------------------------------------------------------------------------------


def test_ucb1_has_linear_regret_on_the_switching_sequence():
    env = switching_bandit()  # gap 0.1, first_phase 10, growth 3
    num_rounds = 100_000
    keys = jax.random.split(jax.random.key(0), 1)
    regret_ucb = _cumulative_regret(_ucb1(2), env, env.params, num_rounds, keys)[0]
    regret_uniform = _cumulative_regret(
        _uniform_learner(2), env, env.params, 10_000, keys
    )[0]
    # Uniform: regret = gap * #(pulls of arm 1) ~ gap Binomial(T, 1/2): mean 0.05 T, sd
    # gap sqrt(T) / 2 = 5 at T = 10^4; 5 sd = 25.
    assert abs(regret_uniform[-1] - 0.05 * 10_000) <= 25
    # UCB1 (deterministic on a deterministic sequence): measured regret / T = 0.096 at
    # 10^4 and 0.099 at 10^5 (0.1 would be pulling arm 1 on every round). Sublinear
    # regret would need regret / T -> 0; we require it to stay above the uniform
    # policy's.
    for horizon in (10_000, 100_000):
        assert regret_ucb[horizon - 1] / horizon >= 0.08
    assert regret_ucb[9_999] >= 1.5 * regret_uniform[-1]


@pytest.mark.slow
def test_ucb1_linear_on_random_instances_and_exp3_sqrt():
    env = switching_bandit()
    num_rounds, num_seeds = 100_000, 32
    keys = jax.random.split(jax.random.key(3), num_seeds)
    instances = jax.jit(jax.vmap(env.sample_params))(keys)
    regret_ucb = _cumulative_regret(
        _ucb1(2), env, instances, num_rounds, keys, per_seed_params=True
    )
    regret_exp3 = _cumulative_regret(
        _exp3(2), env, instances, num_rounds, keys, per_seed_params=True
    )
    # Measured: UCB1's mean regret / T over these 32 random phase offsets is 0.032 at
    # 10^4 and 0.031 at 10^5 (it locks onto the wrong arm on a third of the instances).
    for horizon in (10_000, 100_000):
        assert regret_ucb[:, horizon - 1].mean() / horizon >= 0.012
    # EXP3's bound 2 sqrt(T K ln K) = 745 at T = 10^5 (measured mean 131, max 261).
    bound = 2 * math.sqrt(num_rounds * 2 * math.log(2))
    assert regret_exp3[:, -1].mean() <= bound
    assert regret_exp3[:, -1].mean() < 0.25 * regret_ucb[:, -1].mean()


# --------------------------------------------------------------------------------------
# Instances, vmap and validation.
# --------------------------------------------------------------------------------------


def test_sample_params_vmaps_and_permutes_arms():
    env = stochastically_constrained_bandit(4, gap=0.25)
    instances = jax.jit(jax.vmap(env.sample_params))(
        jax.random.split(jax.random.key(0), 64)
    )
    losses = np.asarray(instances.phase_losses)  # [64, 2, K]
    assert losses.shape == (64, 2, 4)
    # Each instance is a relabelling: one arm 0.25 below the three others in both
    # phases.
    best = np.argmin(losses[:, 0], axis=1)
    np.testing.assert_allclose(
        np.sort(losses[:, 0], axis=1), [[0, 0.25, 0.25, 0.25]] * 64, atol=1e-6
    )
    assert len(set(best.tolist())) == 4  # every arm is best on some instance (64 draws)
    first = np.asarray(instances.first_phase)
    assert np.all((first >= 10.0) & (first < 30.0)) and first.std() > 1.0

    @jax.jit
    @jax.vmap
    def first_round(params):
        state, _ = env.reset(jax.random.key(0), params)
        return env.step(jax.random.key(1), state, jnp.int32(0), params)[3]

    info = first_round(instances)
    assert info.regret.shape == (64,)
    np.testing.assert_allclose(
        np.asarray(info.pseudo_regret), 0.25 * (best != 0), atol=1e-6
    )


def test_validation_errors():
    with pytest.raises(ValueError, match="num_arms"):
        switching_bandit(1)
    with pytest.raises(ValueError, match="gap"):
        switching_bandit(gap=0.0)
    with pytest.raises(ValueError, match="gap"):
        stochastically_constrained_bandit(gap=1.0)
    with pytest.raises(ValueError, match="growth"):
        switching_bandit(growth=1.0)
    with pytest.raises(ValueError, match="first_phase"):
        stochastically_constrained_bandit(first_phase=0.5)
    with pytest.raises(ValueError, match="shape"):
        switching_bandit(3, phase_losses=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        switching_bandit(2, phase_losses=[[0.0, 1.5], [1.0, 0.0]])
    with pytest.raises(ValueError, match="levels"):
        stochastically_constrained_bandit(gap=0.3, levels=(0.0, 0.9))
    with pytest.raises(ValueError, match="num_arms"):
        oblivious_bandit_from_fn(lambda p, t: jnp.zeros(2), 2.0)
    env = oblivious_bandit_from_fn(lambda p, t: jnp.zeros(3), 2)
    state, _ = env.reset(jax.random.key(0), None)
    with pytest.raises(ValueError, match="shape"):
        env.step(jax.random.key(0), state, jnp.int32(0), None)
