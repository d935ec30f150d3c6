"""Figure: the dependence on the number of actions A in linear-Q adversarial MDPs with a
simulator, on a CONTROLLED family of instances: final regret against A for FTRL with the
log-barrier and for exponential weights on the magnitude-reduced estimator (mean and
95% band over instances, paired across A), and, at one A, regret against K (log-log)
of both and of the K^{2/3} baseline of Luo, Wei and Lee with K^{1/2} and K^{2/3}
references and the fitted slopes.

Instances (top left, top middle, bottom left):
``envs.adversarial_mdp_actions.action_family_mdp``.
Each seed draws ONE base linear-Q instance with A0 = 2 actions (H = 3 layers of S = 3
states, d = 4 simplex features, switching losses in weight space) and the instance at A
= 2, 4, 8, 16 is that base instance with A - A0 exact copies of its actions (the same
features, hence the same losses, transitions and Q-values). The best fixed policy in
hindsight and its value are the base instance's at every A (tested exactly), so a change
of regret with A is the algorithm's, not the instance's; the same seed gives the same
base instance at every A (paired). Dashed: the same with the extra actions dominated
mixtures ``(1 - eps) e_b + eps / A0`` of the base actions (eps = 0.5; never better
than the best base action: the comparator is again the base instance's; only A0 of
them are distinct, see below).
Each run is tuned to K and A by
``algorithms.adversarial_mdp.linear_q.linear_q_parameters`` (the paper's A-dependence:
``eta ~ sqrt(A ln K)`` for the log-barrier, ``eta ~ sqrt(ln A)`` for exponential
weights). Diagnostic (hollow squares): the same two learners at the largest A with the
learning rate tuned for A0 (no A-dependence in the tuning); bottom left: a learning-rate
sweep of the A0 learners on the base instances, with every family run (copies) placed at
the learning rate of the A0 learner it is equivalent to (below).

Top right (tuned learning rate, dominated mixtures): on the mixture family, every
run is a learning-rate sweep (``eta_multipliers`` = 1/4 ... 8 times the default
``eta_tuned(A)``, ONE program per learner and A, ``experiments.runner.sweep``, the
same seeds); the best multiplier per A is chosen on the first half of the instances
and its final regret shown on the other half (held out: choosing and reading on the
same instances would bias the tuned value down), next to the default rate on the same
held-out half. Bottom middle (ridge check): the log-barrier on copies with eta tuned
to A and the ridge (and the bonus scale, tied to it) times 1, 1/4, 1/16, through the
exact copy equivalence below (the A0 learner at the equivalent learning rate: one
program), with a sqrt(A / A0) reference.

Bottom right: the K-panel of the previous version, unchanged: random linear-Q
instances at A = 4 (``envs.adversarial_mdp.linear_q_mdp``, 16 seeds).

Command (full, writes figures/advmdp_actions.png and its results):

    python -m experiments.advmdp_actions            # A = 2..16, K = 1,000, 64 seeds
    python -m experiments.advmdp_actions --quick    # A = 2, 4, K = 150, 4 seeds,
                                                    # mixtures, eta x 1/2, 1, 2;
                                                    # right panel from the family

Compile-dominated (one program per algorithm and A): the full run compiles 20 programs
(2 learning-rate sweeps at A0 that are also the A = 2 runs and the diagnostic, 6 runs
with copies, 2 with the A0 learning rate, 6 learning-rate sweeps on mixtures, 1 ridge
check, 3 for the K-panel). The previous version (21 programs, no per-A sweeps) took
about 8.5 minutes under a load average of 4-5 on the 2 cores; this one was not
timed (not run to the end: see the measured section).
The quick one has the same 4 programs as before, now 3-point learning-rate sweeps on
the mixtures (the copies, the diagnostic and the ridge check are off): 81.8 s of CPU
against 78.9 s for the previous quick run, measured side by side (wall times were
meaningless at a load average near 20).

Expected (the theorems): the log-barrier's regret grows with A (its regulariser costs
A log K / eta, tuned regret ~ sqrt(A K)); the magnitude-reduced estimator's only like
sqrt(log A).

Measured (full mode, 64 instances, mean and 95% interval). Copies (solid): the
magnitude-reduced learner is flat: 61.9, 59.6, 57.0, 60.3 at A = 2, 4, 8, 16 (paired
change from A = 2 to 16: -1.5 [-7.3, 4.3]); the log-barrier grows mildly: 60.2, 60.7,
63.6, 68.0 (paired +7.8 [2.2, 13.4], x1.13, far below the sqrt(A / A0) = 2.8 of its
bound). Dominated mixtures, eps = 0.5 (dashed): both grow, the magnitude-reduced
learner about half as much: paired +13.3 [6.7, 20.0] against +29.8 [21.8, 37.7] at A =
16 (difference 16.4 [10.0, 22.9]): flatter, NOT flat. The diagnostic panel shows why
the log-barrier's growth on copies is small: there it is the A0 learner at eta_2 /
sqrt(m), and the A0 regret is flat in eta over [1/2, 4] x eta_2 (57-63) and rises only
below (73 at 1/4, 85 at 1/8); with the A0 learning rate kept at A = 16 (eta_2 / 8
equivalent) it pays 84.1 [76.2, 91.9] (the sweep at 1/8: 84.7), while the
magnitude-reduced learner with the A0 learning rate pays 61.2, its A0 value (invariant
to copies). Bottom right: the K-panel as before (131, 123, 160 at K = 1,000; slopes
0.80, 0.77, 0.82: pre-asymptotic). (These numbers are from the previous version's full
run; its A0 runs and copies at A = 4 are reproduced by this version: 60.22, 61.85 and
60.66, 59.57.)

Measured, learning rate tuned per A on the dominated mixtures (eps = 0.5, K = 1,000;
the same sweeps as the tuned panel, eta x 1/4 ... 8, on the first 32 of the figure's
64 instances, run separately before the committed figure; the figure's own held-out
numbers follow in the next paragraph). Magnitude-reduced
learner: the best multiplier is 2 at every A (the default's sqrt(ln A) scaling is
right, its constant a factor 2 low), and tuning does NOT remove the growth: at x2
66.3, 72.4, 75.2, 80.8 at A = 2, 4, 8, 16 (paired change 2 -> 16: +14.5 [5.1, 23.9];
the default x1: +9.4 [-0.3, 19.2]); the paired change 2 -> 16 is positive at every
multiplier (+9 to +29) and so is 4 -> 16 (+7 to +18). By the exact grouping above the
only A-dependent part from A = 4 to 16 is the regulariser's (the prior mass (A - 2) / A
on the dominated copies), not the estimator. Log-barrier: its growth IS mostly its
learning rate: the default (eta ~ sqrt(A)) grows by +28.8 [19.6, 38.0], but the best
multiplier rises with A (1-2 at A = 2, 4; 4-8 at A = 8, 16: the default is too small
on mixtures; presumably because the group-weighted barrier keeps mass on the
dominated copies, not measured), and
at a fixed larger multiplier the growth shrinks: +18.3 [9.3, 27.3] at x2, +10.3
[-0.7, 21.3] at x4, +5.3 [-3.1, 13.6] at x8. At the best rate per A (chosen and read
on the same 32 instances, biased low) the two learners are level: 63.7, 74.5, 72.8,
78.0 (log-barrier) against 66.3, 72.4, 75.2, 80.8. So the magnitude-reduced learner's
advantage on mixtures at the default rates (+9 against +29) is a tuning effect of the
log-barrier's default rate, and with tuned rates neither learner is flat on dominated
actions. Held-out (chosen on 16 instances, read on the other 16) the tuned values
are within +-15-25 of each other and do not separate the learners; the figure's
held-out panel uses 32 / 32. Between A = 2 and 4 (the step that adds the genuinely
new actions) the estimator's covariance changes with the policy too; that step was
not separated.

Committed figure (64 instances; eta chosen per A on the first 32, regret read on the
other 32; K = 1,000): log-barrier at the default rate 55.4, 61.4, 74.2, 86.2 at A = 2,
4, 8, 16, tuned (x2, x1, x4, x8) 50.8, 61.4, 59.0, 66.7 (paired change 2 -> 16 +15.9
[7.4, 24.5]); magnitude-reduced at the default rate 52.1, 56.1, 62.7, 69.2, tuned (x2
at every A) 52.8, 60.9, 62.5, 70.0 (+17.2 [8.2, 26.2]). Tuned, the two are level and
both grow by ~16 from A = 2 to 16 on dominated mixtures. Ridge panel (64 instances):
x1 60.2, 63.9, 63.0, 66.7; x1/4 56.4, 57.0, 60.7, 65.1; x1/16 62.8, 63.2, 61.5, 56.7
(no sqrt(A / A0) growth at any ridge). Full mode: 8.8 CPU-minutes (16 min wall at a
load average of 4-13).

Ridge check (the log-barrier on copies, eta tuned to A, 32 instances): at the default
ridge 65.1, 71.9, 70.5, 72.7 (x1.12, paired 2 -> 16 +7.6 [1.7, 13.6]; the previous
full run's direct runs on 64 instances: +7.8 [2.2, 13.4], consistent); with ridge and
bonus x 1/4: 63.2, 63.7, 67.0, 70.4 (x1.11, +7.2 [-7.0, 21.5]); x 1/16: 71.5, 72.2,
65.4, 60.1 (-11.4 [-23.7, 0.9]), noisier (the 32-rollout covariance in its small
directions). A smaller ridge does not lower the A0 regret (63-71 against 65) and does
not reveal the sqrt(A / A0) = 2.8 of the bound: at K = 1,000 the log-barrier's regret
is not dominated by its regulariser term at any of these ridges. Larger K (the same
check at K = 4,000, every rate tuned to it, 16 instances): 206, 181, 169, 168 at A =
2, 4, 8, 16 (paired 2 -> 16: -38 [-110, 34]); with ridge x 1/4: 263, 199, 191, 151
(-112 [-267, 43]). The intervals are wide (a few instances dominate: 95% interval at
A = 2 [134, 278]), but there is no sqrt(A) growth at K = 4,000 either: the A-tuned
log-barrier on copies, i.e. the A0 learner at eta_2 / sqrt(m), is if anything lower
at larger A, so at this K its regret is dominated by terms that a smaller learning
rate reduces (stability / estimator variance), not by the regulariser's A / eta.
"""

