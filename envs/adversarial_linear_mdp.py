"""Simulator-free adversarial linear MDPs: known features, unknown linear transitions,
oblivious linear losses, bandit feedback, exact regret.

The setting of Luo, Wei and Lee (2021, Section 5, linear MDPs without a simulator) and
Dai, Luo, Wei and Zimmert (2023, Section 6; section numbers from memory, unverified):
a layered episodic MDP (``H`` layers of ``S`` states, ``A`` actions) with known
features ``phi_h(s, a)`` in R^d,

.. math::

    P_h(s' | s, a) = \\phi_h(s, a)^\\top \\mu_h(\\cdot, s'), \\qquad
    \\ell_{k, h}(s, a) = \\phi_h(s, a)^\\top \\theta_{k, h},

``mu`` unknown to the learner, ``theta_{k, h}`` an oblivious sequence (switching,
drifting, stochastic with a gap, or the FTL trap of ``envs.adversarial_mdp``, drawn in
weight space). Unlike the linear-Q instances of ``envs.adversarial_mdp.linear_q_mdp``
(same model), the learner gets **no simulator**: its observation is the feature table
only (:class:`LinearMDPObservation`), every trajectory it uses is one of its own
episodes (counted in K), and the feedback is bandit (the losses of the visited pairs).

The dynamics, the loss sequences and the exact regret against the best fixed policy
in hindsight (backward induction on the cumulative loss table under the true
transitions, telescoped) are those of ``envs.adversarial_mdp``: this module builds
the environment of ``linear_q_mdp`` and replaces its observation. In a linear MDP the
Q-function of every policy is linear in ``phi`` (``envs.adversarial_mdp
.linear_q_weights`` gives its weights).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.adversarial_mdp import (
    LOSS_SEQUENCES,
    AdversarialMDPParams,
    LinearQLossParams,
    check_loss_table,
    linear_q_mdp,
)
from envs.core import Env, check_int, float_dtype

Array = jax.Array

__all__ = ["LinearMDPObservation", "adversarial_linear_mdp", "linear_mdp_params"]


class LinearMDPObservation(NamedTuple):
    """What a simulator-free learner sees before an episode: the known features."""

    features: Array  # [H, S, A, d] phi_h(s, a)


def linear_mdp_params(
    features, latent, weights, *, losses: str = "switching"
) -> AdversarialMDPParams:
    """A fixed linear-MDP instance from explicit features, latent measures and
    loss-sequence weights (validated).

    Args:
        features: ``[H, S, A, d]`` non-negative, each ``phi_h(s, a)`` summing to 1
            (so that ``phi^T mu`` is a distribution and ``phi^T theta`` in [0, 1]).
        latent: ``[H, d, S]`` ``mu_h(i, .)``, each a distribution over the next layer.
        weights: the parameters of the ``losses`` sequence (``envs.adversarial_mdp``)
            with tables of shape ``[H, 1, d]`` in [0, 1].
        losses: the sequence the weights belong to.

    Raises:
        ValueError: shapes that do not match, features not on the simplex, latent
            rows that are not distributions, weight tables outside [0, 1].
    """
    if losses not in LOSS_SEQUENCES:
        raise ValueError(
            f"unknown loss sequence {losses!r}; choose from {', '.join(LOSS_SEQUENCES)}"
        )
    features = np.asarray(features, dtype=np.float64)
    latent = np.asarray(latent, dtype=np.float64)
    if features.ndim != 4:
        raise ValueError(f"features must be [H, S, A, d], got shape {features.shape}")
    horizon, num_states, _, dim = features.shape
    if latent.shape != (horizon, dim, num_states):
        raise ValueError(
            f"latent must be [H, d, S] = {(horizon, dim, num_states)}, got "
            f"{latent.shape}"
        )
    for name, table in (("features", features), ("latent", latent)):
        if not np.all(np.isfinite(table)) or np.any(table < 0):
            raise ValueError(f"{name} must be finite and non-negative")
        if not np.allclose(table.sum(-1), 1.0, atol=1e-6):
            raise ValueError(
                f"every {name} row must sum to 1 (a linear MDP needs phi^T mu to be a "
                "distribution)"
            )
    if losses == "drifting":
        low = np.asarray(weights.center) - np.abs(weights.amplitude)
        high = np.asarray(weights.center) + np.abs(weights.amplitude)
        check_loss_table(np.stack([low, high]))
    else:
        for leaf in jax.tree.leaves(weights):
            if np.ndim(leaf) >= 2:
                check_loss_table(leaf)
    dtype = float_dtype()
    transitions = np.einsum("hsad,hdt->hsat", features, latent)
    initial = np.zeros(num_states)
    initial[0] = 1.0
    return AdversarialMDPParams(
        jnp.asarray(transitions, dtype),
        jnp.asarray(initial, dtype),
        LinearQLossParams(
            jnp.asarray(features, dtype),
            jnp.asarray(latent, dtype),
            jax.tree.map(
                lambda x: (
                    jnp.asarray(x, dtype)
                    if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating)
                    else jnp.asarray(x)
                ),
                weights,
            ),
        ),
    )


def adversarial_linear_mdp(
    num_states: int,
    num_actions: int,
    horizon: int,
    feature_dim: int,
    *,
    losses: str = "switching",
    feedback: str = "bandit",
    concentration=1.0,
    feature_concentration=1.0,
    params: AdversarialMDPParams | None = None,
    **loss_options,
) -> Env:
    """A layered adversarial linear MDP without a simulator.

    With ``params=None`` every seed draws its instance as ``envs.adversarial_mdp
    .linear_q_mdp`` does: features ``phi_h(s, a) ~ Dirichlet(feature_concentration
    1_d)``, ``mu_h(i, .) ~ Dirichlet(concentration 1_S)``, start in state 0, and the
    loss sequence ``losses`` drawn in weight space (``loss_options`` go to its
    sampler: ``first_phase, growth`` for switching, ``period, amplitude`` for
    drifting, ``gap`` for stochastic). ``params`` (:func:`linear_mdp_params`) fixes
    the instance.

    Args:
        num_states, num_actions, horizon: ``S >= 1``, ``A >= 2``, ``H >= 1``.
        feature_dim: ``d >= 2``.
        losses: one of ``envs.adversarial_mdp.LOSS_SEQUENCES``.
        feedback: 'bandit' (the setting of the papers) or 'full'.
        concentration: Dirichlet concentration of ``mu``.
        feature_concentration: Dirichlet concentration of the features (smaller:
            more distinct actions).
        params: optional fixed instance.

    Returns:
        An :class:`~envs.core.Env`: params ``AdversarialMDPParams`` (losses
        ``LinearQLossParams``), action a policy ``[H, S, A]``, observation
        :class:`LinearMDPObservation`, feedback ``AdversarialMDPFeedback``, info
        ``AdversarialMDPInfo`` (exact regret against the best fixed policy in
        hindsight).

    Raises:
        ValueError: bad shapes or options (as ``linear_q_mdp``), a fixed instance whose
            shape does not match.
    """
    base = linear_q_mdp(
        num_states,
        num_actions,
        horizon,
        feature_dim,
        losses=losses,
        feedback=feedback,
        concentration=concentration,
        feature_concentration=feature_concentration,
        **loss_options,
    )
    shape = (
        check_int(horizon, "horizon"),
        check_int(num_states, "num_states"),
        check_int(num_actions, "num_actions"),
        check_int(feature_dim, "feature_dim"),
    )
    sample_params = base.sample_params
    if params is not None:
        if tuple(params.losses.features.shape) != shape:
            raise ValueError(
                f"params.features must have shape {shape}, got "
                f"{tuple(params.losses.features.shape)}"
            )
        sample_params = None

    def observe(params):
        return LinearMDPObservation(params.losses.features)

    def reset(key, params):
        state, _ = base.reset(key, params)
        return state, observe(params)

    def step(key, state, action, params):
        state, _, feedback_, info = base.step(key, state, action, params)
        return state, observe(params), feedback_, info

    name = base.name.replace("linear_q_mdp", "adversarial_linear_mdp")
    return Env(reset, step, params, sample_params, name)
