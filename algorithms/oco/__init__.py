"""Online convex optimisation and experts learners, with a registry.

``ALGORITHMS[name]`` is a builder ``(domain, horizon) -> Learner`` with default tuning
(Lipschitz constant 1, strong convexity / exp-concavity 1); ``DOMAINS[name]`` the
domain kinds it accepts. Learners read ``feedback.grad`` of ``envs.oco.OCOFeedback``,
except those listed in ``ENV_NEEDS``: ``name -> "quadratic" | "regression"`` (they
read ``feedback.loss_params`` of that loss family) or ``"sleeping"`` (they take the
awake mask of ``envs.oco_sleeping`` as ``obs``).
"""

from __future__ import annotations

from algorithms.oco.dynamic import ader, ader_step_sizes
from algorithms.oco.experts import adahedge, hedge, kt_experts, optimistic_hedge
from algorithms.oco.ftrl_exact import ftrl_exact, ftrl_quadratic, ftrl_squared_loss
from algorithms.oco.gradient import (
    adagrad,
    exponentiated_gradient,
    ftl,
    ftrl,
    log_barrier_argmin,
    ogd,
    omd,
    ons,
    optimistic_ftal,
    optimistic_ftrl,
    optimistic_ftrl_strongly_convex,
    optimistic_omd,
)
from algorithms.oco.parameter_free import kt_coin_betting
from algorithms.oco.pnorm import default_p, pnorm_omd
from algorithms.oco.sleeping import sleeping_hedge
from envs.oco import LOSS_FAMILIES, QuadraticLoss, center

ALL = ("simplex", "ball", "box")

ALGORITHMS = {
    "ogd": lambda dom, T: ogd(dom, schedule="sqrt"),
    "ogd_strongly_convex": lambda dom, T: ogd(dom, schedule="strongly_convex"),
    "omd_entropic": lambda dom, T: omd(
        dom, mirror="entropic", step_size=(2 / T) ** 0.5
    ),
    "ftrl_l2": lambda dom, T: ftrl(dom, regularizer="l2", step_size=T**-0.5),
    "ftrl_entropy": lambda dom, T: ftrl(dom, regularizer="entropy", step_size=T**-0.5),
    "ftrl_log_barrier": lambda dom, T: ftrl(
        dom, regularizer="log_barrier", step_size=T**-0.5
    ),
    "ftl": lambda dom, T: ftl(dom),
    "adagrad": lambda dom, T: adagrad(dom, step_size=dom.radius),
    "adagrad_full": lambda dom, T: adagrad(dom, step_size=dom.radius, full=True),
    "ons": lambda dom, T: ons(dom),
    "optimistic_omd": lambda dom, T: optimistic_omd(dom, curvature="convex"),
    "optimistic_omd_sc": lambda dom, T: optimistic_omd(
        dom, curvature="strongly_convex"
    ),
    "optimistic_omd_ec": lambda dom, T: optimistic_omd(dom, curvature="exp_concave"),
    "optimistic_ftrl": lambda dom, T: optimistic_ftrl(dom),
    "optimistic_ftrl_sc": lambda dom, T: optimistic_ftrl_strongly_convex(dom),
    "optimistic_ftal": lambda dom, T: optimistic_ftal(dom),
    "hedge": lambda dom, T: hedge(dom.dim, rate="anytime"),
    "hedge_fixed": lambda dom, T: hedge(dom.dim, rate="fixed", horizon=T),
    "hedge_doubling": lambda dom, T: hedge(dom.dim, rate="doubling"),
    "adahedge": lambda dom, T: adahedge(dom.dim),
    "optimistic_hedge": lambda dom, T: optimistic_hedge(dom.dim),
    "kt_experts": lambda dom, T: kt_experts(dom.dim),
    "kt": lambda dom, T: kt_coin_betting(dom.dim),
    "ader": lambda dom, T: ader(dom, T),
    "pnorm_omd": lambda dom, T: pnorm_omd(dom, step_size=_pnorm_rate(dom, T)),
    "ftl_quadratic": lambda dom, T: ftrl_quadratic(dom),
    "ftrl_quadratic": lambda dom, T: ftrl_quadratic(dom, step_size=T**-0.5),
    "ftl_squared_loss": lambda dom, T: ftrl_squared_loss(dom),
    "ftrl_exact": lambda dom, T: _ftrl_exact_quadratic(dom, T),
    "sleeping_hedge": lambda dom, T: sleeping_hedge(dom.dim, horizon=T),
}

