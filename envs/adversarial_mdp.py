"""Adversarial episodic MDPs: layered transitions, oblivious losses, exact regret.

An instance is a *layered* (loop-free) episodic MDP with ``H`` layers of ``S`` states
each and ``A`` actions: an episode starts in layer 0 (``x_0 ~ rho``), and from a state
of layer ``h`` every action leads to a state of layer ``h + 1`` through
``P_h(. | s, a)``. The transitions are a ``[H, S, A, S]`` table, ``P[h, s, a]`` the
distribution over the states of layer ``h + 1`` (``P[H - 1]`` is only used to draw the
unused state after the last step). A general loop-free MDP whose states are listed
flat with a layer index is converted by :func:`layered_transitions`, which raises a
clear ``ValueError`` when a transition skips or goes back a layer.

**Protocol (DESIGN.md).** One round is one episode ``k = 0, 1, ...``. The learner's
action is a policy table ``pi [H, S, A]``; the observation is the MDP itself
(:class:`KnownTransitions`) for a known-transition instance and ``()`` otherwise, so
that a learner for known transitions runs on random instances drawn per seed. The
environment draws the episode's loss table ``l_k [H, S, A]`` in [0, 1] from the instance
and the episode index (and, for stochastic losses, the step key) before the episode, so
the adversary is *oblivious*; no ``[K, H, S, A]`` table is ever stored. It simulates the
episode (``s_0 ~ rho``, ``a_h ~ pi[h, s_h]``, ``s_{h+1} ~ P_h(. | s_h, a_h)``) and
returns an :class:`AdversarialMDPFeedback`: the visited states and actions, their
losses, and -- with full-information feedback only -- the whole table ``l_k``
(``loss_table`` is ``None`` under bandit feedback).

**Regret against the best fixed policy in hindsight.** The state carries the
cumulative loss table ``L_k = sum_{j <= k} l_j`` (Kahan-compensated,
``envs.core.kahan_add``) and the comparator value ``C_{k-1}``. After episode ``k`` the
comparator ``C_k = min_pi V^pi(L_k)`` is computed by backward induction (minimising)
on ``L_k`` under the true transitions, and

.. math::

    r_k = V^{\\pi_k}(l_k) - (C_k - C_{k-1}), \\qquad
    \\sum_{j \\le k} r_j = \\sum_{j \\le k} V^{\\pi_j}(l_j) - \\min_\\pi
    \\sum_{j \\le k} V^\\pi(l_j),

(``C_{-1} = 0``): the running sum is the regret against the best fixed (deterministic,
Markov) policy for the horizon it is read at, with ``V^pi(l) = sum_s rho(s)
V^pi_0(s; l)`` the exact expected loss of ``pi`` (the randomness of the episode is
integrated out). ``pseudo_regret`` is the same quantity for the *expected* loss tables
(different from ``regret`` only for stochastic losses).

**Loss sequences** (each a function of the instance and ``k``): :func:`switching_losses`
(two tables alternating in geometrically growing phases), :func:`drifting_losses`
(sinusoidal drift), :func:`stochastic_losses` (Bernoulli losses with fixed means and a
gap between the best and the other actions), :func:`ftl_trap_losses` (alternating 0/1
losses that make any follow-the-leader policy pay every episode).

**Sampling.** The step key is split into (losses, episode) keys; the episode is drawn
by ``envs.tabular_mdp``'s simulator (one uniform per draw, in an order that does not
depend on the policy), so two learners run on the same seed see the same uniforms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

from envs.adversarial_bandits import PhasedLossParams, phased_losses
from envs.core import Env, KahanSum, check_int, float_dtype, is_concrete, kahan_add
from envs.tabular_mdp import (
    TabularMDPParams,
    backward_induction,
    policy_value,
    sample_tabular_mdp_params,
    simulate_episode,
    validated_params,
)

Array = jax.Array

__all__ = [
    "AdversarialMDPFeedback",
    "AdversarialMDPInfo",
    "AdversarialMDPParams",
    "AdversarialMDPState",
    "DriftingLossParams",
    "KnownTransitions",
    "LOSS_SEQUENCES",
    "LinearQLossParams",
    "LinearQObservation",
    "SimulatedRollouts",
    "StochasticLossParams",
    "TrapLossParams",
    "adversarial_mdp",
    "best_policy",
    "best_policy_value",
    "check_loss_table",
    "check_transitions",
    "drifting_losses",
    "expected_loss",
    "ftl_trap_losses",
    "layered_transitions",
    "linear_q_mdp",
    "linear_q_weights",
    "simulate",
    "stochastic_losses",
    "switching_losses",
]


class AdversarialMDPParams(NamedTuple):
    """A layered MDP and the parameters of its loss sequence."""

    transitions: Array  # [H, S, A, S] P_h(s' | s, a), s' in layer h + 1
    initial: Array  # [S] rho, distribution over layer 0
    losses: object  # pytree: the loss sequence's parameters


class KnownTransitions(NamedTuple):
    """The observation of a known-transition instance: the MDP itself."""

    transitions: Array  # [H, S, A, S]
    initial: Array  # [S]


class AdversarialMDPFeedback(NamedTuple):
    """What the learner observes after one episode."""

    states: Array  # [H] int32 s_0, ..., s_{H-1}
    actions: Array  # [H] int32 a_0, ..., a_{H-1}
    losses: Array  # [H] l_k(h, s_h, a_h)
    loss_table: Array | None  # [H, S, A] l_k (full information), None (bandit)


class AdversarialMDPInfo(NamedTuple):
    """Per-episode oracle quantities (additive over episodes)."""

    regret: Array  # [] telescoped increment against the best policy in hindsight
    pseudo_regret: Array  # [] the same increment for the expected loss tables


class AdversarialMDPState(NamedTuple):
    """What changes during a run."""

    episode: Array  # [] int32 episodes played so far (next episode's index)
    cumulative_losses: KahanSum  # [H, S, A] L_{k-1}
    comparator: Array  # [] C_{k-1} = min_pi V^pi(L_{k-1})
    cumulative_mean_losses: KahanSum  # [H, S, A] sum of the expected tables
    mean_comparator: Array  # [] min_pi V^pi of the expected cumulative table


# --------------------------------------------------------------------------------------
# Exact values under the true transitions (reusing envs.tabular_mdp's recursions).
# --------------------------------------------------------------------------------------


def expected_loss(transitions: Array, initial: Array, losses: Array, policy: Array):
    """``V^pi(l) = sum_s rho(s) V^pi_0(s; l)``: the expected total loss of ``policy``.

    Args:
        transitions: ``[H, S, A, S]``.
        initial: ``[S]``.
        losses: ``[H, S, A]`` one loss table.
        policy: ``[H, S, A]``.

    Returns:
        ``[]`` the expected loss of one episode.
    """
    values = policy_value(TabularMDPParams(transitions, losses, initial), policy)
    return jnp.dot(initial, values[0])


def best_policy_value(transitions: Array, initial: Array, losses: Array) -> Array:
    """``min_pi V^pi(l)`` by backward induction (minimising) under ``transitions``.

    The minimum over all (also stochastic, history-dependent) policies is attained by a
    deterministic Markov policy (Puterman 1994, Theorem 4.4.2), so this is the
    comparator of the regret. Computed as ``-max_pi V^pi(-l)`` with
    ``envs.tabular_mdp.backward_induction``.
    """
    _, values = backward_induction(TabularMDPParams(transitions, -losses, initial))
    return -jnp.dot(initial, values[0])


def best_policy(transitions: Array, initial: Array, losses: Array) -> Array:
    """A deterministic policy ``[H, S, A]`` (one-hot) minimising ``V^pi(l)``."""
    q_values, _ = backward_induction(TabularMDPParams(transitions, -losses, initial))
    return jax.nn.one_hot(jnp.argmax(q_values, axis=-1), losses.shape[-1], dtype=float)


# --------------------------------------------------------------------------------------
# Validation.
# --------------------------------------------------------------------------------------


def check_transitions(transitions, initial=None) -> tuple[np.ndarray, np.ndarray]:
    """Validates a layered transition table ``[H, S, A, S]`` (and ``initial``).

    Raises:
        ValueError: wrong rank (not layered), a row ``P_h(. | s, a)`` that is
            negative, not finite or does not sum to 1 (not stochastic), or an initial
            distribution that is not one.
    """
    transitions = np.asarray(transitions, dtype=np.float64)
    if transitions.ndim != 4 or transitions.shape[1] != transitions.shape[3]:
        raise ValueError(
            "transitions must be a layered table [H, S, A, S] (P[h, s, a] a "
            "distribution over the S states of layer h + 1), got shape "
            f"{transitions.shape}; convert a flat loop-free MDP with "
            "layered_transitions"
        )
    num_states = transitions.shape[1]
    if initial is None:
        initial = np.zeros(num_states)
        initial[0] = 1.0
    # envs.tabular_mdp's checks: non-negative finite rows summing to 1, a distribution
    # over layer 0 (zero rewards stand in for the losses, checked separately).
    validated_params(
        transitions, np.zeros(transitions.shape[:3]), initial, transitions.shape[0]
    )
    return transitions, np.asarray(initial, dtype=np.float64)


def layered_transitions(transitions, layers) -> np.ndarray:
    """A flat loop-free MDP ``[X, A, X]`` with a layer index per state, as ``[H, S, A,
    S]``.

    States of layer ``h`` keep their order and are padded to ``S = max_h |X_h|`` states
    per layer; a padding state is absorbing-to-padding (unreachable). Transitions out of
    the last layer must be all zero (the episode ends there).

    Args:
        transitions: ``[X, A, X]``; the row of a state of layer ``h < H - 1`` must be a
            distribution supported on layer ``h + 1``.
        layers: ``[X]`` ints ``0, ..., H - 1``, every layer non-empty.

    Raises:
        ValueError: the MDP is not layered (mass on a state outside the next layer, or
            out of the last layer), not stochastic, or ``layers`` is invalid.
    """
    transitions = np.asarray(transitions, dtype=np.float64)
    layers = np.asarray(layers)
    if transitions.ndim != 3 or transitions.shape[0] != transitions.shape[2]:
        raise ValueError(f"transitions must be [X, A, X], got {transitions.shape}")
    num_x, num_actions, _ = transitions.shape
    if layers.shape != (num_x,) or not np.issubdtype(layers.dtype, np.integer):
        raise ValueError(f"layers must be {num_x} integers, got {layers!r}")
    horizon = int(layers.max()) + 1
    if layers.min() != 0 or len(np.unique(layers)) != horizon:
        raise ValueError(f"layers must cover 0, ..., H - 1 without gaps, got {layers}")
    if np.any(transitions < 0) or not np.all(np.isfinite(transitions)):
        raise ValueError("transitions must be finite and non-negative")
    for x in range(num_x):
        h = layers[x]
        outside = transitions[x][:, layers != h + 1]
        if np.any(outside > 0):
            raise ValueError(
                f"the MDP is not layered: state {x} of layer {h} has mass on a state "
                f"outside layer {h + 1}"
            )
        if h < horizon - 1 and not np.allclose(transitions[x].sum(-1), 1.0, atol=1e-6):
            raise ValueError(
                f"transitions are not stochastic: rows of state {x} sum to "
                f"{transitions[x].sum(-1)}"
            )
    num_states = max(int(np.sum(layers == h)) for h in range(horizon))
    out = np.zeros((horizon, num_states, num_actions, num_states))
    index = np.zeros(num_x, dtype=int)
    for h in range(horizon):
        index[layers == h] = np.arange(np.sum(layers == h))
    for x in range(num_x):
        h = layers[x]
        if h < horizon - 1:
            for y in np.flatnonzero(layers == h + 1):
                out[h, index[x], :, index[y]] = transitions[x, :, y]
    for h in range(horizon):
        for s in range(num_states):
            if h == horizon - 1 or out[h, s].sum() == 0:  # padding or last layer
                out[h, s, :, 0] = 1.0
    return out


def check_loss_table(losses, shape=None) -> np.ndarray:
    """Validates a loss table (or a stack of them): finite, in [0, 1]."""
    losses = np.asarray(losses, dtype=np.float64)
    if shape is not None and losses.shape[-3:] != tuple(shape):
        raise ValueError(f"loss tables must have shape {shape}, got {losses.shape}")
    if not np.all(np.isfinite(losses)) or np.any(losses < 0) or np.any(losses > 1):
        raise ValueError("losses must lie in [0, 1]")
    return losses


# --------------------------------------------------------------------------------------
# Loss sequences: (key, loss_params, k) -> (losses [H, S, A], expected losses).
# --------------------------------------------------------------------------------------

LossSequence = Callable[[jax.Array, object, Array], tuple[Array, Array]]


def switching_losses(key, params: PhasedLossParams, episode):
    """Two tables alternating in geometrically growing phases.

    ``l_k = tables[j(k) mod 2]`` with ``j(k)`` the phase of episode ``k`` (phase ``j``
    lasts about ``first_phase growth^j`` episodes; ``envs.adversarial_bandits
    .phase_index``). ``params.phase_losses`` holds the two tables flattened
    ``[2, H S A]``; the shape is restored by the caller.
    """
    del key
    losses = phased_losses(params, episode)
    return losses, losses


class DriftingLossParams(NamedTuple):
    """Sinusoidally drifting losses ``c + a sin(2 pi k / period + phi)``."""

    center: Array  # [H, S, A]
    amplitude: Array  # [H, S, A], with center +- amplitude in [0, 1]
    phase: Array  # [H, S, A] phi
    period: Array  # [] episodes per cycle


def drifting_losses(key, params: DriftingLossParams, episode):
    """``l_k(h, s, a) = c(h, s, a) + a(h, s, a) sin(2 pi k / period + phi(h, s, a))``:
    a slowly drifting sequence whose best policy changes with the horizon."""
    del key
    angle = 2.0 * jnp.pi * episode.astype(params.center.dtype) / params.period
    losses = params.center + params.amplitude * jnp.sin(angle + params.phase)
    losses = jnp.clip(losses, 0.0, 1.0)
    return losses, losses


class StochasticLossParams(NamedTuple):
    """I.i.d. Bernoulli losses with fixed means."""

    means: Array  # [H, S, A] in [0, 1]


def stochastic_losses(key, params: StochasticLossParams, episode):
    """``l_k(h, s, a) ~ Bernoulli(m(h, s, a))`` independently over ``k, h, s, a``."""
    del episode
    u = jax.random.uniform(key, params.means.shape, params.means.dtype)
    return (u < params.means).astype(params.means.dtype), params.means


class TrapLossParams(NamedTuple):
    """Three tables: episode 0's, odd episodes', even (k >= 2) episodes'."""

    first: Array  # [H, S, A]
    odd: Array  # [H, S, A]
    even: Array  # [H, S, A]


