"""A controlled family of linear-Q adversarial MDPs in the number of actions A.

One base instance with ``A0`` actions (``envs.adversarial_mdp.linear_q_mdp``, drawn from
the seed's key, so the same key gives the same base instance at every ``A``) is
extended to ``A = m A0`` actions by an *extension matrix* ``E [A0, A]`` whose column
``a`` gives action ``a``'s weights over the base actions: ``E[:, :A0] = I`` (the base
actions come first, unchanged) and the extra action ``a = A0 + j`` is

.. math::

    e_a = (1 - \\epsilon)\\, \\mathbf 1_{b(a)} + \\epsilon\\, \\mathbf 1 / A_0,
    \\qquad b(a) = j \\bmod A_0,

a copy of base action ``b(a)`` (``mixing = epsilon = 0``) or, for ``epsilon > 0``, a
mixture of it with the uniform action. Features, transitions and every episode's
losses of an extra action are the same mixture of the base actions':
``phi_h(s, a) = sum_b E[b, a] phi_h(s, b)``, ``P_h(. | s, a) = sum_b E[b, a] P_h(. |
s, b)`` and ``l_{k, h}(s, a) = sum_b E[b, a] l_{k, h}(s, b)``. This is still a linear
MDP (``P = phi^T mu`` and ``l = phi^T theta_k`` are linear in ``phi``), so the
Q-function of any policy is linear in the extended features, and

.. math::

    Q^\\pi_h(s, a) = \\sum_b E[b, a]\\, Q^\\pi_h(s, b) \\ge \\min_b Q^\\pi_h(s, b)

for every policy ``pi`` and every loss table: an extra action is never better than the
best base action in its state (a copy ties with its base action, a mixture with
``epsilon > 0`` is strictly dominated unless the base actions tie). The backward
induction of the comparator therefore attains its minimum on the base actions at every
state, and **the best fixed policy in hindsight and its value are those of the base
instance at every A**: only the learner's problem changes with A, not the comparator.

**Exactness.** The environment computes the base actions' losses (``phi^T theta_k``
on the base features) and transitions first and extends them by ``E``; with ``E`` made
of zeros and ones for the base columns (and the copies) the extended entries are the
base entries bit for bit (``x * 1 + y * 0 = x``), so the comparator is identical, not
merely equal up to rounding (tested).

**Protocol.** As ``linear_q_mdp``: the action is a policy ``[H, S, A]``, the
observation a ``LinearQObservation`` (the extended features and the simulator's
extended model), bandit or full-information feedback, ``AdversarialMDPInfo`` with the
exact regret against the best fixed policy in hindsight.
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
    LinearQObservation,
    _mdp_env,
    linear_q_mdp,
)
from envs.core import Env, check_int, float_dtype, is_concrete

Array = jax.Array

__all__ = [
    "ActionFamilyLossParams",
    "action_family_mdp",
    "extend_params",
    "extension_matrix",
]


class ActionFamilyLossParams(NamedTuple):
    """A base linear-Q instance, its loss sequence and the action extension."""

    base: LinearQLossParams  # features [H, S, A0, d], latent, weights in weight space
    extension: Array  # [A0, A] E, column a = action a's weights over the base actions
    features: Array  # [H, S, A, d] the extended features sum_b E[b, a] phi(s, b)


def extension_matrix(base_actions: int, num_actions: int, mixing=0.0) -> np.ndarray:
    """The extension ``E [A0, A]``: identity on the base actions, then extra action
    ``A0 + j`` = ``(1 - mixing)`` times base action ``j mod A0`` plus ``mixing``
    times the uniform action.

    Args:
        base_actions: ``A0 >= 2``.
        num_actions: ``A >= A0``.
        mixing: ``epsilon`` in [0, 1]; 0 gives exact copies.

    Returns:
        ``[A0, A]`` float64, every column on the simplex.

    Raises:
        ValueError: ``A < A0``, ``A0 < 2`` or ``mixing`` outside [0, 1].
    """
    base_actions = check_int(base_actions, "base_actions", minimum=2)
    num_actions = check_int(num_actions, "num_actions", minimum=2)
    if num_actions < base_actions:
        raise ValueError(
            f"num_actions must be >= base_actions = {base_actions} (the family only "
            f"adds actions), got {num_actions}"
        )
    mixing = float(mixing)
    if not 0.0 <= mixing <= 1.0:
        raise ValueError(f"mixing must lie in [0, 1], got {mixing!r}")
    extra = np.arange(num_actions - base_actions) % base_actions
    copies = np.eye(base_actions)[:, extra]  # [A0, A - A0] one-hot columns
    mixed = (1.0 - mixing) * copies + mixing / base_actions if mixing else copies
    return np.concatenate([np.eye(base_actions), mixed], axis=1)


def _extend(values: Array, extension: Array, axis: int) -> Array:
    """``values`` with its action axis ``axis`` (size A0) mapped to A by ``E``."""
    moved = jnp.moveaxis(values, axis, -1)
    return jnp.moveaxis(moved @ extension.astype(values.dtype), -1, axis)


def extend_params(base: AdversarialMDPParams, extension) -> AdversarialMDPParams:
    """A base linear-Q instance (``linear_q_mdp``'s params) extended by ``E``.

    Args:
        base: params whose ``losses`` are a ``LinearQLossParams`` with ``A0`` actions.
        extension: ``[A0, A]`` (:func:`extension_matrix`).

    Returns:
        ``AdversarialMDPParams`` with ``[H, S, A, S]`` transitions and
        :class:`ActionFamilyLossParams` losses.
    """
    if not isinstance(base.losses, LinearQLossParams):
        raise ValueError("extend_params needs a linear-Q instance (linear_q_mdp)")
    features = base.losses.features
    extension = jnp.asarray(extension, features.dtype)
    if extension.ndim != 2 or extension.shape[0] != features.shape[2]:
        raise ValueError(
            f"extension must be [A0, A] with A0 = {features.shape[2]}, got "
            f"{extension.shape}"
        )
    transitions = _extend(base.transitions, extension, axis=2)
    return AdversarialMDPParams(
        transitions,
        base.initial,
        ActionFamilyLossParams(
            base.losses, extension, _extend(features, extension, axis=2)
        ),
    )


def _family_loss_fn(sequence_fn):
    """The base losses ``phi^T theta_k`` on the base features, extended by ``E``."""

    def loss_fn(key, params: ActionFamilyLossParams, episode):
        base = params.base
        horizon, _, _, dim = base.features.shape
        theta, mean_theta = sequence_fn(key, base.weights, episode)
        theta = theta.reshape(horizon, dim).astype(base.features.dtype)
        mean_theta = mean_theta.reshape(horizon, dim).astype(base.features.dtype)
        losses = jnp.einsum("hsad,hd->hsa", base.features, theta)
        mean_losses = jnp.einsum("hsad,hd->hsa", base.features, mean_theta)
        return (
            _extend(losses, params.extension, axis=2),
            _extend(mean_losses, params.extension, axis=2),
        )

    return loss_fn


def action_family_mdp(
    num_states: int,
    base_actions: int,
    num_actions: int,
    horizon: int,
    feature_dim: int,
    *,
    mixing=0.0,
    losses: str = "switching",
    feedback: str = "bandit",
    **options,
) -> Env:
    """The base linear-Q instance of the seed with ``A0`` actions, extended to ``A``
    actions by copies (``mixing = 0``) or dominated mixtures of the base actions.

    ``sample_params(key)`` draws the base instance with ``linear_q_mdp(num_states,
    base_actions, horizon, feature_dim, ...).sample_params(key)`` and extends it
    (:func:`extend_params`), so the same key gives the same base instance, the same
    loss sequence and the same comparator for every ``num_actions``; at ``A = A0`` the
    instance is the base instance itself.

    Args:
        num_states, horizon, feature_dim: ``S >= 1``, ``H >= 1``, ``d >= 2``.
        base_actions: ``A0 >= 2``.
        num_actions: ``A >= A0``.
        mixing: ``epsilon`` in [0, 1] (:func:`extension_matrix`), 0 = exact copies.
        losses, feedback: as in ``linear_q_mdp``.
        options: ``linear_q_mdp``'s remaining keywords (concentrations, loss
            options).

    Returns:
        An :class:`~envs.core.Env` with params ``AdversarialMDPParams`` whose losses
        are :class:`ActionFamilyLossParams`, observation ``LinearQObservation``.

    Raises:
        ValueError: as :func:`extension_matrix` and ``linear_q_mdp``.
    """
    if not is_concrete(mixing):
        raise ValueError("mixing must be a concrete number (it fixes the instance)")
    extension = extension_matrix(base_actions, num_actions, mixing)
    base_env = linear_q_mdp(
        num_states,
        base_actions,
        horizon,
        feature_dim,
        losses=losses,
        feedback=feedback,
        **options,
    )
    shape = (horizon, num_states, num_actions)
    sequence_fn, _ = LOSS_SEQUENCES[losses]

    def sample_params(key):
        return extend_params(
            base_env.sample_params(key), jnp.asarray(extension, float_dtype())
        )

    def observe(params):
        return LinearQObservation(
            params.losses.features, params.transitions, params.initial
        )

    tag = "copies" if float(mixing) == 0.0 else f"mixing{float(mixing):g}"
    return _mdp_env(
        f"linear_q_actions_{base_actions}to{num_actions}_{tag}_{losses}_{feedback}",
        shape,
        _family_loss_fn(sequence_fn),
        None,
        sample_params,
        feedback == "full",
        observe,
    )