from __future__ import annotations

import dataclasses

import jax
import matplotlib.pyplot as plt
import numpy as np

from algorithms.adversarial_mdp import linear_q as lq
from envs.adversarial_mdp import linear_q_mdp
from envs.adversarial_mdp_actions import action_family_mdp
from experiments import plotting
from experiments.advmdp_common import fitted_slope, plot_rate_references
from experiments.common import drive, run_learners, run_timing, script_main
from experiments.runner import grid_product, mean_ci, sweep

NAME = "advmdp_actions"
ALGORITHMS = ("log_barrier_ftrl", "magnitude_reduced_ftrl", "linear_q_po")


@dataclasses.dataclass(frozen=True)
class Config:
    base_actions: int = 2  # A0, the base instance's actions
    action_counts: tuple[int, ...] = (2, 4, 8, 16)  # the A values (multiples of A0)
    mixing: float = 0.0  # extra actions: 0 = exact copies, > 0 dominated mixtures
    second_mixing: float | None = 0.5  # also the family with this mixing (None: off)
    num_states: int = 3  # S states per layer
    horizon: int = 3  # H layers
    feature_dim: int = 4  # d features
    losses: str = "switching"  # loss sequence (in weight space)
    num_rounds: int = 1_000  # K episodes (every run tuned to it)
    num_seeds: int = 64  # base instances per A (the same at every A: paired)
    fixed_rate_actions: tuple[int, ...] = (16,)  # diagnostic: A0-tuned eta at these A
    # eta / eta_tuned(A): the A0 diagnostic sweep (copies) and, with tune_mixtures,
    # the per-A sweep on the dominated-mixture family (must contain 1.0)
    eta_multipliers: tuple[float, ...] = (1 / 4, 1 / 2, 1.0, 2.0, 4.0, 8.0)
    tune_mixtures: bool = True  # the mixture family's runs are eta sweeps (one/A)
    # the log-barrier on copies, eta tuned to A, with the ridge (and the bonus scale,
    # tied to it) times these, through the exact A0 equivalence (one program)
    ridge_multipliers: tuple[float, ...] = (1.0, 1 / 4, 1 / 16)
    curve_actions: int = 4  # the A of the right panel (regret against K)
    curve_instances: str = "random"  # right panel: 'random' linear_q_mdp, or 'family'
    curve_seeds: int = 16  # random instances of the right panel
    algorithms: tuple[str, ...] = (
        ALGORITHMS  # the baseline runs in the right panel only
    )
    seed: int = 0  # PRNG seed