def ftl_trap_losses(key, params: TrapLossParams, episode):
    """``l_0 = first``, then ``odd`` and ``even`` alternate.

    The default instance gives two actions ``a, b`` per state the losses
    ``(1/2, 0), (0, 1), (1, 0), (0, 1), ...`` (every other action loses 1): the action
    that leads the cumulative losses is the one that loses 1 next, so a deterministic
    follow-the-leader policy pays about ``H`` per episode while the best fixed policy
    pays about ``H / 2`` (the classical example against FTL, Cesa-Bianchi and Lugosi
    2006, Section 3; here in every state of every layer).
    """
    del key
    losses = jnp.where(
        episode == 0, params.first, jnp.where(episode % 2 == 1, params.odd, params.even)
    )
    return losses, losses


# --------------------------------------------------------------------------------------
# Random loss-sequence instances.
# --------------------------------------------------------------------------------------


def _sample_switching(key, shape, *, first_phase=8.0, growth=2.0):
    key_tables, key_offset = jax.random.split(key)
    dtype = float_dtype()
    tables = jax.random.uniform(key_tables, (2, *shape), dtype)
    u = jax.random.uniform(key_offset, (), dtype)
    first = jnp.asarray(first_phase, dtype) * jnp.asarray(growth, dtype) ** u
    return PhasedLossParams(tables.reshape(2, -1), first, jnp.asarray(growth, dtype))


