"""Tests for the controlled action family of linear-Q instances
(``envs.adversarial_mdp_actions``) and the A-figure's script: the comparator is the
base instance's at every A (exactly), a policy on the base actions has the same
regret and feedback at every A, the extended instance is the mixture of the base
one and still a linear MDP, the copy equivalences of the two FTRL steps that explain
the figure, and clear errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algorithms.adversarial_mdp import linear_q as lq
from algorithms.adversarial_mdp.policy_optimization import policy_q_values
from envs.adversarial_mdp import (
    LinearQLossParams,
    best_policy,
    linear_q_mdp,
    linear_q_weights,
    switching_losses,
)
from envs.adversarial_mdp_actions import (
    action_family_mdp,
    extend_params,
    extension_matrix,
)
from experiments import advmdp_actions
from tests.helpers import check_learner_contract

S, A0, H, D = 3, 2, 3, 4
EPISODES = 30


def _play(env, params, policy, num_episodes=EPISODES):
    """Comparators, regrets and feedback of ``num_episodes`` episodes of a fixed
    policy, with step keys 0, 1, ... (the same draws for every env), in one jitted
    scan."""

    @jax.jit
    def play(params, policy):
        state, _ = env.reset(jax.random.key(0), params)

        def episode(state, k):
            state, _, fb, info = env.step(jax.random.key(k), state, policy, params)
            return state, (
                state.comparator,
                info.regret,
                fb.states,
                fb.actions,
                fb.losses,
            )

        return jax.lax.scan(episode, state, jnp.arange(num_episodes))[1]

    return [np.asarray(x) for x in play(params, policy)]


def _base_policy(num_actions, seed=1):
    """A random policy on the base actions, zero on the extra ones."""
    logits = jax.random.normal(jax.random.key(seed), (H, S, A0))
    policy = jax.nn.softmax(logits, axis=-1)
    return jnp.pad(policy, ((0, 0), (0, 0), (0, num_actions - A0)))


@pytest.mark.parametrize(
    "mixing, actions",
    [
        # copies, and mixtures: both with the slow tests (CI time, ~13 s of CPU)
        pytest.param(0.0, (4, 16), marks=pytest.mark.slow),
        pytest.param(0.3, (4, 8, 16), marks=pytest.mark.slow),
    ],
)
def test_comparator_and_base_policy_regret_are_identical_across_a(mixing, actions):
    """The family's comparator C_k and the regret of a base-action policy, episode by
    episode, are bit-for-bit those of the base instance ``linear_q_mdp`` at every A,
    and so are the episode's states, actions and losses."""
    key = jax.random.key(7)
    base_env = linear_q_mdp(S, A0, H, D, losses="switching")
    reference = _play(base_env, base_env.sample_params(key), _base_policy(A0))
    assert np.all(np.diff(reference[0]) > 0)  # the comparator moves every episode
    for num_actions in actions:
        env = action_family_mdp(S, A0, num_actions, H, D, mixing=mixing)
        got = _play(env, env.sample_params(key), _base_policy(num_actions))
        for g, w in zip(got, reference, strict=True):
            np.testing.assert_array_equal(g, w)