# 4 programs (compile-dominated): A = 2, 4 for the two source-paper learners, each a
# 3-point learning-rate sweep on the dominated-mixture family (the tuned panel); the
# right panel reuses the family's A = 4 runs; no copies, no diagnostic, no ridge
# check, no MGR baseline.
QUICK = Config(
    action_counts=(2, 4),
    mixing=0.5,
    num_rounds=150,
    num_seeds=4,
    fixed_rate_actions=(),
    eta_multipliers=(1 / 2, 1.0, 2.0),
    ridge_multipliers=(),
    second_mixing=None,
    curve_instances="family",
    algorithms=("log_barrier_ftrl", "magnitude_reduced_ftrl"),
)


def _learner(name, config: Config, num_actions: int, tuned_actions=None):
    """``name`` for ``num_actions`` actions, tuned by ``linear_q_parameters`` for
    ``tuned_actions`` (default: ``num_actions``)."""
    factory = getattr(lq, name)
    tuning = lq.linear_q_parameters(
        name,
        num_actions if tuned_actions is None else tuned_actions,
        config.horizon,
        config.feature_dim,
        config.num_rounds,
    )
    return factory(
        config.num_states, num_actions, config.horizon, config.feature_dim, **tuning
    )


def _family_names(config: Config) -> list[str]:
    return [n for n in config.algorithms if n != "linear_q_po"]


