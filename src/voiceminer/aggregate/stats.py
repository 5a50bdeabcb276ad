"""The statistics behind the report, small and checked against hand-worked values.

Scores
------
>>> nps([10, 9, 8, 7, 6, 0])        # 2 promoters, 2 passives, 2 detractors of 6
{'responses': 6, 'promoters': 2, 'passives': 2, 'detractors': 2, 'nps': 0.0}
>>> nps([10, 10, 10, 3])["nps"]      # 75% promoters - 25% detractors
50.0
>>> csat([5, 4, 3, 1], scale=5)      # top-2-box: 2 of 4 satisfied
{'responses': 4, 'csat': 50.0, 'mean': 3.25}

Absence
-------
With n comments and none mentioning a topic, the true share is below 3/n at 95%
confidence (the "rule of three"); the exact bound is 1 - 0.05^(1/n):

>>> round(rule_of_three(300), 4), round(share_upper_bound(0, 300), 4)
(0.01, 0.0099)

Spikes
------
A quiet theme going from 1 mention in 100 comments to 3 in 100 is no alarm: given 4
mentions in all, 3 or more landing in the current half has probability 5/16.

>>> round(rate_test(3, 100, 1, 100), 4)
0.3125
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

# -- scores ----------------------------------------------------------------------


def nps(scores: Sequence[float]) -> dict[str, Any]:
    """Net Promoter Score of 0-10 answers: % promoters (9-10) minus % detractors (0-6)."""
    values = np.asarray([s for s in scores if s is not None and not np.isnan(s)], float)
    n = int(values.size)
    promoters, detractors = int((values >= 9).sum()), int((values <= 6).sum())
    return {"responses": n, "promoters": promoters, "passives": n - promoters - detractors,
            "detractors": detractors,
            "nps": round(100.0 * (promoters - detractors) / n, 1) if n else None}


def csat(ratings: Sequence[float], scale: float = 5) -> dict[str, Any]:
    """CSAT of ratings on a 1..scale scale: % in the top two boxes, and the mean rating."""
    values = np.asarray([r for r in ratings if r is not None and not np.isnan(r)], float)
    n = int(values.size)
    return {"responses": n,
            "csat": round(100.0 * float((values >= scale - 1).sum()) / n, 1) if n else None,
            "mean": round(float(values.mean()), 2) if n else None}


def normalised_rating(rating: float | None, scale: float | None) -> float | None:
    """A rating on 0-100: 0-10 scales as they are (x10), 1-5 (and other 1..k) scales from their minimum of 1.

    >>> normalised_rating(7, 10), normalised_rating(4, 5), normalised_rating(1, 5)
    (70.0, 75.0, 0.0)
    """
    if rating is None or scale is None or np.isnan(rating) or np.isnan(scale) or scale <= 1:
        return None
    if scale >= 10:
        return 100.0 * rating / scale
    return 100.0 * (rating - 1) / (scale - 1)


# -- absence ---------------------------------------------------------------------


def rule_of_three(n: int) -> float | None:
    """Upper 95% bound of a share never observed in ``n`` trials (3/n, at most 1).

    >>> rule_of_three(1)
    1.0
    """
    return min(1.0, 3.0 / n) if n > 0 else None


def share_upper_bound(k: int, n: int, confidence: float = 0.95) -> float | None:
    """One-sided exact (Clopper-Pearson) upper bound of a share seen ``k`` times in ``n``.

    >>> round(share_upper_bound(1, 100), 4)
    0.0466
    """
    if n <= 0:
        return None
    if k >= n:
        return 1.0
    return float(sps.beta.ppf(confidence, k + 1, n - k))


# -- tests ---------------------------------------------------------------------------


def rate_test(count: int, n: int, base_count: int, base_n: int) -> float:
    """One-sided exact test that ``count`` of ``n`` is a higher rate than ``base_count`` of ``base_n``.

    Conditional on the total of mentions, the current period's share of them is binomial
    with the current period's share of the exposure (comments) under equal rates.
    """
    total = count + base_count
    if n <= 0 or base_n <= 0 or total == 0:
        return 1.0
    return float(sps.binom.sf(count - 1, total, n / (n + base_n)))


def drop_test(count: int, n: int, base_count: int, base_n: int) -> float:
    """One-sided exact test that ``count`` of ``n`` is a LOWER rate than the baseline.

    >>> round(drop_test(0, 100, 10, 100), 4)   # 0 of 10 mentions in the current half: 1/1024
    0.001
    """
    total = count + base_count
    if n <= 0 or base_n <= 0 or total == 0:
        return 1.0
    return float(sps.binom.cdf(count, total, n / (n + base_n)))


def share_increase_test(hits: int, n: int, base_hits: int, base_n: int) -> float:
    """One-sided Fisher exact test that hits/n (e.g. negative share) exceeds base_hits/base_n.

    >>> round(share_increase_test(8, 10, 2, 10), 4)
    0.0115
    """
    if n <= 0 or base_n <= 0:
        return 1.0
    table = [[hits, n - hits], [base_hits, base_n - base_hits]]
    return float(sps.fisher_exact(table, alternative="greater").pvalue)


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    >>> [round(q, 3) for q in benjamini_hochberg([0.01, 0.04, 0.03, 0.5])]
    [0.04, 0.053, 0.053, 0.5]
    """
    if len(pvalues) == 0:
        return []
    return [float(q) for q in sps.false_discovery_control(np.asarray(pvalues, float), method="bh")]


