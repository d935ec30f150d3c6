"""Nash learning from preferences and zero-sum matrix games: learners and registry.

``ALGORITHMS`` maps a command-line name to a builder ``(num_rows, num_cols) ->
Learner`` with default tuning. Names in ``SYMMETRIC`` are one-policy self-play methods
for symmetric (preference) games and need ``num_rows == num_cols``; the others are
two-player methods for any zero-sum matrix game. All read ``(beta, mu)`` from the
observation where they use it (``envs.games.GameObs``).
"""

from __future__ import annotations

from collections.abc import Callable

from algorithms.core import Learner, check_int
from algorithms.nash.contextual import NEURAL_METHODS, neural_policy, per_context
from algorithms.nash.extragradient import extragradient, halpern, mirror_prox
from algorithms.nash.halpern_vr import halpern_vr, svrg_estimate, svrg_extragradient
from algorithms.nash.preference import (
    dno,
    egpo,
    magnetic_mirror_descent,
    nash_md,
    nash_md_pg,
    online_ipo_gradient,
    online_mirror_descent,
    spo,
)
from algorithms.nash.self_play import (
    fictitious_play,
    ftpl,
    ftrl_euclidean,
    hedge,
    optimistic_gd,
    optimistic_hedge,
    regret_matching,
    self_play,
)

__all__ = [
    "ALGORITHMS",
    "CONTEXTUAL_ALGORITHMS",
    "FINITE_SUM_ALGORITHMS",
    "SYMMETRIC",
    "make_contextual_learner",
    "make_learner",
    "neural_policy",
    "per_context",
    "dno",
    "egpo",
    "extragradient",
    "fictitious_play",
    "ftpl",
    "ftrl_euclidean",
    "halpern",
    "halpern_vr",
    "hedge",
    "magnetic_mirror_descent",
    "mirror_prox",
    "nash_md",
    "nash_md_pg",
    "online_ipo_gradient",
    "online_mirror_descent",
    "optimistic_gd",
    "optimistic_hedge",
    "regret_matching",
    "self_play",
    "spo",
    "svrg_estimate",
    "svrg_extragradient",
]


def _square(builder):
    return lambda n, m: builder(n)


def _pair(expert):
    return lambda n, m: self_play(expert(n), expert(m))


SYMMETRIC_BUILDERS: dict[str, Callable[[int], Learner]] = {
    "nash_md": lambda n: nash_md(n, eta=0.5),
    "nash_md_decreasing": lambda n: nash_md(n, decreasing=True),
    "online_ipo_1": lambda n: online_mirror_descent(n, eta=0.5),
    "online_ipo_2": lambda n: online_ipo_gradient(n, eta=2.5),
    "inpo": lambda n: online_mirror_descent(n, eta=0.5),
    "egpo": lambda n: egpo(n, eta=0.5),
    "mmd": lambda n: magnetic_mirror_descent(n, eta=0.5),
    "nash_md_pg": lambda n: nash_md_pg(n, eta=5.0, mixture=0.125),
    "spo": lambda n: spo(n, eta=0.1),
    "dno": lambda n: dno(n, kl_strength=10.0),
}
SYMMETRIC = tuple(SYMMETRIC_BUILDERS)

PAIR_BUILDERS: dict[str, Callable[[int, int], Learner]] = {
    "mwu": _pair(lambda k: hedge(k, eta=0.5)),
    "omwu": _pair(lambda k: optimistic_hedge(k, eta=0.5)),
    "ogda": _pair(lambda k: optimistic_gd(k, eta=0.1)),
    "ftrl_euclidean": _pair(lambda k: ftrl_euclidean(k, eta=0.1)),
    "ftpl": _pair(lambda k: ftpl(k, eta=0.1)),
    "regret_matching": _pair(regret_matching),
    "regret_matching_plus": _pair(lambda k: regret_matching(k, plus=True)),
    "fictitious_play": _pair(fictitious_play),
    "mirror_prox": lambda n, m: mirror_prox(n, m, eta=0.5),
    "extragradient": lambda n, m: extragradient(n, m, eta=0.5),
    "halpern": lambda n, m: halpern(n, m, eta=0.5),
}

