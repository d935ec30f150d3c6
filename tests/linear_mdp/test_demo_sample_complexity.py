"""The sample-complexity extraction of experiments/linmdp_demo_sample_complexity.py on
hand-built suboptimality curves (exact expected outputs, censored runs included)."""

import numpy as np
import pytest

from experiments.linmdp_demo_sample_complexity import (
    Config,
    episodes_to_accuracy,
    fitted_slope,
    median_ci,
    summarize,
)

INF = np.inf
GAP = np.array(
    [
        [0.5, 0.2, 0.08, 0.12, 0.04, 0.03],  # dips below 0.1, back above, then stays
        [0.3, 0.2, 0.2, 0.2, 0.2, 0.2],  # never
        [0.01, 0.01, 0.01, 0.01, 0.01, 0.01],  # from the first episode
        [0.5, 0.04, 0.5, 0.5, 0.5, 0.2],  # reached once, not at the end: censored
        [0.3, 0.3, 0.3, 0.3, 0.3, 0.1],  # equality counts (gap <= eps)
    ]
)
EPS = [0.1, 0.05]


def test_episodes_to_accuracy_stays_rule_with_censoring():
    out = episodes_to_accuracy(GAP, EPS)
    np.testing.assert_array_equal(out, [[5, INF, 1, INF, 6], [5, INF, 1, INF, INF]])
    # Recorded on a sparse grid: the episode of the column, not its index.
    rounds = [1, 2, 4, 8, 16, 32]
    np.testing.assert_array_equal(
        episodes_to_accuracy(GAP, EPS, rounds)[0], [16, INF, 1, INF, 32]
    )
    # Leading axes are kept: [E, 5] -> [E, 1, 5].
    assert episodes_to_accuracy(GAP[None], EPS).shape == (2, 1, 5)


def test_episodes_to_accuracy_first_rule():
    out = episodes_to_accuracy(GAP, EPS, rule="first")
    np.testing.assert_array_equal(out, [[3, INF, 1, 2, 6], [5, INF, 1, 2, INF]])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epsilons=[0.1, 0.0]), "positives"),
        (dict(rule="last"), "rule"),
        (dict(rounds=[1, 2, 2, 3, 4, 5]), "increasing"),
    ],
)
def test_episodes_to_accuracy_rejects_bad_input(kwargs, match):
    args = {"gap": GAP, "epsilons": EPS, **kwargs}
    with pytest.raises(ValueError, match=match):
        episodes_to_accuracy(**args)


def test_median_ci_uses_the_binomial_order_statistics():
    # n = 32: the 95% interval of the median is (x_(10), x_(23)) (binomial tables).
    x = np.arange(1.0, 33.0)
    np.testing.assert_array_equal(median_ci(x), (16.5, 10.0, 23.0))
    # Censored runs above the median leave it and its lower bound finite.
    censored = np.where(x > 28, INF, x)
    med, low, high = median_ci(censored)
    assert (med, low, high) == (16.5, 10.0, 23.0)
    # n = 4: no pair of ranks reaches 95%: the whole range.
    np.testing.assert_array_equal(median_ci([3.0, 1.0, 4.0, 2.0]), (2.5, 1.0, 4.0))


def test_fitted_slope_ignores_censored_and_floor_medians():
    x = np.array([10.0, 100.0, 1000.0, 10000.0])
    episodes = np.array([[400.0] * 3, [40.0] * 3, [1.0] * 3, [INF] * 3])
    assert fitted_slope(x, episodes) == pytest.approx(-1.0)
    assert np.isnan(fitted_slope(x[:1], episodes[:1]))


def test_summarize_groups_instance_major_runs_by_count():
    config = Config(num_instances=2, num_seeds=3, demonstrations=(10, 100))
    rounds = np.arange(1, 5)
    # demo gap [E=1, n * C = 4, seeds = 3, K = 4]: instance-major rows (i, c); the
    # curve of (i, c) reaches 0.1 at episode 1 + c + 2 i (stays), all seeds alike.
    gap = np.full((1, 4, 3, 4), 0.5)
    for i in range(2):
        for c in range(2):
            gap[0, 2 * i + c, :, c + 2 * i :] = 0.05
    gap[0, 3, :, :] = 0.5  # (i = 1, c = 1): never
    arrays = {
        "demo_lsvi_ucb/gap": gap,
        "behavior_cloning/gap": np.array([[0.05] * 3, [0.5] * 3] * 2),
        "lsvi_ucb/gap": np.full((2, 3, 4), 0.05),
        "rounds": rounds,
        "demonstrations": np.array([10, 100]),
        "epsilons": np.array([0.1]),
    }
    out = summarize(arrays, config)
    np.testing.assert_array_equal(
        out["demo"], [[[1] * 3 + [3] * 3, [2] * 3 + [INF] * 3]]
    )
    np.testing.assert_array_equal(out["bc"], [[[1] * 6, [INF] * 6]])
    np.testing.assert_array_equal(out["lsvi"], [[1] * 6])
    assert out["gap_median"].shape == (1, 2, 4)
