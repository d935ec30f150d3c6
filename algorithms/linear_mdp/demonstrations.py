"""Demonstration-regularised RL in linear MDPs: behaviour cloning over a linear softmax
policy class, then KL-regularised LSVI-UCB towards the cloned policy.

Tiapkin et al. (2024) use ``N^E`` expert trajectories in two phases: (1) behaviour
cloning, a (regularised) maximum-likelihood policy ``pi^BC`` in a policy class that
contains (or approximates) the expert; (2) an optimistic solver of the KL-regularised
MDP

.. math::

    \\max_\\pi \\; V^\\pi_1(s_1) - \\lambda\\,
    \\mathbb{E}_\\pi\\Big[\\sum_h \\mathrm{KL}\\big(\\pi_h(\\cdot|s_h) \\,\\|\\,
    \\pi^{BC}_h(\\cdot|s_h)\\big)\\Big],

whose optimum is ``epsilon``-optimal for the unregularised MDP when ``lambda`` is of
order ``epsilon / KL(pi^E || pi^BC)``, i.e. ``lambda ~ epsilon N^E / Poly(d, H)``.
In a linear MDP ``Q*_h(s, a) = phi(s, a)^T w*_h``, so the optimal (argmax) policy is the
zero-temperature limit of the **linear softmax class**

.. math::

    \\pi_w(a | s, h) = \\frac{\\exp(\\phi(s, a)^\\top w_h)}
    {\\sum_{a'} \\exp(\\phi(s, a')^\\top w_h)},

the class cloned here (:func:`linear_behavior_cloning`), and the KL-regularised
optimistic backup of LSVI-UCB (:func:`soft_lsvi_q_values`) replaces the max by the
soft value ``V_h(s) = lambda log sum_a pi^BC_h(a|s) exp(Q_h(s, a) / lambda)``.

Paper text: only the abstract and an overview of the paper could be read here (the
algorithm boxes and theorems could not); the BC objective's regulariser, the solver's
details and every number below are a **reconstruction, unverified**, derived from
the abstract's description (BC, then KL-regularised optimistic RL, sample complexity
``O~(Poly(d, H) / (epsilon^2 N^E))`` in linear MDPs).

Protocol: the env is :func:`envs.linear_demonstrations.with_linear_demonstrations`
(observation ``(features [S, A, d], demonstrations)``); one round is one episode;
``act`` returns a stochastic policy ``[H, S, A]``. The tabular counterpart is
:mod:`algorithms.tabular.demonstrations` (its demonstration counts and its
KL-regularised backward induction are reused here).
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from algorithms.core import (
    Learner,
    check_int,
    check_nonnegative,
    check_positive,
    float_dtype,
    lockstep_cond,
)
from algorithms.linear_mdp.lsvi import (
    LSVIStats,
    LSVIUCBState,
    initial_bonus_sq,
    lsvi_ucb,
)
from algorithms.tabular.demonstrations import (
    demonstration_counts,
    kl_regularized_backward_induction,
)

Array = jax.Array

__all__ = [
    "DemoLSVIUCBState",
    "LinearBCState",
    "bc_objective",
    "demo_lsvi_ucb",
    "linear_behavior_cloning",
    "linear_behavior_cloning_learner",
    "soft_lsvi_q_values",
]

# Step sizes tried by the guarded Newton method (1, 1/2, ..., 2^-7, and 0).
_STEP_SIZES = tuple(2.0**-i for i in range(8)) + (0.0,)


def bc_objective(weights: Array, features: Array, counts: Array, reg) -> Array:
    """The regularised log-likelihood of one step's demonstrations.

    .. math::

        L_h(w) = \\sum_{s, a} N^E_h(s, a) \\log \\pi_w(a | s)
        - \\frac{\\rho}{2} \\|w\\|^2 .

    Args:
        weights: ``[d]``.
        features: ``[S, A, d]``.
        counts: ``[S, A]`` the expert's visits ``N^E_h(s, a)``.
        reg: rho > 0.

    Returns:
        ``[]``.
    """
    log_policy = jax.nn.log_softmax(features @ weights, axis=-1)
    return jnp.sum(counts * log_policy) - 0.5 * reg * jnp.dot(weights, weights)


def _newton_step(weights, features, counts, reg):
    """One Newton step on ``L_h`` with a fixed-size step-size search (monotone)."""
    dim = features.shape[-1]
    policy = jax.nn.softmax(features @ weights, axis=-1)  # [S, A]
    state_counts = jnp.sum(counts, axis=-1)  # [S]
    mean_phi = jnp.einsum("sa,sad->sd", policy, features)  # [S, d]
    gradient = (
        jnp.einsum("sa,sad->d", counts, features)
        - state_counts @ mean_phi
        - reg * weights
    )
    centred = features - mean_phi[:, None, :]
    # Negative Hessian: sum_s N(s) Cov_{pi_w(s)}(phi) + rho I (positive definite).
    curvature = jnp.einsum(
        "s,sa,sai,saj->ij", state_counts, policy, centred, centred
    ) + reg * jnp.eye(dim, dtype=weights.dtype)
    chol = jnp.linalg.cholesky(curvature)
    direction = jax.scipy.linalg.cho_solve((chol, True), gradient)
    steps = jnp.asarray(_STEP_SIZES, weights.dtype)
    candidates = weights[None] + steps[:, None] * direction[None]
    values = jax.vmap(bc_objective, in_axes=(0, None, None, None))(
        candidates, features, counts, reg
    )
    # The last candidate is the current point: the objective never decreases.
    return candidates[jnp.argmax(values)]


def linear_behavior_cloning(
    features: Array, counts: Array, reg=1.0, num_steps: int = 12
) -> tuple[Array, Array]:
    """Behaviour cloning by regularised maximum likelihood over the linear softmax
    class, for every step ``h`` (in parallel).

    .. math::

        w^{BC}_h = \\arg\\max_w \\sum_{(s, a) \\in D^E_h} \\log \\pi_w(a | s)
        - \\frac{\\rho}{2} \\|w\\|^2, \\qquad
        \\pi^{BC}_h(a | s) \\propto \\exp(\\phi(s, a)^\\top w^{BC}_h),

    a strictly concave problem, solved by ``num_steps`` Newton steps from ``w = 0``
    (the uniform policy). Each step takes the best of the step sizes ``1, 1/2, ...,
    2^-7, 0`` (nine objective evaluations), so the objective never decreases and the
    work is fixed-shape. With no demonstrations ``pi^BC`` is uniform. The ridge term
    keeps ``w`` finite when the expert is deterministic (the MLE alone diverges
    towards the argmax policy) and every action's probability positive, so
    ``KL(pi^E || pi^BC)`` is finite. The data enter through the counts
    ``N^E_h(s, a)`` (the likelihood depends on nothing else).

    Args:
        features: ``[S, A, d]``.
        counts: ``[H, S, A]`` ``N^E_h(s, a)``
            (:func:`algorithms.tabular.demonstrations.demonstration_counts`).
        reg: rho > 0, the ridge weight (traceable).
        num_steps: Newton steps (a Python int).

    Returns:
        ``(weights [H, d], log_policy [H, S, A])``.

    References:
        Tiapkin et al., "Demonstration-Regularized RL", ICLR 2024, behaviour cloning
        by (regularised) maximum likelihood over a policy class, with a KL guarantee
        ``KL(pi^E || pi^BC) = O~(d H / N^E)`` for a ``d``-parameter class per step
        (the linear case of its general BC theorem). The ridge regulariser is this
        module's choice; the paper's exact regulariser and theorem numbers:
        reconstruction, unverified. The parametric rate ``E KL ~ (#params) / (2 N)``
        of a well-specified MLE is what the tests check.
    """
    chex.assert_rank(features, 3)
    chex.assert_rank(counts, 3)
    num_steps = check_int(num_steps, "num_steps")
    features = features.astype(counts.dtype)
    reg = jnp.asarray(reg, counts.dtype)
    dim = features.shape[-1]

    def fit(counts_h):
        def body(weights, _):
            return _newton_step(weights, features, counts_h, reg), None

        weights, _ = jax.lax.scan(
            body, jnp.zeros((dim,), counts.dtype), None, length=num_steps
        )
        return weights

    weights = jax.vmap(fit)(counts)  # [H, d]
    logits = jnp.einsum("sad,hd->hsa", features, weights)
    return weights, jax.nn.log_softmax(logits, axis=-1)


def soft_lsvi_q_values(
    features: Array, stats: LSVIStats, beta, bonus: Array, reference: Array, lam
) -> tuple[Array, Array, Array]:
    """KL-regularised optimistic LSVI: action values, soft values and the policy.

    For ``h = H - 1, ..., 0``:

    .. math::

        w_h = \\Lambda_h^{-1} \\sum_\\tau \\phi_\\tau
              \\big[r_\\tau + V_{h+1}(s'_\\tau)\\big], \\qquad
        Q_h(s, a) = \\min\\{w_h^\\top \\phi(s, a)
              + \\beta \\|\\phi(s, a)\\|_{\\Lambda_h^{-1}},\\; H - h\\},

        V_h(s) = \\lambda \\log \\sum_a \\pi^{BC}_h(a|s)\\, e^{Q_h(s, a) / \\lambda}
        = \\max_p \\langle p, Q_h(s) \\rangle - \\lambda\\,
          \\mathrm{KL}(p \\,\\|\\, \\pi^{BC}_h(s)), \\qquad
        \\pi_h(a|s) \\propto \\pi^{BC}_h(a|s)\\, e^{Q_h(s, a) / \\lambda}.

    LSVI-UCB's backup (Jin et al. 2020, Algorithm 1) with the hard ``max_a`` replaced
    by the KL-regularised (soft) Bellman operator towards ``pi^BC``; ``lambda -> 0``
    gives LSVI-UCB's values (``V = max_a Q`` up to ``lambda log A``).

    Computed exactly through the sufficient statistics of
    :mod:`algorithms.linear_mdp.lsvi`: ``phi^T w_h = r_hat_h + P_hat_h V_{h+1}`` with
    ``r_hat_h = Phi Lambda_h^{-1} b_h`` and the (signed, not stochastic) pseudo-model
    ``P_hat_h = Phi Lambda_h^{-1} N_h [S, A, S]``, so the backup is
    :func:`algorithms.tabular.demonstrations.kl_regularized_backward_induction` on
    ``(P_hat, r_hat + beta ||phi||_{Lambda^{-1}})`` with caps ``H - h``.

    Args:
        features: ``[S, A, d]``.
        stats: LSVI's regression statistics.
        beta: bonus scale (traceable).
        bonus: ``[H, S, A]`` the elliptical norms ``||phi(s, a)||_{Lambda_h^{-1}}``.
        reference: ``[H, S, A]`` ``pi^BC``, every entry > 0.
        lam: lambda > 0 (traceable).

    Returns:
        ``(Q [H, S, A], V [H + 1, S], policy [H, S, A])``.
    """
    horizon, dim, num_states = stats.phi_next.shape
    chex.assert_shape(features, (num_states, None, dim))
    dtype = stats.gram.dtype
    features = features.astype(dtype)
    projected = jnp.einsum("sad,hde->hsae", features, stats.gram_inv)  # Phi Lambda^-1
    pseudo_model = jnp.einsum("hsae,het->hsat", projected, stats.phi_next)
    rewards = jnp.einsum("hsae,he->hsa", projected, stats.phi_reward) + beta * bonus
    caps = jnp.arange(horizon, 0, -1).astype(dtype)  # [H] H - h
    return kl_regularized_backward_induction(
        pseudo_model, rewards, reference.astype(dtype), lam, caps
    )


def _bonus(state, features, reg):
    """LSVI-UCB's cached ``||phi||_{Lambda_h^{-1}} [H, S, A]`` (``reg I`` before any
    data, as in :func:`algorithms.linear_mdp.lsvi.lsvi_ucb`)."""
    fresh = initial_bonus_sq(features, jnp.asarray(reg, features.dtype))
    bonus_sq = jnp.where(state.stats.num_episodes == 0, fresh[None], state.bonus_sq)
    return jnp.sqrt(bonus_sq)


def _clone(obs, num_states, num_actions, bc_reg, bc_steps, dtype):
    counts = demonstration_counts(obs.demonstrations, num_states, num_actions)
    _, log_policy = linear_behavior_cloning(
        obs.features.astype(dtype), counts.astype(dtype), bc_reg, bc_steps
    )
    return log_policy


def _cached_clone(num_states, num_actions, bc_steps, dtype):
    """``clone(first, cached, obs, bc_reg)``: :func:`_clone` if ``first`` else
    ``cached``.

    The clone depends only on the observation (the features and the demonstrations,
    revealed before the first episode and the same in every episode), so the learners
    fit it in their first ``act`` and keep it in their state. Under ``vmap`` a
    ``lax.cond`` on a batched ``first`` would become a ``select`` that fits BC in
    every episode; the batching rule keeps one ``cond`` for the batch (fitting the
    seeds whose ``first`` holds, in episodes where some seed's does: only the first
    when seeds run in lockstep, as in the runner). Same values as refitting.
    """

    def fit(obs, bc_reg):
        return _clone(obs, num_states, num_actions, bc_reg, bc_steps, dtype)

    # clone(first, cached, obs, bc_reg): fit(obs, bc_reg) if first else cached.
    return lockstep_cond(fit)


class DemoLSVIUCBState(NamedTuple):
    """State of :func:`demo_lsvi_ucb`: LSVI-UCB's state and the cached clone."""

    lsvi: LSVIUCBState
    log_reference: Array  # [H, S, A] log pi^BC, fitted in the first act


def demo_lsvi_ucb(
    num_states: int,
    num_actions: int,
    dim: int,
    horizon: int,
    *,
    beta=1.0,
    reg=1.0,
    lam=0.002,
    lam_per_demonstration: bool = True,
    bc_reg=1.0,
    bc_steps: int = 12,
    refresh_every: int = 64,
) -> Learner:
    """Demonstration-regularised LSVI-UCB: BC over the linear softmax class, then
    KL-regularised optimistic LSVI towards ``pi^BC``.

    Each episode ``k``: ``pi^BC`` by :func:`linear_behavior_cloning` on the
    demonstrations of the observation, the KL-regularised optimistic backup
    :func:`soft_lsvi_q_values` on LSVI-UCB's statistics, and the episode is played
    with

    .. math::

        \\pi^k_h(a|s) \\propto \\pi^{BC}_h(a|s)\\, \\exp\\big(Q^k_h(s, a) /
        \\lambda\\big).

    The statistics and the cached bonuses are LSVI-UCB's own (its ``init`` and
    ``update`` are used as they are); only the backup and the policy differ.
    ``lambda -> 0`` recovers LSVI-UCB, ``lambda -> inf`` plays ``pi^BC``. Regret is
    measured by the env against the unregularised optimum.

    ``lambda``: the theory takes ``lambda = epsilon / (2 B)`` with ``B`` the bound on
    ``KL(pi^E || pi^BC)``, ``O~(d H / N^E)`` here, i.e. ``lambda ∝ N^E``; with
    ``lam_per_demonstration`` (default) ``lambda = lam * max(N^E, 1)`` with ``N^E``
    read from the observation's mask (``lam`` plays ``epsilon / (2 c d H)``), so one
    learner serves a grid over ``N^E``; otherwise ``lambda = lam``.

    Args:
        num_states, num_actions, dim, horizon: S, A, d, H (fix shapes).
        beta: LSVI-UCB's bonus scale (traceable).
        reg: LSVI's ridge parameter > 0 (traceable).
        lam: the KL weight (per demonstration, see above) > 0 (traceable). The
            default 0.002 was picked on the figure's instances (0.01 pulls too hard
            towards a mediocre clone at N^E = 10-100, see the figure's notes).
        lam_per_demonstration: scale ``lam`` by ``max(N^E, 1)`` (bool).
        bc_reg: the ridge weight rho of behaviour cloning > 0 (traceable).
        bc_steps: Newton steps of behaviour cloning (int).
        refresh_every: as in :func:`~algorithms.linear_mdp.lsvi.lsvi_ucb` (int).

    Returns:
        A :class:`~algorithms.core.Learner` with state :class:`DemoLSVIUCBState`
        (LSVI-UCB's state and ``pi^BC``, fitted once, in the first ``act``: it
        depends only on the observation); observation
        :class:`~envs.linear_demonstrations.LinearDemonstrationObs`.

    References:
        Tiapkin, Belomestny, Calandriello, Moulines, Munos, Naumov, Perrault, Valko
        and Menard, "Demonstration-Regularized RL", ICLR 2024: demonstration-
        regularised RL in linear MDPs, an ``epsilon``-optimal policy after
        ``O~(Poly(d, H) / (epsilon^2 N^E))`` online episodes (the abstract). The
        paper's own linear solver (a KL-regularised LSVI-UCB-type method; its bonus
        constants, its stopping rule for best-policy identification) and its
        algorithm / theorem numbers could not be read here: reconstruction,
        unverified. Jin, Yang, Wang and Jordan, COLT 2020, Algorithm 1 (LSVI-UCB,
        the regression and the bonus).
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    check_int(dim, "dim")
    horizon = check_int(horizon, "horizon")
    bc_steps = check_int(bc_steps, "bc_steps")
    for value, name in ((lam, "lam"), (bc_reg, "bc_reg"), (reg, "reg")):
        check_positive(value, name)
    check_nonnegative(beta, "beta")
    base = lsvi_ucb(
        num_states,
        num_actions,
        dim,
        horizon,
        beta=beta,
        reg=reg,
        refresh_every=refresh_every,
    )

    dtype = float_dtype()
    clone = _cached_clone(num_states, num_actions, bc_steps, dtype)

    def init(key):
        log_reference = jnp.zeros((horizon, num_states, num_actions), dtype)
        return DemoLSVIUCBState(base.init(key), log_reference)

    def act(key, state, obs):
        del key
        first = state.lsvi.stats.num_episodes == 0
        log_reference = clone(
            first, state.log_reference, obs, jnp.asarray(bc_reg, dtype)
        )
        state = DemoLSVIUCBState(state.lsvi, log_reference)
        lsvi = state.lsvi
        features = obs.features.astype(dtype)
        weight = jnp.asarray(lam, dtype)
        if lam_per_demonstration:
            weight = weight * jnp.maximum(jnp.sum(obs.demonstrations.mask), 1.0)
        _, _, policy = soft_lsvi_q_values(
            features,
            lsvi.stats,
            beta,
            _bonus(lsvi, features, reg),
            jnp.exp(log_reference),
            weight,
        )
        return policy, state

    def update(state, obs, action, feedback):
        lsvi = base.update(state.lsvi, obs, action, feedback)
        return DemoLSVIUCBState(lsvi, state.log_reference)

    return Learner(init, act, update)


class LinearBCState(NamedTuple):
    """State of :func:`linear_behavior_cloning_learner` (nothing is learned online)."""

    step: Array  # [] int32 episodes played
    log_policy: Array  # [H, S, A] log pi^BC, fitted in the first act


def linear_behavior_cloning_learner(
    num_states: int,
    num_actions: int,
    dim: int,
    horizon: int,
    *,
    bc_reg=1.0,
    bc_steps: int = 12,
) -> Learner:
    """Plays the behaviour-cloning policy of :func:`linear_behavior_cloning` in every
    episode (the ``lambda -> inf`` limit of :func:`demo_lsvi_ucb`; the baseline that
    uses only the demonstrations). Args as :func:`demo_lsvi_ucb`."""
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions")
    check_int(dim, "dim")
    horizon = check_int(horizon, "horizon")
    bc_steps = check_int(bc_steps, "bc_steps")
    check_positive(bc_reg, "bc_reg")

    dtype = float_dtype()
    clone = _cached_clone(num_states, num_actions, bc_steps, dtype)

    def init(key) -> LinearBCState:
        del key
        log_policy = jnp.zeros((horizon, num_states, num_actions), dtype)
        return LinearBCState(jnp.zeros((), jnp.int32), log_policy)

    def act(key, state, obs):
        del key
        log_policy = clone(
            state.step == 0, state.log_policy, obs, jnp.asarray(bc_reg, dtype)
        )
        return jnp.exp(log_policy), LinearBCState(state.step, log_policy)

    def update(state, obs, action, feedback):
        del obs, action, feedback
        return LinearBCState(state.step + 1, state.log_policy)

    return Learner(init, act, update)