def _sample_drifting(key, shape, *, period=200.0, amplitude=0.25):
    key_center, key_phase = jax.random.split(key)
    dtype = float_dtype()
    center = jax.random.uniform(
        key_center, shape, dtype, minval=amplitude, maxval=1.0 - amplitude
    )
    phase = jax.random.uniform(key_phase, shape, dtype, maxval=2.0 * jnp.pi)
    return DriftingLossParams(
        center,
        jnp.full(shape, amplitude, dtype),
        phase,
        jnp.asarray(period, dtype),
    )


def _sample_stochastic(key, shape, *, gap=0.2):
    """Means ``c(h, s) + gap 1[a != a*(h, s)]`` with ``c ~ U[0, 1 - gap]``."""
    key_level, key_best = jax.random.split(key)
    dtype = float_dtype()
    level = jax.random.uniform(key_level, shape[:2], dtype, maxval=1.0 - gap)
    best = jax.random.randint(key_best, shape[:2], 0, shape[2])
    worse = 1.0 - jax.nn.one_hot(best, shape[2], dtype=dtype)
    return StochasticLossParams(level[..., None] + gap * worse)


def _sample_trap(key, shape):
    """Per state a random pair of actions plays the FTL trap; the others lose 1."""
    dtype = float_dtype()
    num_actions = shape[2]
    order = jax.vmap(lambda k: jax.random.permutation(k, num_actions))(
        jax.random.split(key, shape[0] * shape[1])
    ).reshape(shape[0], shape[1], num_actions)
    first_action = jax.nn.one_hot(order[..., 0], num_actions, dtype=dtype)
    second_action = jax.nn.one_hot(order[..., 1], num_actions, dtype=dtype)
    others = 1.0 - first_action - second_action
    return TrapLossParams(
        first=0.5 * first_action + others,
        odd=second_action + others,
        even=first_action + others,
    )