def _family_env(config: Config, num_actions: int, mixing=None):
    return action_family_mdp(
        config.num_states,
        config.base_actions,
        num_actions,
        config.horizon,
        config.feature_dim,
        mixing=config.mixing if mixing is None else mixing,
        losses=config.losses,
    )


def equivalent_multiplier(name: str, config: Config, num_actions: int, tuned_actions):
    """The learning rate, as a multiple of the A0-tuned one, of the A0-action learner
    that ``name`` with ``num_actions`` actions (m = A / A0 copies of each) and the
    learning rate tuned for ``tuned_actions`` plays (see the module docstring):
    ``eta_tuned(tuned) / (m eta_tuned(A0))`` for the log-barrier, ``eta_tuned(tuned) /
    eta_tuned(A0)`` for exponential weights on the magnitude-reduced estimate."""

    def eta(a):
        return lq.linear_q_parameters(
            name, a, config.horizon, config.feature_dim, config.num_rounds
        )["learning_rate"]

    ratio = eta(tuned_actions) / eta(config.base_actions)
    if name == "log_barrier_ftrl":
        return ratio * config.base_actions / num_actions
    return ratio


def _family_sweep(
    name: str,
    config: Config,
    num_actions: int,
    mixing,
    eta_multipliers,
    ridge_multipliers=(1.0,),
):
    """``name`` on the family with ``num_actions`` actions for the learning rate tuned
    to ``num_actions`` times each of ``eta_multipliers`` and the ridge (and the bonus
    scale, tied to it by the tuning) times each of ``ridge_multipliers``: ONE program
    per call (``experiments.runner.sweep``, the grid traced), the same seeds as the
    plain runs. Returns the ``RunResult``; its grid is the Cartesian product, the eta
    multiplier varying slowest."""
    tuning = lq.linear_q_parameters(
        name, num_actions, config.horizon, config.feature_dim, config.num_rounds
    )
    eta, ridge = tuning.pop("learning_rate"), tuning.pop("ridge")
    bonus_per_ridge = tuning.pop("bonus_scale") / ridge
    grid = grid_product(
        learning_rate=eta * np.asarray(eta_multipliers, dtype=float),
        ridge=ridge * np.asarray(ridge_multipliers, dtype=float),
    )
    grid["bonus_scale"] = bonus_per_ridge * grid["ridge"]
    return sweep(
        getattr(lq, name),
        _family_env(config, num_actions, mixing),
        config.num_rounds,
        key=jax.random.key(config.seed),
        grid=grid,
        static=dict(
            num_states=config.num_states,
            num_actions=num_actions,
            horizon=config.horizon,
            feature_dim=config.feature_dim,
            **tuning,
        ),
        num_seeds=config.num_seeds,
        record="log",
    )


def _mixture_prefix(config: Config):
    """The array prefix of the dominated-mixture family ('' when the main family is
    mixtures, 'mix/' for the second one), or None without one."""
    if config.mixing > 0:
        return ""
    return "mix/" if config.second_mixing is not None else None


def tuning_key(config: Config, name: str, num_actions: int, prefix: str = "") -> str:
    """The array of the learning-rate sweep ``[len(eta_multipliers), seeds]`` of
    ``name`` at ``num_actions`` (at A0 the base instance's, shared by every mixing)."""
    if num_actions == config.base_actions:
        prefix = ""
    return f"tuning/{prefix}A{num_actions}/{name}/final_regret"


def tuned_finals(arrays: dict, config: Config, name: str, prefix: str):
    """Final regret at the best learning rate per A, chosen on one half of the seeds
    and evaluated on the other (held out: choosing and evaluating on the same seeds
    would bias the tuned regret down by the selection).

    Returns ``(multipliers [n_A], tuned [seeds/2, n_A], default [seeds/2, n_A])``:
    the chosen ``eta / eta_tuned(A)``, the held-out finals at it and at multiplier 1
    (the default tuning), on the same held-out seeds (paired)."""
    multipliers = np.asarray(config.eta_multipliers, dtype=float)
    default = int(np.flatnonzero(multipliers == 1.0)[0])
    chosen, tuned, plain = [], [], []
    for a in config.action_counts:
        finals = np.asarray(arrays[tuning_key(config, name, a, prefix)])
        half = finals.shape[1] // 2
        best = int(np.argmin(np.mean(finals[:, :half], axis=1)))
        chosen.append(multipliers[best])
        tuned.append(finals[best, half:])
        plain.append(finals[default, half:])
    return np.asarray(chosen), np.stack(tuned, 1), np.stack(plain, 1)


