"""Learners for linear MDPs and linear mixture MDPs (``envs.linear_mdp``).

``ALGORITHMS`` maps a CLI name to a builder ``(num_states, num_actions, dim, horizon)
-> Learner`` with the default tuning; ``ENV_KIND`` says which environment family each
expects (``"linear"``: :class:`~envs.linear_mdp.LinearMDPObs`; ``"mixture"``:
:class:`~envs.linear_mdp.LinearMixtureObs`).
"""

from algorithms.linear_mdp.lsvi import (
    LSVIPHEState,
    LSVIStats,
    LSVIUCBState,
    downdate_bonus_sq,
    elliptical_bonus,
    elliptical_norm_sq,
    init_lsvi_stats,
    lsvi_phe,
    lsvi_q_values,
    lsvi_ucb,
    perturbed_q_values,
    sherman_morrison,
    update_lsvi_stats,
)
from algorithms.linear_mdp.mixture import (
    UCRLVTRState,
    ucrl_vtr,
    ucrl_vtr_plus,
    vtr_q_values,
)

ALGORITHMS = {
    "lsvi_ucb": lsvi_ucb,
    "lsvi_phe": lsvi_phe,
    "ucrl_vtr": ucrl_vtr,
    "ucrl_vtr_plus": ucrl_vtr_plus,
}
ENV_KIND = {
    "lsvi_ucb": "linear",
    "lsvi_phe": "linear",
    "ucrl_vtr": "mixture",
    "ucrl_vtr_plus": "mixture",
}

__all__ = [
    "ALGORITHMS",
    "ENV_KIND",
    "LSVIPHEState",
    "LSVIStats",
    "LSVIUCBState",
    "UCRLVTRState",
    "downdate_bonus_sq",
    "elliptical_bonus",
    "elliptical_norm_sq",
    "init_lsvi_stats",
    "lsvi_phe",
    "lsvi_q_values",
    "lsvi_ucb",
    "perturbed_q_values",
    "sherman_morrison",
    "ucrl_vtr",
    "ucrl_vtr_plus",
    "update_lsvi_stats",
    "vtr_q_values",
]