LOSS_SEQUENCES: dict[str, tuple[LossSequence, Callable]] = {
    "switching": (switching_losses, _sample_switching),
    "drifting": (drifting_losses, _sample_drifting),
    "stochastic": (stochastic_losses, _sample_stochastic),
    "ftl_trap": (ftl_trap_losses, _sample_trap),
}


# --------------------------------------------------------------------------------------
# The environment.
# --------------------------------------------------------------------------------------


def _as_float(x):
    x = np.asarray(x) if is_concrete(x) else x
    if jnp.issubdtype(x.dtype, jnp.floating):
        return jnp.asarray(x, float_dtype())
    return jnp.asarray(x)


def _mdp_env(name, shape, loss_fn, params, sample_params, full_information, observe):
    def reset(key, params):
        del key
        zeros = jnp.zeros(shape, float_dtype())
        zero = jnp.zeros((), float_dtype())
        state = AdversarialMDPState(
            jnp.zeros((), jnp.int32),
            KahanSum(zeros, zeros),
            zero,
            KahanSum(zeros, zeros),
            zero,
        )
        return state, observe(params)

    def step(key, state, policy, params):
        chex.assert_shape(policy, shape)
        key_losses, key_episode = jax.random.split(key)
        dtype = state.comparator.dtype
        losses, mean_losses = loss_fn(key_losses, params.losses, state.episode)
        losses = losses.reshape(shape).astype(dtype)
        mean_losses = mean_losses.reshape(shape).astype(dtype)
        policy = policy.astype(dtype)
        transitions, initial = params.transitions, params.initial
        trajectory = simulate_episode(
            key_episode, TabularMDPParams(transitions, losses, initial), policy
        )
        cumulative = kahan_add(state.cumulative_losses, losses)
        cumulative_mean = kahan_add(state.cumulative_mean_losses, mean_losses)
        comparator = best_policy_value(transitions, initial, cumulative.total)
        mean_comparator = best_policy_value(transitions, initial, cumulative_mean.total)
        info = AdversarialMDPInfo(
            regret=expected_loss(transitions, initial, losses, policy)
            - (comparator - state.comparator),
            pseudo_regret=expected_loss(transitions, initial, mean_losses, policy)
            - (mean_comparator - state.mean_comparator),
        )
        feedback = AdversarialMDPFeedback(
            trajectory.states,
            trajectory.actions,
            trajectory.rewards,  # the simulator's "rewards" are the losses here
            losses if full_information else None,
        )
        new_state = AdversarialMDPState(
            state.episode + 1, cumulative, comparator, cumulative_mean, mean_comparator
        )
        return new_state, observe(params), feedback, info

    return Env(reset, step, params, sample_params, name)