@pytest.mark.slow  # CI time (~11 s of CPU)
def test_extended_instance_is_the_mixture_and_a_linear_mdp():
    """Features, transitions and losses of every action are E-mixtures of the base
    actions' (float64 NumPy), the extended instance is a linear MDP (phi^T w^pi =
    backward induction), and the best policy puts no mass on dominated mixtures."""
    with jax.enable_x64(True):
        num_actions, mixing = 8, 0.3
        env = action_family_mdp(S, A0, num_actions, H, D, mixing=mixing)
        params = env.sample_params(jax.random.key(2))
        family = params.losses
        e = np.asarray(family.extension)
        np.testing.assert_allclose(e.sum(0), 1.0, rtol=0, atol=1e-15)
        # extra action A0 + j: (1 - eps) e_{j mod A0} + eps / A0
        for j in range(num_actions - A0):
            want = np.full(A0, mixing / A0)
            want[j % A0] += 1.0 - mixing
            np.testing.assert_allclose(e[:, A0 + j], want, rtol=0, atol=1e-15)
        phi0 = np.asarray(family.base.features)
        np.testing.assert_allclose(
            np.asarray(family.features), np.einsum("hsbd,ba->hsad", phi0, e), atol=1e-14
        )
        latent = np.asarray(family.base.latent)
        transitions = np.einsum("hsad,hdt->hsat", np.asarray(family.features), latent)
        np.testing.assert_allclose(params.transitions, transitions, atol=1e-14)
        np.testing.assert_allclose(params.transitions.sum(-1), 1.0, atol=1e-14)
        theta, _ = switching_losses(None, family.base.weights, jnp.asarray(3))
        theta = theta.reshape(H, D)
        policy = jax.nn.softmax(
            jax.random.normal(jax.random.key(5), (H, S, num_actions)), axis=-1
        )
        losses = np.einsum("hsad,hd->hsa", np.asarray(family.features), theta)

        @jax.jit  # one program (eager float64 dispatch of these is slow)
        def oracle(params, policy, losses):
            state, _ = env.reset(jax.random.key(0), params)
            _, _, feedback, _ = env.step(jax.random.key(0), state, policy, params)
            linear = LinearQLossParams(family.features, family.base.latent, None)
            w = linear_q_weights(linear, theta, policy)
            q = policy_q_values(params.transitions, losses, policy)
            best = best_policy(params.transitions, params.initial, losses)
            return feedback, w, q, best

        feedback, w, q, best = oracle(params, policy, jnp.asarray(losses))
        np.testing.assert_allclose(
            np.einsum("hsad,hd->hsa", np.asarray(family.features), w), q, atol=1e-12
        )
        # the episode's observed losses are the table's entries (episode 3's theta
        # is not episode 0's: compare with the env's own episode-0 table)
        theta0, _ = switching_losses(None, family.base.weights, jnp.asarray(0))
        table0 = np.einsum(
            "hsad,hd->hsa", np.asarray(family.features), np.reshape(theta0, (H, D))
        )
        visited = table0[np.arange(H), feedback.states, feedback.actions]
        np.testing.assert_allclose(feedback.losses, visited, atol=1e-12)
        # mixtures are never strictly better: the best policy plays base actions only
        assert np.all(np.asarray(best)[..., A0:] == 0)


