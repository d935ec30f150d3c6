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
from algorithms.nash.extragradient import extragradient, halpern, mirror_prox
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
    "SYMMETRIC",
    "make_learner",
    "dno",
    "egpo",
    "extragradient",
    "fictitious_play",
    "ftpl",
    "ftrl_euclidean",
    "halpern",
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