def adversarial_mdp(
    num_states: int,
    num_actions: int,
    horizon: int,
    *,
    losses: str = "switching",
    feedback: str = "full",
    known_transitions: bool = True,
    transitions=None,
    initial=None,
    loss_params=None,
    concentration=1.0,
    feature_dim: int | None = None,
    **loss_options,
) -> Env:
    """A layered adversarial MDP with an oblivious loss sequence.

    With ``transitions=None`` every seed draws its own instance (``sample_params``):
    Dirichlet(``concentration``) transition rows (``envs.tabular_mdp
    .sample_tabular_mdp_params``), start in state 0, and random loss-sequence
    parameters (see the sequence functions; ``loss_options`` are passed to the
    sampler: ``first_phase, growth`` for switching, ``period, amplitude`` for
    drifting, ``gap`` for stochastic). With ``transitions`` given the instance is
    fixed; ``loss_params`` (the sequence's NamedTuple) may then be given too, or is
    drawn once from ``jax.random.key(0)``.

    Args:
        num_states: S >= 1 states per layer.
        num_actions: A >= 2.
        horizon: H >= 1 layers (steps per episode).
        losses: one of ``LOSS_SEQUENCES``: 'switching', 'drifting', 'stochastic',
            'ftl_trap'.
        feedback: 'full' (the whole loss table) or 'bandit' (visited pairs only).
        known_transitions: the observation is the MDP (:class:`KnownTransitions`,
            the same every episode), as algorithms for known transitions assume;
            otherwise ``()``.
        transitions: optional fixed ``[H, S, A, S]`` layered table.
        initial: optional ``[S]`` distribution over layer 0 (default: state 0).
        loss_params: optional fixed loss-sequence parameters.
        concentration: Dirichlet concentration of random transitions.
        feature_dim: when given, a random linear-Q instance with ``d = feature_dim``
            features and a simulator (:func:`linear_q_mdp`; ``known_transitions`` and
            fixed instances do not apply).

    Returns:
        An :class:`~envs.core.Env`: params :class:`AdversarialMDPParams`, action a
        policy ``[H, S, A]``, feedback :class:`AdversarialMDPFeedback`, info
        :class:`AdversarialMDPInfo`.

    Raises:
        ValueError: an unknown sequence or feedback, transitions that are not a layered
            stochastic table, loss tables outside [0, 1].
    """
    if feature_dim is not None:
        if transitions is not None or loss_params is not None:
            raise ValueError("linear-Q instances are random: no fixed transitions")
        return linear_q_mdp(
            num_states,
            num_actions,
            horizon,
            feature_dim,
            losses=losses,
            feedback=feedback,
            concentration=concentration,
            **loss_options,
        )
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions", minimum=2)
    horizon = check_int(horizon, "horizon")
    if losses not in LOSS_SEQUENCES:
        raise ValueError(
            f"unknown loss sequence {losses!r}; choose from {', '.join(LOSS_SEQUENCES)}"
        )
    if feedback not in ("full", "bandit"):
        raise ValueError(f"feedback must be 'full' or 'bandit', got {feedback!r}")
    if is_concrete(concentration) and not float(concentration) > 0:
        raise ValueError(f"concentration must be > 0, got {concentration!r}")
    shape = (horizon, num_states, num_actions)
    loss_fn, sample_losses = LOSS_SEQUENCES[losses]
    if losses == "ftl_trap" and loss_options:
        raise ValueError("ftl_trap takes no loss options")
    dtype = float_dtype()

    def sample_params(key):
        key_mdp, key_losses = jax.random.split(key)
        mdp = sample_tabular_mdp_params(
            key_mdp, num_states, num_actions, horizon, concentration=concentration
        )
        return AdversarialMDPParams(
            mdp.transitions,
            mdp.initial,
            sample_losses(key_losses, shape, **loss_options),
        )

    params = None
    if transitions is not None:
        transitions, initial = check_transitions(transitions, initial)
        if transitions.shape != (horizon, num_states, num_actions, num_states):
            raise ValueError(
                f"transitions must have shape {(horizon, num_states, num_actions)}"
                f" + ({num_states},), got {transitions.shape}"
            )
        if loss_params is None:
            loss_params = sample_losses(jax.random.key(0), shape, **loss_options)
        for leaf in jax.tree.leaves(loss_params):
            if np.ndim(leaf) >= 2 and losses != "drifting":
                check_loss_table(leaf)
        if losses == "drifting":
            low = np.asarray(loss_params.center) - np.abs(loss_params.amplitude)
            high = np.asarray(loss_params.center) + np.abs(loss_params.amplitude)
            check_loss_table(np.stack([low, high]))
        params = AdversarialMDPParams(
            jnp.asarray(transitions, dtype),
            jnp.asarray(initial, dtype),
            jax.tree.map(_as_float, loss_params),
        )
        sample_params = None
    elif loss_params is not None:
        raise ValueError("loss_params needs fixed transitions")
    name = f"adversarial_mdp_{losses}_{feedback}"
    if not known_transitions:
        name += "_unknown_p"

    def observe(params):
        if known_transitions:
            return KnownTransitions(params.transitions, params.initial)
        return ()

    return _mdp_env(
        name, shape, loss_fn, params, sample_params, feedback == "full", observe
    )