# Learners that need more than gradients: the loss family whose ``loss_params`` they
# read, or the sleeping-experts environment (awake mask as obs).
ENV_NEEDS = {
    "ftl_quadratic": "quadratic",
    "ftrl_quadratic": "quadratic",
    "ftl_squared_loss": "regression",
    "ftrl_exact": "quadratic",
    "sleeping_hedge": "sleeping",
}

SIMPLEX = ("simplex",)
DOMAINS = {name: ALL for name in ALGORITHMS}
DOMAINS.update(
    {
        "omd_entropic": SIMPLEX,
        "ftrl_entropy": SIMPLEX,
        "ftrl_log_barrier": SIMPLEX,
        "adagrad": ("ball", "box"),
        "adagrad_full": ("ball",),
        "ons": ("ball",),
        "optimistic_omd_ec": ("ball",),
        "hedge": SIMPLEX,
        "hedge_fixed": SIMPLEX,
        "hedge_doubling": SIMPLEX,
        "adahedge": SIMPLEX,
        "optimistic_hedge": SIMPLEX,
        "kt_experts": SIMPLEX,
        "kt": ("ball",),
        "pnorm_omd": ("ball", "box"),
        "optimistic_ftal": ("ball",),
        "ftl_squared_loss": ("ball",),
        "sleeping_hedge": SIMPLEX,
    }
)


def _pnorm_rate(domain, horizon):
    """``eta = R / (G_p sqrt((p - 1) T))`` with ``G_p = d^{1/p}`` (``||g||_inf <=
    1``): the minimiser of the bound ``R^2/(2 eta) + eta (p-1)/2 T G_p^2``."""
    p = default_p(domain.dim)
    g_p = domain.dim ** (1 / p)
    return domain.radius / (g_p * ((p - 1) * horizon) ** 0.5)


def _ftrl_exact_quadratic(domain, horizon):
    """:func:`ftrl_exact` (FTL) on the quadratic loss family of ``envs.oco``."""
    x = center(domain)
    example = QuadraticLoss(x, x[0])
    value = LOSS_FAMILIES["quadratic"]().value
    return ftrl_exact(domain, value, example, horizon, inner_steps=5)


def make_learner(name: str, domain, horizon: int):
    """The registered learner ``name`` with default tuning for ``domain`` and T."""
    if name not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}"
        )
    if domain.kind not in DOMAINS[name]:
        raise ValueError(f"{name} does not support {domain.kind} domains")
    return ALGORITHMS[name](domain, horizon)


__all__ = [
    "ALGORITHMS",
    "DOMAINS",
    "ENV_NEEDS",
    "adagrad",
    "adahedge",
    "ader",
    "ader_step_sizes",
    "exponentiated_gradient",
    "ftl",
    "ftrl",
    "ftrl_exact",
    "ftrl_quadratic",
    "ftrl_squared_loss",
    "hedge",
    "kt_coin_betting",
    "kt_experts",
    "log_barrier_argmin",
    "make_learner",
    "ogd",
    "omd",
    "ons",
    "optimistic_ftal",
    "optimistic_ftrl",
    "optimistic_ftrl_strongly_convex",
    "optimistic_hedge",
    "optimistic_omd",
    "pnorm_omd",
    "sleeping_hedge",
]