def _ridge_check(config: Config) -> dict:
    """The log-barrier on copies with the learning rate tuned to A and a smaller ridge:
    by the exact copy equivalence, the A-action learner on m = A / A0 copies is the
    A0 learner at ``equivalent_multiplier`` times its tuned rate, so ONE program at
    A0 over (equivalent multipliers) x ``ridge_multipliers`` gives every (A, ridge).
    Array ``ridge/log_barrier_ftrl/final_regret`` ``[n_A, n_ridge, seeds]``."""
    name = "log_barrier_ftrl"
    equivalents = [
        equivalent_multiplier(name, config, a, a) for a in config.action_counts
    ]
    result = _family_sweep(
        name,
        config,
        config.base_actions,
        None,
        equivalents,
        config.ridge_multipliers,
    )
    finals = np.asarray(result.metrics["regret"][..., -1]).reshape(
        len(equivalents), len(config.ridge_multipliers), -1
    )
    for j, r in enumerate(config.ridge_multipliers):
        mean, low, high = mean_ci(finals[:, j], axis=1)
        print(
            f"ridge x{r:<8g} {name} on copies, eta tuned to A = "
            f"{list(config.action_counts)}: "
            + ", ".join(
                f"{m:.2f} [{lo:.2f}, {hi:.2f}]"
                for m, lo, hi in zip(mean, low, high, strict=True)
            )
        )
    return {
        "arrays": {f"ridge/{name}/final_regret": finals},
        "timings": {f"ridge/{name}": run_timing(result)},
    }


def family_finals(arrays: dict, config: Config, name: str, prefix: str = ""):
    """``[seeds, len(action_counts)]`` final regrets of ``name`` on the family
    (``prefix`` 'mix/' for the second mixing; its A = A0 column is the base
    instance's run, the same for every mixing)."""
    columns = []
    for a in config.action_counts:
        key = f"{'' if a == config.base_actions else prefix}A{a}/{name}/regret"
        columns.append(arrays[key][:, -1])
    return np.stack(columns, axis=1)


def paired_differences(
    arrays: dict, config: Config, name: str, prefix: str = ""
) -> np.ndarray:
    """``[seeds, len(action_counts)]`` final regret at A minus final regret at the
    first A, instance by instance (paired: the same base instance and comparator).

    A difference, not a ratio: the regret against the best fixed policy in hindsight
    can be near zero or negative on an instance (adversarial losses), which makes
    per-instance ratios meaningless."""
    finals = family_finals(arrays, config, name, prefix)
    return finals - finals[:, :1]


