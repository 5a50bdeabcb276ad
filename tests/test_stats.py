"""The report's statistics against values worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from voiceminer.aggregate.signals import SpikeRules, find_spikes, gone_quiet
from voiceminer.aggregate.stats import (benjamini_hochberg, csat, nps, ols, rate_test, removal_impact,
                                        rule_of_three, share_upper_bound)


def _binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed term by term."""
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))


def test_nps_by_hand() -> None:
    # 5 promoters (9, 10), 3 passives (7, 8), 2 detractors (0-6) of 10: 50% - 20% = +30
    r = nps([10, 10, 9, 9, 9, 8, 7, 7, 6, 0])
    assert (r["promoters"], r["passives"], r["detractors"], r["nps"]) == (5, 3, 2, 30.0)
    assert nps([])["nps"] is None
    assert nps([0, 6, 6])["nps"] == -100.0


def test_csat_by_hand() -> None:
    # top-2 box of a 1-5 scale: ratings 4 and 5 -> 3 of 5 = 60%; mean 17/5 = 3.4
    assert csat([5, 4, 4, 2, 2], 5) == {"responses": 5, "csat": 60.0, "mean": 3.4}


def test_rule_of_three_and_exact_bound() -> None:
    # 0 mentions in 600 comments: below 3/600 = 0.5%; exact: 1 - 0.05 ** (1/600) = 0.49806%
    assert rule_of_three(600) == 0.005
    assert share_upper_bound(0, 600) == pytest.approx(1 - 0.05 ** (1 / 600), rel=1e-9)
    assert share_upper_bound(0, 600) < rule_of_three(600)
    # 2 mentions in 100: the exact (Clopper-Pearson) bound is the p with P(X <= 2 | 100, p) = 5%
    upper = share_upper_bound(2, 100)
    assert 1 - _binom_sf(3, 100, upper) == pytest.approx(0.05, abs=1e-6)
    assert 0.06 < upper < 0.063


def test_driver_impact_by_hand() -> None:
    # NPS answers 0, 3, 9, 10, 10 -> 3 promoters, 2 detractors: +20. Remove the two detractors'
    # comments (they mention "delivery") -> 3 promoters of 3: +100. Impact +80 points.
    scores, delivery = [0, 3, 9, 10, 10], [True, True, False, False, False]
    assert removal_impact(scores, delivery, "nps") == pytest.approx(80.0)
    # mean rating 1, 2, 5, 5: 3.25; without the first two: 5.0 -> +1.75
    assert removal_impact([1, 2, 5, 5], [True, True, False, False], "mean") == pytest.approx(1.75)
    assert removal_impact([1, 2], [True, True]) is None  # nothing would be left


def test_regression_by_hand() -> None:
    # y = 80 - 30 * late - 10 * price exactly, plus +-1 noise balanced within each cell
    X = np.array([[0, 0], [0, 0], [1, 0], [1, 0], [0, 1], [0, 1], [1, 1], [1, 1]], float)
    y = 80 - 30 * X[:, 0] - 10 * X[:, 1] + np.array([1, -1, 1, -1, 1, -1, 1, -1])
    b0, (late, price), fit = ols(y, X, ["late", "price"])
    assert b0 == pytest.approx(80) and late.estimate == pytest.approx(-30) and price.estimate == pytest.approx(-10)
    # residual variance 8 / (8 - 3); se of a balanced 0/1 column = sqrt(s2 / 4 * ... ) = sqrt(1.6 * 0.5)
    assert late.std_error == pytest.approx(math.sqrt(1.6 * 0.5))
    assert late.low < -30 < late.high and late.high < 0


def test_spike_test_by_hand() -> None:
    # 30 of 100 comments this period vs 10 of 100 in each of 4 earlier ones: 30 + 40 = 70 mentions,
    # each in this period with chance 100/500 under equal rates: P(X >= 30 | n=70, p=.2), about 1.2e-5
    assert rate_test(30, 100, 40, 400) == pytest.approx(_binom_sf(30, 70, 0.2), rel=1e-9)
    assert 1e-5 < rate_test(30, 100, 40, 400) < 1.3e-5
    # 1 -> 3 mentions is no alarm: the exact p-value is large, and min_volume rules it out anyway
    assert rate_test(3, 100, 1, 100) == pytest.approx(5 / 16)