ALGORITHMS: dict[str, Callable[[int, int], Learner]] = {
    **{name: _square(b) for name, b in SYMMETRIC_BUILDERS.items()},
    **PAIR_BUILDERS,
}


def make_learner(name: str, num_rows: int, num_cols: int | None = None) -> Learner:
    """The registered learner ``name`` with default tuning for an n x m game."""
    if name not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}"
        )
    n = check_int(num_rows, "num_rows")
    m = n if num_cols is None else check_int(num_cols, "num_cols")
    if name in SYMMETRIC and n != m:
        raise ValueError(
            f"{name} is a one-policy self-play method: needs a square game"
        )
    return ALGORITHMS[name](n, m)


# Contextual games: builders (num_contexts, num_features, num_responses) -> Learner.
# "<name>" is the tabular learner of ALGORITHMS copied per prompt (per_context);
# "<name>_mlp" the flax policy network (neural_policy) with its default tuning.
NEURAL_DEFAULTS: dict[str, dict] = {
    "online_ipo_1": {},
    "egpo": {},
    "nash_md_pg": {"learning_rate": 1.0, "inner_steps": 5},
    "nash_md": {},
    "inpo": {},
    "dno": {},
    "dno_prct": {"margin": 0.05},
}
NEURAL_ALIASES: dict[str, str] = {}


def make_contextual_learner(
    name: str,
    num_contexts: int,
    num_features: int,
    num_responses: int,
    *,
    policy: str = "tabular",
    **kwargs,
) -> Learner:
    """A learner for :func:`envs.games.contextual_game_env`.

    ``policy="tabular"``: any symmetric learner of ``ALGORITHMS`` (default tuning),
    one copy per prompt; ``policy="mlp"``: :func:`neural_policy` with
    ``method=name`` (one of ``NEURAL_METHODS``), default
    tuning updated by ``kwargs``.
    """
    C = check_int(num_contexts, "num_contexts")
    d = check_int(num_features, "num_features")
    n = check_int(num_responses, "num_responses")
    if policy == "tabular":
        if kwargs:
            raise ValueError("keyword arguments are for policy='mlp' only")
        if name not in SYMMETRIC:
            raise ValueError(f"contextual tabular learners: one of {SYMMETRIC}")
        return per_context(make_learner(name, n), C)
    if policy == "mlp":
        method = NEURAL_ALIASES.get(name, name)
        if method not in NEURAL_METHODS:
            raise ValueError(f"policy='mlp' supports {NEURAL_METHODS}, got {name!r}")
        return neural_policy(
            d, n, method=method, **{**NEURAL_DEFAULTS[method], **kwargs}
        )
    raise ValueError(f"policy must be 'tabular' or 'mlp', got {policy!r}")


CONTEXTUAL_ALGORITHMS: dict[str, Callable[[int, int, int], Learner]] = {
    **{
        name: (lambda C, d, n, _name=name: make_contextual_learner(_name, C, d, n))
        for name in ("online_ipo_1", "egpo", "nash_md_pg", "nash_md", "mmd")
    },
    **{
        f"{name}_mlp": (
            lambda C, d, n, _name=name: make_contextual_learner(
                _name, C, d, n, policy="mlp"
            )
        )
        for name in NEURAL_METHODS
    },
}


# Finite-sum games (envs.finite_sum_games): builders (num_rows, num_cols) -> Learner
# that query components (ComponentQuery), plus the deterministic two-player methods
# (a Play costs a full evaluation, n component evaluations, there).
FINITE_SUM_ALGORITHMS: dict[str, Callable[[int, int], Learner]] = {
    "halpern_vr": lambda n, m: halpern_vr(n, m),
    "svrg_extragradient": lambda n, m: svrg_extragradient(n, m),
    "halpern": PAIR_BUILDERS["halpern"],
    "extragradient": PAIR_BUILDERS["extragradient"],
}