def switching_table_params(tables, *, first_phase=8.0, growth=2.0) -> PhasedLossParams:
    """Switching-sequence parameters from two explicit tables ``[2, H, S, A]`` in
    [0, 1]."""
    tables = check_loss_table(tables)
    if tables.ndim != 4 or tables.shape[0] != 2:
        raise ValueError(f"tables must be [2, H, S, A], got {tables.shape}")
    if not float(first_phase) >= 1 or not float(growth) > 1:
        raise ValueError("first_phase must be >= 1 and growth > 1")
    dtype = float_dtype()
    return PhasedLossParams(
        jnp.asarray(tables.reshape(2, -1), dtype),
        jnp.asarray(first_phase, dtype),
        jnp.asarray(growth, dtype),
    )


# --------------------------------------------------------------------------------------
# Linear-Q instances with a simulator.
# --------------------------------------------------------------------------------------


class LinearQLossParams(NamedTuple):
    """A linear MDP on the layered state space and a loss sequence in weight space.

    ``P_h(s' | s, a) = phi_h(s, a)^T mu_h(., s')`` and ``l_{k, h}(s, a) = phi_h(s, a)^T
    theta_{k, h}``, with ``phi_h(s, a)`` in the simplex of R^d, every ``mu_h(i, .)`` a
    distribution over layer ``h + 1`` and ``theta_{k, h}`` in [0, 1]^d (so the
    transitions are stochastic and the losses lie in [0, 1]).
    """

    features: Array  # [H, S, A, d] phi
    latent: Array  # [H, d, S] mu_h(i, s')
    weights: object  # pytree: a LOSS_SEQUENCES parameter set of shape [H, 1, d]


