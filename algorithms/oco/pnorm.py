"""p-norm online mirror descent (Grove, Littlestone, Schuurmans 2001; Gentile 2003).

The mirror map is ``psi(x) = ||x||_q^2 / 2`` with ``q = p / (p - 1)``; its gradient
(the *link function*) and the gradient of its Fenchel conjugate ``psi*(theta) =
||theta||_p^2 / 2`` (the inverse link) are in closed form,

.. math::

    \\nabla\\psi(x)_i = \\frac{\\mathrm{sign}(x_i)|x_i|^{q-1}}{\\|x\\|_q^{q-2}},\\qquad
    \\nabla\\psi^*(\\theta)_i =
    \\frac{\\mathrm{sign}(\\theta_i)|\\theta_i|^{p-1}}{\\|\\theta\\|_p^{p-2}},

and they are inverse to each other (``||nabla psi(x)||_p = ||x||_q``). ``p`` is the
exponent of the dual (gradient) space as in Gentile's p-norm algorithms, where the
weights are ``w = nabla psi*(theta)`` of a dual vector ``theta``; ``p = 2 ln d``
makes ``||g||_p <= e^{1/2} ||g||_inf`` and ``||u||_q <= ||u||_1``, the setting of
sparse comparators and dense gradients (regret ``O(||u||_1 G_inf sqrt(T ln d))``
instead of OGD's ``O(||u||_2 G_2 sqrt T)``). ``p = 2`` is OGD.

Both maps are computed after dividing by the largest entry, so the powers never
overflow (``p = 2 ln d`` is about 14 for ``d = 1000``).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from algorithms.core import Array, Learner, check_positive, is_concrete
from algorithms.oco.gradient import _act_fn, checked_grad
from envs.oco import Domain, center


def _pnorm_power(v: Array, r) -> tuple[Array, Array]:
    """``(||v||_r, |v| / ||v||_r)`` computed scale-free (``(0, 0)`` at ``v = 0``)."""
    a = jnp.abs(v)
    m = jnp.max(a)
    safe_m = jnp.where(m > 0, m, 1.0)
    ratio = a / safe_m  # in [0, 1]
    norm_ratio = jnp.sum(ratio**r) ** (1.0 / r)  # ||v||_r / max|v| in [1, d^{1/r}]
    return m * norm_ratio, ratio / jnp.where(m > 0, norm_ratio, 1.0)


def pnorm(v: Array, r) -> Array:
    """``||v||_r`` without overflow."""
    return _pnorm_power(v, r)[0]


def pnorm_link(x: Array, r) -> Array:
    """The gradient of ``||x||_r^2 / 2``: ``sign(x) |x|^{r-1} / ||x||_r^{r-2}``
    (``r > 1``; 0 at ``x = 0``). With ``r = q`` it is the link ``nabla psi``; with
    ``r = p`` the inverse link ``nabla psi*``."""
    norm, rel = _pnorm_power(x, r)
    # sign(x_i) |x_i|^{r-1} ||x||_r^{2-r} = sign(x_i) ||x||_r (|x_i| / ||x||_r)^{r-1}.
    return jnp.sign(x) * norm * rel ** (r - 1.0)


def dual_exponent(p) -> float:
    """``q = p / (p - 1)``, the Hölder conjugate."""
    return p / (p - 1.0)


def default_p(dim: int) -> float:
    """``max(2, 2 ln d)`` (Gentile 2003; Orabona 2019, Section 6.7)."""
    return float(max(2.0, 2.0 * np.log(dim)))


class PNormOMDState(NamedTuple):
    """p-norm OMD."""

    x: Array  # [d] the point to play
    t: Array  # [] rounds seen


def pnorm_omd(
    domain: Domain,
    *,
    step_size: float,
    p: float | None = None,
    radius: float | None = None,
) -> Learner:
    """Online mirror descent with the p-norm mirror map on a ``q``-norm ball.

    .. math::

        \\theta_{t+1} = \\nabla\\psi(x_t) - \\eta g_t,\\quad
        y_{t+1} = \\nabla\\psi^*(\\theta_{t+1}),\\quad
        x_{t+1} = \\arg\\min_{\\|x\\|_q \\le R} B_\\psi(x, y_{t+1})
        = y_{t+1} \\min(1, R / \\|y_{t+1}\\|_q),

    with ``psi(x) = ||x||_q^2 / 2``, ``q = p / (p - 1)``. The Bregman projection onto
    a ``q``-norm ball is a rescaling: for ``||x||_q = r`` the Bregman divergence
    ``r^2/2 - <nabla psi(y), x> + const`` is smallest at ``x = r y / ||y||_q``
    (Hölder, ``||nabla psi(y)||_p = ||y||_q``), where it equals
    ``r^2/2 - r ||y||_q + const``, minimised at ``r = min(R, ||y||_q)``.

    The learner's feasible set is ``{||x||_q <= R}``; since ``q <= 2``,
    ``||x||_2 <= ||x||_q``, so it lies inside the ``ball`` or ``box`` domain of the
    same radius and the points are valid actions there (the env's regret is then
    against the larger set). For the unconstrained algorithm, give a large radius.

    Args:
        domain: a ``ball`` or ``box`` domain (static).
        step_size: eta > 0 (traced).
        p: the dual exponent ``p >= 2`` (static); default ``max(2, 2 ln d)``.
        radius: R of the ``q``-norm ball; default ``domain.radius``.

    Returns:
        A Learner with :class:`PNormOMDState`, starting at ``x_1 = 0``.

    References:
        Grove, Littlestone, Schuurmans, "General convergence results for linear
        discriminant updates", Machine Learning 2001; Gentile, "The robustness of the
        p-norm algorithms", Machine Learning 2003 (``p = 2 ln d``). Orabona, "A Modern
        Introduction to Online Learning", 2019, Section 6.7 (p-norm algorithms) and
        the OMD theorem of Chapter 6: for a ``lambda``-strongly convex mirror map
        ``Regret_T(u) <= B_psi(u, x_1)/eta + eta/(2 lambda) sum_t ||g_t||_*^2``;
        ``psi = ||x||_q^2/2`` is ``(q - 1)``-strongly convex w.r.t. ``||.||_q`` for
        ``q in (1, 2]`` (Shalev-Shwartz 2007, Lemma 17), so with ``x_1 = 0``
        ``Regret_T(u) <= ||u||_q^2 / (2 eta) + eta (p - 1)/2 sum_t ||g_t||_p^2``
        (section and theorem numbers from memory, unverified; the bound is checked
        on every run in ``tests/oco/test_oco_more.py``).
    """
    if domain.kind not in ("ball", "box"):
        raise ValueError("pnorm_omd supports ball and box domains")
    p = default_p(domain.dim) if p is None else float(p)
    if not p >= 2.0:
        raise ValueError(f"p must be >= 2 (q = p/(p-1) <= 2), got {p}")
    q = dual_exponent(p)
    radius = domain.radius if radius is None else radius
    check_positive(step_size, "step_size")
    check_positive(radius, "radius")
    if is_concrete(radius) and float(radius) > domain.radius * (1 + 1e-12):
        raise ValueError("radius must not exceed the domain's radius")

    def init(key):
        x = center(domain)
        return PNormOMDState(x, jnp.zeros((), x.dtype))

    def update(state, obs, action, feedback):
        g = checked_grad(feedback)
        theta = pnorm_link(state.x, q) - step_size * g  # mirror step in the dual
        y = pnorm_link(theta, p)  # inverse link
        norm = pnorm(y, q)
        x = y * jnp.minimum(1.0, radius / jnp.where(norm > 0, norm, 1.0))
        return PNormOMDState(x, state.t + 1)

    return Learner(init, _act_fn(), update)


def pnorm_regret_bound(comparator_norm, step_size, grads: np.ndarray, p) -> float:
    """``||u||_q^2 / (2 eta) + eta (p - 1) / 2 sum_t ||g_t||_p^2`` (see
    :func:`pnorm_omd`), for concrete NumPy gradients ``[T, d]``."""
    g = np.asarray(grads, np.float64)
    gp = np.sum(np.abs(g) ** p, axis=1) ** (1.0 / p)
    return comparator_norm**2 / (2 * step_size) + step_size * (p - 1) / 2 * np.sum(
        gp**2
    )