def _table(series: dict[str, list[int]], n: int = 100) -> pd.DataFrame:
    rows = [(k, f"w{i:02d}", c, n, 0) for k, counts in series.items() for i, c in enumerate(counts)]
    return pd.DataFrame(rows, columns=["key", "period", "comments", "period_comments", "negative"])


def test_spikes_with_min_volume_and_many_themes() -> None:
    series = {"late": [10, 9, 11, 10, 30]}
    series.update({f"quiet{i}": [1, 0, 1, 1, 3] for i in range(20)})  # 20 quiet themes going 1 -> 3
    spikes = find_spikes(_table(series), SpikeRules(min_volume=10))
    assert [(s["key"], s["period"], s["test"]) for s in spikes] == [("late", "w04", "volume")]
    # without the minimum volume the quiet themes would still not pass the FDR-adjusted test (and the
    # real spike still does: an empty list is not an answer)
    spikes = find_spikes(_table(series), SpikeRules(min_volume=1))
    assert [(s["key"], s["period"], s["test"]) for s in spikes] == [("late", "w04", "volume")]


def test_benjamini_hochberg_by_hand() -> None:
    # sorted p: .01 .02 .03 .5 -> p * m / rank: .04 .04 .04 .5 (then the running minimum from the top)
    assert benjamini_hochberg([0.03, 0.01, 0.5, 0.02]) == pytest.approx([0.04, 0.04, 0.5, 0.04])


def test_gone_quiet() -> None:
    # peak: w00-w03, mean (17 + 18 + 18 + 20) / 4 = 18.25; the last four periods 1, 1, 0, 0: mean 0.5,
    # under 0.3 of the peak but not zero -> "faded"; four zeros -> "silent". "steady" never drops.
    def states(series: list[int]) -> list[tuple]:
        quiet = gone_quiet(_table({"login": series, "steady": [5] * 12}))
        return [(q["key"], q["state"], q["peak_periods"], q["peak_mean"], q["recent_mean"], q["last_seen"])
                for q in quiet]

    peak = ["w00", "w03"]
    assert states([17, 18, 18, 20, 9, 4, 1, 0, 1, 1, 0, 0]) == [("login", "faded", peak, 18.25, 0.5, "w09")]
    assert states([17, 18, 18, 20, 9, 4, 1, 0, 0, 0, 0, 0]) == [("login", "silent", peak, 18.25, 0.0, "w06")]


def test_gone_quiet_reads_a_partial_period_per_whole_period() -> None:
    # the last period holds 1 day of 7: its 2 comments are 14 a whole period, so the theme has not faded
    # (recent level (4 + 4 + 4 + 14) / 4 = 6.5, over 0.3 x 18.25), though its raw counts look it (3.5)
    series = [17, 18, 18, 20, 9, 6, 5, 5, 4, 4, 4, 2]
    table = _table({"login": series, "steady": [5] * 12})
    assert [q["key"] for q in gone_quiet(table)] == ["login"]
    assert gone_quiet(table, coverage={"w11": 1 / 7}) == []
    # a theme that really went quiet still shows, its partial period scaled too
    table = _table({"login": [17, 18, 18, 20, 9, 4, 1, 0, 1, 1, 0, 0], "steady": [5] * 12})
    assert [(q["key"], q["recent_mean"]) for q in gone_quiet(table, coverage={"w11": 1 / 7})] == [("login", 0.5)]


def test_regression_refuses_collinear_predictors() -> None:
    X = np.array([[1, 1], [1, 1], [0, 0], [0, 0], [1, 1]], float)  # two themes that always come together
    with pytest.raises(ValueError, match="collinear"):
        ols([1, 2, 3, 4, 5], X, ["a", "b"])