def run_experiment(config: Config) -> dict:
    if config.curve_instances not in ("random", "family"):
        raise ValueError(
            f"curve_instances must be 'random' or 'family', got "
            f"{config.curve_instances!r}"
        )
    if config.curve_instances == "family" and (
        config.curve_actions not in config.action_counts
    ):
        raise ValueError(
            "curve_instances='family' needs curve_actions in action_counts"
        )
    if config.eta_multipliers and 1.0 not in config.eta_multipliers:
        raise ValueError(
            "eta_multipliers must contain 1.0 (the default tuning), got "
            f"{config.eta_multipliers}"
        )
    if config.eta_multipliers and config.base_actions not in config.action_counts:
        raise ValueError(
            "eta_multipliers needs base_actions in action_counts (the A0 sweep)"
        )
    arrays, timings = {}, {}

    def collect(out):
        arrays.update(out["arrays"])
        timings.update(out["timings"])

    names = _family_names(config)
    # (prefix, A, the A the learning rate is tuned for): the family, then the
    # diagnostic runs with the A0-tuned learning rate.
    runs = [(f"A{a}/", a, a, None) for a in config.action_counts]
    runs += [
        (f"fixed_rate/A{a}/", a, config.base_actions, None)
        for a in config.fixed_rate_actions
    ]
    if config.second_mixing is not None:
        runs += [
            (f"mix/A{a}/", a, a, config.second_mixing)
            for a in config.action_counts
            if a != config.base_actions
        ]
    mixture_prefix = _mixture_prefix(config)
    multipliers = tuple(config.eta_multipliers)
    for prefix, num_actions, tuned, mixing in runs:
        family = prefix[: -len(f"A{num_actions}/")]
        swept = bool(multipliers) and tuned == num_actions
        swept = swept and (
            num_actions == config.base_actions
            or (config.tune_mixtures and family == mixture_prefix)
        )
        if swept:
            # one program per learner over the learning rates; the plain run is the
            # multiplier-1 slice (the same seeds and learner, eta traced)
            for n in names:
                result = _family_sweep(n, config, num_actions, mixing, multipliers)
                regret = np.asarray(result.metrics["regret"])
                arrays[f"{prefix}{n}/regret"] = regret[multipliers.index(1.0)]
                arrays[f"{prefix}rounds"] = result.rounds
                arrays[tuning_key(config, n, num_actions, family)] = regret[..., -1]
                timings[f"{prefix}{n}"] = run_timing(result)
        else:
            collect(
                run_learners(
                    {n: _learner(n, config, num_actions, tuned) for n in names},
                    _family_env(config, num_actions, mixing),
                    config.num_rounds,
                    num_seeds=config.num_seeds,
                    seed=config.seed,
                    prefix=prefix,
                )
            )
        for n in names:
            mean, low, high = mean_ci(arrays[f"{prefix}{n}/regret"][:, -1])
            print(
                f"{prefix:16s} {n:24s} eta tuned for A = {tuned:3d}:"
                f" final {mean:8.2f}  [{low:.2f}, {high:.2f}]"
            )
            if swept:
                mean, low, high = mean_ci(
                    arrays[tuning_key(config, n, num_actions, family)], axis=1
                )
                print(
                    f"{'':16s} {n:24s} eta / eta_tuned = {list(multipliers)}: "
                    + ", ".join(
                        f"{m:.2f} [{lo:.2f}, {hi:.2f}]"
                        for m, lo, hi in zip(mean, low, high, strict=True)
                    )
                )
    for n in names if multipliers else ():
        # the A0 diagnostic (copies): the base instance's sweep
        arrays[f"eta_sweep/{n}/final_regret"] = arrays[
            tuning_key(config, n, config.base_actions)
        ]
    if multipliers and config.tune_mixtures and mixture_prefix is not None:
        for n in names:
            chosen, tuned_f, default_f = tuned_finals(arrays, config, n, mixture_prefix)
            for label, values in (("default eta", default_f), ("tuned eta", tuned_f)):
                mean, low, high = mean_ci(values)
                print(
                    f"held-out {label:12s} {n:24s} mixtures A = "
                    f"{list(config.action_counts)}: "
                    + ", ".join(
                        f"{m:.2f} [{lo:.2f}, {hi:.2f}]"
                        for m, lo, hi in zip(mean, low, high, strict=True)
                    )
                    + (f" (eta x {chosen.tolist()})" if label == "tuned eta" else "")
                )
            mean, low, high = mean_ci(tuned_f - tuned_f[:, :1])
            print(
                f"held-out tuned paired R(A) - R(A0) {n}: "
                + ", ".join(
                    f"{m:.2f} [{lo:.2f}, {hi:.2f}]"
                    for m, lo, hi in zip(mean, low, high, strict=True)
                )
            )
    if config.ridge_multipliers and config.mixing == 0 and "log_barrier_ftrl" in names:
        collect(_ridge_check(config))
    prefixes = [""] + (["mix/"] if config.second_mixing is not None else [])
    for n, prefix in ((n, q) for n in names for q in prefixes):
        mean, low, high = mean_ci(paired_differences(arrays, config, n, prefix))
        print(
            f"{prefix}{n:24s} paired R(A) - R(A0) at A = {list(config.action_counts)}: "
            + ", ".join(
                f"{m:.2f} [{lo:.2f}, {hi:.2f}]"
                for m, lo, hi in zip(mean, low, high, strict=True)
            )
        )

    a = config.curve_actions
    if config.curve_instances == "random":
        env = linear_q_mdp(
            config.num_states,
            a,
            config.horizon,
            config.feature_dim,
            losses=config.losses,
        )
        collect(
            run_learners(
                {n: _learner(n, config, a) for n in config.algorithms},
                env,
                config.num_rounds,
                num_seeds=config.curve_seeds,
                seed=config.seed,
                prefix="curve/",
            )
        )
    else:
        arrays["curve/rounds"] = arrays[f"A{a}/rounds"]
        for n in names:
            arrays[f"curve/{n}/regret"] = arrays[f"A{a}/{n}/regret"]
    rounds = arrays["curve/rounds"]
    for n in config.algorithms:
        if f"curve/{n}/regret" in arrays:
            regret = arrays[f"curve/{n}/regret"]
            print(
                f"K-panel A = {a} {n:24s} final {np.mean(regret[:, -1]):8.2f}"
                f"  fitted slope {fitted_slope(rounds, regret):.2f}"
            )
    return {"arrays": arrays, "timings": timings}