class LinearQObservation(NamedTuple):
    """The observation of a linear-Q instance: the features and the simulator's model.

    A learner reads ``features``; ``transitions`` and ``initial`` are there for the
    simulator (:func:`simulate`) and for model expectations a simulator estimates
    (the learners in ``algorithms.adversarial_mdp.linear_q`` document which they use).
    """

    features: Array  # [H, S, A, d]
    transitions: Array  # [H, S, A, S]
    initial: Array  # [S]


class SimulatedRollouts(NamedTuple):
    """Trajectories drawn by the simulator (no losses: the simulator knows none)."""

    states: Array  # [N, H] int32
    actions: Array  # [N, H] int32
    features: Array  # [N, H, d] phi_h(s_h, a_h)


def simulate(key, obs: LinearQObservation, policy: Array, num_rollouts: int):
    """``num_rollouts`` independent episodes of ``policy`` from the initial
    distribution, drawn by the simulator.

    This is the simulator of the linear-Q setting (Luo, Wei and Lee 2021; Dai, Luo,
    Wei and Zimmert 2023): the learner may roll out any policy from the start state
    for extra trajectories, which it uses to estimate the feature covariance
    ``Sigma_{k, h} = E_{pi_k}[phi_h phi_h^T]``. It returns states, actions and their
    features, never losses.

    Args:
        key: consumed.
        obs: a :class:`LinearQObservation`.
        policy: ``[H, S, A]``.
        num_rollouts: N (static).

    Returns:
        :class:`SimulatedRollouts`.
    """
    num_rollouts = check_int(num_rollouts, "num_rollouts")
    horizon, num_states, num_actions, _ = obs.features.shape
    params = TabularMDPParams(
        obs.transitions.astype(policy.dtype),
        jnp.zeros((horizon, num_states, num_actions), policy.dtype),
        obs.initial.astype(policy.dtype),
    )
    episodes = jax.vmap(lambda k: simulate_episode(k, params, policy))(
        jax.random.split(key, num_rollouts)
    )
    features = obs.features[jnp.arange(horizon), episodes.states, episodes.actions]
    return SimulatedRollouts(episodes.states, episodes.actions, features)


def linear_q_weights(loss_params: LinearQLossParams, theta: Array, policy: Array):
    """The true weights ``w^pi [H, d]`` with ``Q^pi_h(s, a; l) = phi_h(s, a)^T w^pi_h``.

    For the linear MDP of :class:`LinearQLossParams` and a loss table ``l_h(s, a) =
    phi_h(s, a)^T theta_h``,

    .. math::

        Q^\\pi_h(s, a) = \\phi_h(s, a)^\\top \\Big(\\theta_h + \\sum_{s'} \\mu_h(\\cdot,
        s') V^\\pi_{h+1}(s')\\Big), \\quad V^\\pi_H = 0,

    for every policy (Jin, Yang, Wang and Jordan 2020, Proposition 2.3: in a linear
    MDP the Q-function of any policy is linear in the features).

    Args:
        loss_params: the instance.
        theta: ``[H, d]`` the episode's loss weights.
        policy: ``[H, S, A]``.

    Returns:
        ``[H, d]``.
    """
    features, latent = loss_params.features, loss_params.latent
    transitions = jnp.einsum("hsad,hdt->hsat", features, latent)
    losses = jnp.einsum("hsad,hd->hsa", features, theta)
    initial = jnp.zeros(features.shape[1], features.dtype).at[0].set(1.0)
    values = policy_value(TabularMDPParams(transitions, losses, initial), policy)
    return theta + jnp.einsum("hdt,ht->hd", latent, values[1:])


