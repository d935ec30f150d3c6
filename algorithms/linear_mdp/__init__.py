"""Learners for linear MDPs and linear mixture MDPs (``envs.linear_mdp``).

``ALGORITHMS`` maps a CLI name to a builder ``(num_states, num_actions, dim, horizon)
-> Learner`` with the default tuning; ``ENV_KIND`` says which environment family each
expects (``"linear"``: :class:`~envs.linear_mdp.LinearMDPObs`; ``"mixture"``:
:class:`~envs.linear_mdp.LinearMixtureObs`; ``"mixture_reward_free"``: the reward-free
setting of ``envs.linear_mixture_reward_free``; ``"preference"``: the preference
feedback of ``envs.preference_mdp``; ``"demonstrations"``: the expert demonstrations
of ``envs.linear_demonstrations``).
"""

from algorithms.linear_mdp.demonstrations import (
    demo_lsvi_ucb,
    linear_behavior_cloning,
    linear_behavior_cloning_learner,
    soft_lsvi_q_values,
)
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
from algorithms.linear_mdp.preference import (
    PreferenceLSVIState,
    bt_mle,
    preference_lsvi,
)
from algorithms.linear_mdp.reward_free import (
    HFRewardFreeState,
    hf_ucrl_rfe,
    plan_policies,
    tabular_rf_ucrl,
)

ALGORITHMS = {
    "lsvi_ucb": lsvi_ucb,
    "lsvi_phe": lsvi_phe,
    "ucrl_vtr": ucrl_vtr,
    "ucrl_vtr_plus": ucrl_vtr_plus,
    "hf_ucrl_rfe": hf_ucrl_rfe,
    "preference_lsvi": preference_lsvi,
    "demo_lsvi_ucb": demo_lsvi_ucb,
    "linear_behavior_cloning": linear_behavior_cloning_learner,
}
ENV_KIND = {
    "lsvi_ucb": "linear",
    "lsvi_phe": "linear",
    "ucrl_vtr": "mixture",
    "ucrl_vtr_plus": "mixture",
    "hf_ucrl_rfe": "mixture_reward_free",
    "preference_lsvi": "preference",
    "demo_lsvi_ucb": "demonstrations",
    "linear_behavior_cloning": "demonstrations",
}

__all__ = [
    "ALGORITHMS",
    "ENV_KIND",
    "HFRewardFreeState",
    "PreferenceLSVIState",
    "LSVIPHEState",
    "LSVIStats",
    "LSVIUCBState",
    "UCRLVTRState",
    "bt_mle",
    "demo_lsvi_ucb",
    "downdate_bonus_sq",
    "elliptical_bonus",
    "elliptical_norm_sq",
    "hf_ucrl_rfe",
    "init_lsvi_stats",
    "linear_behavior_cloning",
    "linear_behavior_cloning_learner",
    "lsvi_phe",
    "lsvi_q_values",
    "lsvi_ucb",
    "perturbed_q_values",
    "plan_policies",
    "preference_lsvi",
    "sherman_morrison",
    "soft_lsvi_q_values",
    "tabular_rf_ucrl",
    "ucrl_vtr",
    "ucrl_vtr_plus",
    "update_lsvi_stats",
    "vtr_q_values",
]