def plot(arrays: dict, config: Config, path) -> None:
    # the A0 diagnostic places the family's runs by the copy equivalence: copies only
    diagnostic = bool(config.eta_multipliers) and config.mixing == 0
    mixture_prefix = _mixture_prefix(config)
    tuned_panel = (
        bool(config.eta_multipliers)
        and config.tune_mixtures
        and mixture_prefix is not None
    )
    ridge_key = "ridge/log_barrier_ftrl/final_regret"
    if diagnostic:
        fig, axes = plt.subplots(2, 3, figsize=(21, 10))
        left, middle, tuned_ax, sens, ridge_ax, right = axes.ravel()
        if not tuned_panel:
            tuned_ax.axis("off")
        if ridge_key not in arrays:
            ridge_ax.axis("off")
    else:
        panels = 4 if tuned_panel else 3
        fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.9))
        left, middle, right = axes[0], axes[1], axes[-1]
        tuned_ax = axes[2] if tuned_panel else None
        ridge_ax = None
    actions = np.asarray(config.action_counts, dtype=float)
    kind = "copies" if config.mixing == 0 else f"mixtures (eps = {config.mixing:g})"
    if config.second_mixing is not None:
        kind += " / dominated mixtures"
    for i, name in enumerate(_family_names(config)):
        color = plotting.COLORS[i]
        finals = family_finals(arrays, config, name)
        plotting.band(
            left,
            actions,
            finals,
            label=f"{name} (eta tuned to A)",
            color=color,
            marker="o",
        )
        plotting.band(
            middle,
            actions,
            paired_differences(arrays, config, name),
            label=name,
            color=color,
            marker="o",
        )
        if config.second_mixing is not None:
            label = f"{name}, dominated mixtures (eps = {config.second_mixing:g})"
            for ax, values in (
                (left, family_finals(arrays, config, name, "mix/")),
                (middle, paired_differences(arrays, config, name, "mix/")),
            ):
                plotting.band(
                    ax, actions, values, label=label, color=color, marker="^", ls="--"
                )
        for a in config.fixed_rate_actions:
            mean, low, high = mean_ci(arrays[f"fixed_rate/A{a}/{name}/regret"][:, -1])
            left.errorbar(
                [a],
                [mean],
                yerr=[[mean - low], [high - mean]],
                color=color,
                marker="s",
                mfc="white",
                ms=8,
                capsize=3,
                ls="none",
                label=f"{name}, eta tuned to A0 = {config.base_actions}",
            )
        if diagnostic:
            multipliers = np.asarray(config.eta_multipliers, dtype=float)
            plotting.band(
                sens,
                multipliers,
                arrays[f"eta_sweep/{name}/final_regret"],
                label=f"{name} at A0 = {config.base_actions}",
                color=color,
                axis=1,
                marker=".",
            )
            # where the family's runs sit: the A0 learner they are equivalent to
            for a in config.action_counts:
                finals_a = arrays[f"A{a}/{name}/regret"][:, -1]
                sens.plot(
                    [equivalent_multiplier(name, config, a, a)],
                    [np.mean(finals_a)],
                    marker="o",
                    color=color,
                    ls="none",
                    ms=6,
                )
                sens.annotate(
                    f"A={a}",
                    (equivalent_multiplier(name, config, a, a), np.mean(finals_a)),
                    textcoords="offset points",
                    xytext=(4, 6 if i == 0 else -12),
                    fontsize=7,
                    color=color,
                )
            for a in config.fixed_rate_actions:
                sens.plot(
                    [equivalent_multiplier(name, config, a, config.base_actions)],
                    [np.mean(arrays[f"fixed_rate/A{a}/{name}/regret"][:, -1])],
                    marker="s",
                    mfc="white",
                    color=color,
                    ls="none",
                    ms=8,
                )
    for ax in (left, middle):
        _log2_actions_axis(ax, config, kind)
    left.legend(frameon=False, fontsize=8, loc="lower left")
    middle.legend(frameon=False, fontsize=8, loc="upper left")
    left.set_ylabel(f"regret after K = {config.num_rounds} episodes")
    left.set_ylim(bottom=0)
    left.set_title(
        f"final regret vs A: same base instances, same comparator\n(H={config.horizon},"
        f" S={config.num_states}, d={config.feature_dim}, {config.num_seeds} instances,"
        f" {config.losses} losses)"
    )
    middle.axhline(0.0, color="0.5", lw=1, ls=":")
    middle.set_ylabel(f"paired regret(A) - regret(A={config.action_counts[0]})")
    middle.set_title("paired growth with A, same instance (flat = 0)")
    if diagnostic:
        sens.set_xscale("log", base=2)
        sens.set_xlabel(
            f"learning rate / eta tuned for A0 = {config.base_actions} (base instances)"
        )
        sens.set_ylabel(f"regret after K = {config.num_rounds} episodes")
        sens.set_ylim(bottom=0)
        sens.set_title(
            "diagnostic: the family's runs (dots: tuned to A; squares: eta of A0)\n"
            "sit at the equivalent learning rate of the A0 learner"
        )
        sens.grid(True, alpha=0.3)
        sens.legend(frameon=False, fontsize=8, loc="lower left")

    if tuned_panel:
        _plot_tuned(tuned_ax, arrays, config, mixture_prefix)
    if ridge_ax is not None and ridge_key in arrays:
        _plot_ridge(ridge_ax, arrays[ridge_key], config)

    a = config.curve_actions
    rounds = arrays["curve/rounds"]
    anchor = 0.0
    for i, name in enumerate(config.algorithms):
        key = f"curve/{name}/regret"
        if key not in arrays:
            continue
        regret = arrays[key]
        slope = fitted_slope(rounds, regret)
        plotting.band(
            right,
            rounds,
            regret,
            label=f"{name} (slope {slope:.2f})",
            color=plotting.COLORS[i],
        )
        anchor = max(anchor, float(np.mean(regret[:, -1])))
    plot_rate_references(right, rounds, anchor)
    right.set_xlabel("episode K")
    right.set_ylabel("regret vs best fixed policy")
    where = "random instances" if config.curve_instances == "random" else "family"
    right.set_title(f"regret vs K at A = {a} ({config.losses} losses, {where})")
    right.grid(True, which="major", alpha=0.3)
    right.legend(frameon=False, fontsize=8, loc="upper left")
    plotting.save_figure(fig, path, legend_axes=[])