def _linear_loss_fn(sequence_fn):
    """A loss sequence in weight space, mapped to loss tables ``phi^T theta_k``."""

    def loss_fn(key, params: LinearQLossParams, episode):
        horizon, _, _, dim = params.features.shape
        theta, mean_theta = sequence_fn(key, params.weights, episode)
        theta = theta.reshape(horizon, dim).astype(params.features.dtype)
        mean_theta = mean_theta.reshape(horizon, dim).astype(params.features.dtype)
        return (
            jnp.einsum("hsad,hd->hsa", params.features, theta),
            jnp.einsum("hsad,hd->hsa", params.features, mean_theta),
        )

    return loss_fn


def linear_q_mdp(
    num_states: int,
    num_actions: int,
    horizon: int,
    feature_dim: int,
    *,
    losses: str = "switching",
    feedback: str = "bandit",
    concentration=1.0,
    feature_concentration=1.0,
    **loss_options,
) -> Env:
    """A layered adversarial MDP whose Q-functions are linear in known features, with a
    simulator.

    Every seed draws its instance: features ``phi_h(s, a) ~ Dirichlet(
    feature_concentration 1_d)``, latent next-state distributions ``mu_h(i, .) ~
    Dirichlet(concentration 1_S)``, transitions ``P_h(. | s, a) = phi_h(s, a)^T mu_h``
    (a linear MDP, so ``Q^pi = phi^T w^pi`` for every policy and every loss table
    linear in ``phi``: :func:`linear_q_weights`), start in state 0, and a loss sequence
    of ``LOSS_SEQUENCES`` drawn in weight space (tables ``[H, 1, d]``) and mapped to
    ``l_{k, h}(s, a) = phi_h(s, a)^T theta_{k, h}`` in [0, 1]. The observation is a
    :class:`LinearQObservation` (features plus the simulator's model, see
    :func:`simulate`); regret is exact against the best fixed policy in hindsight, as
    for :func:`adversarial_mdp`.

    Args:
        num_states, num_actions, horizon: ``S >= 1``, ``A >= 2``, ``H >= 1``.
        feature_dim: ``d >= 2``.
        losses: one of ``LOSS_SEQUENCES``.
        feedback: 'bandit' (visited losses only, the setting of the linear-Q papers)
            or 'full'.
        concentration: Dirichlet concentration of the latent distributions ``mu``.
        feature_concentration: Dirichlet concentration of the features.

    Returns:
        An :class:`~envs.core.Env` with params :class:`AdversarialMDPParams` whose
        ``losses`` are :class:`LinearQLossParams`.
    """
    num_states = check_int(num_states, "num_states")
    num_actions = check_int(num_actions, "num_actions", minimum=2)
    horizon = check_int(horizon, "horizon")
    feature_dim = check_int(feature_dim, "feature_dim", minimum=2)
    if losses not in LOSS_SEQUENCES:
        raise ValueError(
            f"unknown loss sequence {losses!r}; choose from {', '.join(LOSS_SEQUENCES)}"
        )
    if feedback not in ("full", "bandit"):
        raise ValueError(f"feedback must be 'full' or 'bandit', got {feedback!r}")
    for value, what in (
        (concentration, "concentration"),
        (feature_concentration, "feature_concentration"),
    ):
        if is_concrete(value) and not float(value) > 0:
            raise ValueError(f"{what} must be > 0, got {value!r}")
    if losses == "ftl_trap" and loss_options:
        raise ValueError("ftl_trap takes no loss options")
    shape = (horizon, num_states, num_actions)
    sequence_fn, sample_weights = LOSS_SEQUENCES[losses]

    def sample_params(key):
        key_features, key_latent, key_losses = jax.random.split(key, 3)
        dtype = float_dtype()
        features = jax.random.dirichlet(
            key_features,
            jnp.full((feature_dim,), feature_concentration, dtype),
            shape,
            dtype,
        )
        latent = jax.random.dirichlet(
            key_latent,
            jnp.full((num_states,), concentration, dtype),
            (horizon, feature_dim),
            dtype,
        )
        transitions = jnp.einsum("hsad,hdt->hsat", features, latent)
        initial = jnp.zeros((num_states,), dtype).at[0].set(1.0)
        weights = sample_weights(key_losses, (horizon, 1, feature_dim), **loss_options)
        return AdversarialMDPParams(
            transitions, initial, LinearQLossParams(features, latent, weights)
        )

    def observe(params):
        return LinearQObservation(
            params.losses.features, params.transitions, params.initial
        )

    return _mdp_env(
        f"linear_q_mdp_{losses}_{feedback}",
        shape,
        _linear_loss_fn(sequence_fn),
        None,
        sample_params,
        feedback == "full",
        observe,
    )