# -- drivers ---------------------------------------------------------------------


def removal_impact(scores: Sequence[float], mentions: Sequence[bool], metric: str = "nps",
                   weights: Sequence[float] | None = None) -> float | None:
    """How much the overall score changes when the comments that mention a theme are removed.

    Positive: the theme's comments pull the score down (removing them raises it).
    ``metric`` is "nps" (scores 0-10) or "mean" (any scale).

    >>> removal_impact([0, 0, 10, 10], [True, True, False, False])   # NPS 0 -> 100
    100.0
    >>> removal_impact([1, 5, 5], [True, False, False], metric="mean")  # mean 3.67 -> 5
    1.3333
    >>> removal_impact([1, 5], [True, False], metric="mean", weights=[1, 2])  # the same, as counted scores
    1.3333
    """
    s = np.asarray(scores, float)
    m = np.asarray(mentions, bool)
    w = np.ones(s.size) if weights is None else np.asarray(weights, float)
    if s.size == 0 or m.all():
        return None

    def value(x: np.ndarray, wx: np.ndarray) -> float:
        if metric == "nps":
            return 100.0 * (float(wx[x >= 9].sum()) - float(wx[x <= 6].sum())) / float(wx.sum())
        return float((x * wx).sum() / wx.sum())

    return round(value(s[~m], w[~m]) - value(s, w), 4)


@dataclass(frozen=True)
class Coefficient:
    name: str
    estimate: float
    std_error: float
    low: float
    high: float
    p_value: float
    n_with: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "estimate": round(self.estimate, 3), "std_error": round(self.std_error, 3),
                "ci_low": round(self.low, 3), "ci_high": round(self.high, 3), "p_value": round(self.p_value, 5),
                "n_with": self.n_with}


def ols(y: Sequence[float], X: np.ndarray, names: Sequence[str],
        weights: Sequence[float] | None = None) -> tuple[float, list[Coefficient], dict[str, Any]]:
    """Least squares of ``y`` on the columns of ``X`` plus an intercept, with classical
    standard errors and 95% confidence intervals (t distribution). ``weights``: how many observations
    each row stands for (frequency weights: the same fit as with each row repeated that many times).

    Returns (intercept, coefficients, fit) where fit has n, r2 and the residual s.d.

    >>> X = np.array([[0], [0], [1], [1]], float)
    >>> b0, coefs, fit = ols([10, 12, 2, 4], X, ["late"])
    >>> round(b0, 6), round(coefs[0].estimate, 6), round(coefs[0].std_error, 4), fit["r2"]
    (11.0, -8.0, 1.4142, 0.9412)
    >>> _, twice, fit2 = ols([10, 12, 3], np.array([[0], [0], [1]], float), ["late"], weights=[1, 1, 2])
    >>> _, repeated, fit3 = ols([10, 12, 3, 3], np.array([[0], [0], [1], [1]], float), ["late"])
    >>> round(twice[0].estimate, 6), round(twice[0].std_error, 6) == round(repeated[0].std_error, 6), fit2 == fit3
    (-8.0, True, True)
    """
    yv = np.asarray(y, float)
    A = np.column_stack([np.ones(len(yv)), np.asarray(X, float)])
    w = np.ones(len(yv)) if weights is None else np.asarray(weights, float)
    k = A.shape[1]
    n = round(float(w.sum()))
    if n <= k:
        raise ValueError(f"need more observations ({n}) than parameters ({k})")
    if np.linalg.matrix_rank(A) < k:
        raise ValueError("predictors are collinear (a constant column, or columns that always move together)")
    root = np.sqrt(w)
    beta, *_ = np.linalg.lstsq(A * root[:, None], yv * root, rcond=None)
    resid = yv - A @ beta
    dof = n - k
    sigma2 = float((w * resid) @ resid) / dof
    cov = sigma2 * np.linalg.pinv((A * w[:, None]).T @ A)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    tcrit = float(sps.t.ppf(0.975, dof))
    coefs = []
    for j, name in enumerate(names, start=1):
        t = beta[j] / se[j] if se[j] > 0 else 0.0
        coefs.append(Coefficient(name, float(beta[j]), float(se[j]), float(beta[j] - tcrit * se[j]),
                                 float(beta[j] + tcrit * se[j]), float(2 * sps.t.sf(abs(t), dof)),
                                 round(float(w[A[:, j] != 0].sum()))))
    mean = float((w * yv).sum() / w.sum())
    tss = float((w * (yv - mean) ** 2).sum())
    r2 = 1 - float((w * resid) @ resid) / tss if tss > 0 else 0.0
    return float(beta[0]), coefs, {"n": n, "r2": round(r2, 4), "residual_sd": round(float(np.sqrt(sigma2)), 3)}


def trend_slope(values: Sequence[float]) -> float:
    """Least-squares slope per period of a series (0 for fewer than two points).

    >>> trend_slope([3, 5, 7, 9])
    2.0
    """
    v = np.asarray(values, float)
    if v.size < 2:
        return 0.0
    x = np.arange(v.size, dtype=float)
    return round(float(np.polyfit(x, v, 1)[0]), 4)