def _log2_actions_axis(ax, config: Config, kind: str) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(config.action_counts, [str(a) for a in config.action_counts])
    ax.set_xlabel(f"number of actions A (A0 = {config.base_actions} + {kind})")
    ax.grid(True, alpha=0.3)


def _plot_tuned(ax, arrays: dict, config: Config, prefix: str) -> None:
    """Final regret against A on the dominated mixtures at the default learning rate
    and at the best one per A (chosen on half the seeds, shown on the other half)."""
    actions = np.asarray(config.action_counts, dtype=float)
    mixing = config.mixing if prefix == "" else config.second_mixing
    for i, name in enumerate(_family_names(config)):
        color = plotting.COLORS[i]
        chosen, tuned, default = tuned_finals(arrays, config, name, prefix)
        plotting.band(
            ax,
            actions,
            default,
            label=f"{name}, default eta",
            color=color,
            marker="^",
            ls="--",
        )
        plotting.band(
            ax,
            actions,
            tuned,
            label=f"{name}, best eta per A",
            color=color,
            marker="o",
        )
        for a, m, y in zip(actions, chosen, np.mean(tuned, 0), strict=True):
            ax.annotate(
                f"x{m:g}",
                (a, y),
                textcoords="offset points",
                xytext=(4, -12 if i else 6),
                fontsize=7,
                color=color,
            )
    _log2_actions_axis(ax, config, f"dominated mixtures, eps = {mixing:g}")
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"regret after K = {config.num_rounds} episodes")
    half = config.num_seeds // 2
    ax.set_title(
        "dominated mixtures: learning rate tuned per A (labels: eta / default)\n"
        f"chosen on {half} instances, shown on the other {config.num_seeds - half}"
    )
    ax.legend(frameon=False, fontsize=8, loc="lower left")


def _plot_ridge(ax, finals: np.ndarray, config: Config) -> None:
    """The log-barrier on copies (eta tuned to A) for each ridge multiplier, against
    A, with a sqrt(A / A0) reference from the smallest ridge's A0 value."""
    actions = np.asarray(config.action_counts, dtype=float)
    for j, r in enumerate(config.ridge_multipliers):
        plotting.band(
            ax,
            actions,
            finals[:, j].T,
            label=f"ridge and bonus x {r:g}",
            color=plotting.COLORS[j + 2],
            marker="o",
        )
    smallest = int(np.argmin(config.ridge_multipliers))
    start = float(np.mean(finals[0, smallest]))
    plotting.reference(
        ax,
        actions,
        start * np.sqrt(actions / actions[0]),
        label="sqrt(A / A0) from the smallest ridge",
    )
    _log2_actions_axis(ax, config, "copies")
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"regret after K = {config.num_rounds} episodes")
    ax.set_title(
        "log_barrier_ftrl on copies, eta tuned to A, smaller ridge\n"
        "(the A0 learner at the equivalent learning rate: exact copy equivalence)"
    )
    ax.legend(frameon=False, fontsize=8, loc="lower left")


def main(argv=None):
    return drive(
        argv,
        doc=__doc__,
        name=NAME,
        config=Config(),
        quick=QUICK,
        run_fn=run_experiment,
        plot_fn=plot,
        known_algorithms=list(ALGORITHMS),
    )


if __name__ == "__main__":
    script_main(main)