def test_extension_matrix_copies_are_exact_zeros_and_ones():
    e = extension_matrix(2, 6)
    np.testing.assert_array_equal(e, [[1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(extension_matrix(3, 3), np.eye(3))


def test_log_barrier_on_copies_is_the_base_log_barrier_with_eta_over_m():
    """With m copies of every action (identical cumulative estimates) the log-barrier
    FTRL step puts q_b / m on each copy of base action b, where q is the base step
    with eta / m (the KKT form p_a = 1 / (eta u_a + nu)); exponential weights puts
    q_b / m with the SAME eta. This is what the A-figure measures on copies."""
    with jax.enable_x64(True):
        cumulative = jax.random.normal(jax.random.key(0), (H, S, A0)) * 5.0
        eta, m = 0.7, 4
        e = extension_matrix(A0, m * A0)
        copied = cumulative @ jnp.asarray(e)  # [H, S, m A0]
        aggregate = (
            np.asarray(lq.log_barrier_policy(copied, eta, num_iterations=60)) @ e.T
        )  # mass per base action
        want = lq.log_barrier_policy(cumulative, eta / m, num_iterations=60)
        np.testing.assert_allclose(aggregate, want, atol=1e-12)
        unequal = lq.log_barrier_policy(cumulative, eta, num_iterations=60)
        assert np.max(np.abs(aggregate - np.asarray(unequal))) > 1e-3
        hedge = np.asarray(lq._hedge_policy(copied, eta)) @ e.T
        np.testing.assert_allclose(hedge, lq._hedge_policy(cumulative, eta), atol=1e-14)


def test_mixture_family_is_copies_of_a0_mixtures_and_hedge_sees_a_prior():
    """The dominated-mixture family has only A0 distinct extra actions: at A = A0 + j
    A0 it is the 2 A0-action instance with j copies of each mixture. Copies have
    identical estimates, so exponential weights with A actions puts on each group of
    n copies the mass of the 2 A0-action exponential weights with prior weights n
    (same eta: a regulariser cost ln(1 / prior of the best action) = ln A), and the
    magnitude-reduced estimate of a copy is the grouped learner's (the centre
    depends on the group masses only). So on this family the A-dependence cannot
    come through the estimator: the A-figure's tuned panel reads it."""
    e16 = extension_matrix(A0, 16, 0.5)
    np.testing.assert_array_equal(e16[:, 2 * A0 :], np.tile(e16[:, A0 : 2 * A0], 6))
    with jax.enable_x64(True):
        distinct = 2 * A0
        groups = np.concatenate([np.arange(distinct), A0 + np.arange(12) % A0])
        g = np.eye(distinct)[groups].T  # [distinct, 16] group membership
        counts = g.sum(1)
        np.testing.assert_array_equal(counts, [1, 1, 7, 7])
        cumulative = jax.random.normal(jax.random.key(3), (H, S, distinct)) * 3.0
        eta = 0.4
        aggregate = np.asarray(lq._hedge_policy(cumulative @ jnp.asarray(g), eta)) @ g.T
        want = jax.nn.softmax(-eta * cumulative + np.log(counts)[None, None], axis=-1)
        np.testing.assert_allclose(aggregate, want, rtol=0, atol=1e-14)
        q = jax.random.normal(jax.random.key(4), (H, S, distinct)) * 20.0
        group_policy = jnp.asarray(want)
        policy16 = (group_policy / counts[None, None]) @ jnp.asarray(g)
        tilde16 = lq.magnitude_reduced_estimates(q @ jnp.asarray(g), policy16, eta)
        tilde = lq.magnitude_reduced_estimates(q, group_policy, eta)
        np.testing.assert_allclose(tilde16, tilde @ jnp.asarray(g), atol=1e-12)
        assert np.any(np.asarray(q - tilde) != 0)  # the truncation is active


def test_tuned_finals_chooses_on_one_half_and_reports_the_other():
    """The best learning rate per A is chosen on the first half of the seeds and its
    regret read on the second half (no selection bias); the default column is the
    multiplier-1 row on the same held-out seeds."""
    config = advmdp_actions.Config(
        action_counts=(2, 4), num_seeds=4, eta_multipliers=(0.5, 1.0, 2.0)
    )
    sweep2 = np.array([[9.0, 9.0, 1.0, 2.0], [5.0, 5.0, 3.0, 4.0], [7.0, 7.0, 0, 0]])
    sweep4 = np.array([[1.0, 1.0, 8.0, 8.0], [4.0, 4.0, 6.0, 6.0], [2.0, 2.0, 0, 0]])
    arrays = {
        "tuning/A2/x/final_regret": sweep2,
        "tuning/mix/A4/x/final_regret": sweep4,
    }
    chosen, tuned, default = advmdp_actions.tuned_finals(arrays, config, "x", "mix/")
    np.testing.assert_array_equal(chosen, [1.0, 0.5])
    np.testing.assert_array_equal(tuned, [[3.0, 8.0], [4.0, 8.0]])
    np.testing.assert_array_equal(default, [[3.0, 6.0], [4.0, 6.0]])
    assert advmdp_actions.tuning_key(config, "x", 2, "mix/") == (
        "tuning/A2/x/final_regret"
    )


def test_paired_differences_closed_form():
    """Per-instance differences from the first A; the second mixing's A0 column is
    the base run (the family at A = A0 is the base instance for every mixing)."""
    config = advmdp_actions.Config(action_counts=(2, 4))
    arrays = {
        "A2/x/regret": np.array([[1.0, 2.0], [3.0, 4.0]]),
        "A4/x/regret": np.array([[0.0, 3.0], [0.0, 2.0]]),
        "mix/A4/x/regret": np.array([[0.0, 5.0], [0.0, -1.0]]),
    }
    np.testing.assert_allclose(
        advmdp_actions.paired_differences(arrays, config, "x"),
        [[0.0, 1.0], [0.0, -2.0]],
    )
    np.testing.assert_allclose(
        advmdp_actions.paired_differences(arrays, config, "x", "mix/"),
        [[0.0, 3.0], [0.0, -5.0]],
    )


def test_clear_errors():
    with pytest.raises(ValueError, match="num_actions must be >= base_actions"):
        action_family_mdp(S, 4, 2, H, D)
    with pytest.raises(ValueError, match="mixing"):
        extension_matrix(2, 4, mixing=1.5)
    with pytest.raises(ValueError, match="mixing"):
        action_family_mdp(S, 2, 4, H, D, mixing=-0.1)
    with pytest.raises(ValueError, match="base_actions"):
        extension_matrix(1, 4)
    with pytest.raises(ValueError, match="unknown loss sequence"):
        action_family_mdp(S, 2, 4, H, D, losses="nope")
    base = linear_q_mdp(S, A0, H, D).sample_params(jax.random.key(0))
    with pytest.raises(ValueError, match=r"extension must be \[A0, A\]"):
        extend_params(base, np.eye(3))
    tabular = base._replace(losses=None)
    with pytest.raises(ValueError, match="linear-Q instance"):
        extend_params(tabular, np.eye(A0))
    with pytest.raises(ValueError, match="curve_instances"):
        advmdp_actions.run_experiment(
            advmdp_actions.Config(curve_instances="other", action_counts=(2,))
        )
    with pytest.raises(ValueError, match="curve_actions in action_counts"):
        advmdp_actions.run_experiment(
            advmdp_actions.Config(curve_instances="family", action_counts=(2,))
        )
    with pytest.raises(ValueError, match="must contain 1.0"):
        advmdp_actions.run_experiment(advmdp_actions.Config(eta_multipliers=(0.5, 2.0)))
    with pytest.raises(ValueError, match="base_actions in action_counts"):
        advmdp_actions.run_experiment(advmdp_actions.Config(action_counts=(4, 8)))


@pytest.mark.slow
def test_quick_script_runs_end_to_end(tmp_path):
    """The figure script on a tiny configuration: finite regrets, the paired difference
    is 0 at the first A, the mixtures' learning-rate sweep at multiplier 1 reproduces
    a plain run of the default learner (same seeds, same learner), the tuned panel's
    and the ridge check's arrays have their shapes, and the plot is written."""
    from experiments.common import run_learners

    config = advmdp_actions.Config(
        action_counts=(2, 4),
        num_rounds=20,
        num_seeds=4,
        fixed_rate_actions=(4,),
        eta_multipliers=(0.5, 1.0),
        ridge_multipliers=(1.0, 0.25),
        second_mixing=0.5,
        curve_instances="family",
        algorithms=("log_barrier_ftrl", "magnitude_reduced_ftrl"),
    )
    arrays = advmdp_actions.run_experiment(config)["arrays"]
    names = ("log_barrier_ftrl", "magnitude_reduced_ftrl")
    plain = run_learners(
        {n: advmdp_actions._learner(n, config, 4) for n in names},
        advmdp_actions._family_env(config, 4, 0.5),
        config.num_rounds,
        num_seeds=config.num_seeds,
        seed=config.seed,
    )["arrays"]
    for name in names:
        for prefix in ("", "mix/"):
            differences = advmdp_actions.paired_differences(
                arrays, config, name, prefix
            )
            np.testing.assert_array_equal(differences[:, 0], 0.0)
            assert np.all(np.isfinite(differences))
        assert np.all(np.isfinite(arrays[f"fixed_rate/A4/{name}/regret"]))
        # float32; the sweep traces eta, the run closes over it: rounding only
        np.testing.assert_allclose(
            arrays[f"mix/A4/{name}/regret"][:, -1],
            plain[f"{name}/regret"][:, -1],
            rtol=1e-3,
            atol=1e-3,
        )
        assert arrays[f"tuning/mix/A4/{name}/final_regret"].shape == (2, 4)
        chosen, tuned, default = advmdp_actions.tuned_finals(
            arrays, config, name, "mix/"
        )
        assert set(chosen) <= {0.5, 1.0} and tuned.shape == default.shape == (2, 2)
    ridge = arrays["ridge/log_barrier_ftrl/final_regret"]
    assert ridge.shape == (2, 2, 4) and np.all(np.isfinite(ridge))
    advmdp_actions.plot(arrays, config, tmp_path / "a.png")
    assert (tmp_path / "a.png").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["log_barrier_ftrl", "magnitude_reduced_ftrl"])
def test_learner_contract_on_the_family(name):
    """The figure's learners keep the protocol on the extended instances (A = 4 from
    A0 = 2, dominated mixtures)."""
    learner = getattr(lq, name)(2, 4, 2, D, num_rollouts=4)
    env = action_family_mdp(2, 2, 4, 2, D, mixing=0.3)
    params = env.sample_params(jax.random.key(1))
    check_learner_contract(
        learner, env, num_rounds=4, run_rounds=10, num_seeds=2, params=params
    )


def test_equivalent_multiplier_closed_form():
    """On copies, the tuned log-barrier at A = m A0 is the A0 learner with eta_A / m
    = eta_A0 sqrt(m) / m (eta ~ sqrt(A)); exponential weights keeps its eta, eta_A /
    eta_A0 = sqrt(ln A / ln A0)."""
    config = advmdp_actions.Config()
    lb = advmdp_actions.equivalent_multiplier("log_barrier_ftrl", config, 16, 16)
    mr = advmdp_actions.equivalent_multiplier("magnitude_reduced_ftrl", config, 16, 16)
    np.testing.assert_allclose(lb, 1.0 / np.sqrt(8.0), rtol=1e-12)
    np.testing.assert_allclose(mr, np.sqrt(np.log(16.0) / np.log(2.0)), rtol=1e-12)
    fixed = advmdp_actions.equivalent_multiplier("log_barrier_ftrl", config, 16, 2)
    np.testing.assert_allclose(fixed, 1.0 / 8.0, rtol=1e-12)
