"""The judging arithmetic, pure (no database): weighted totals, per-judge z-score normalisation with
its zero-spread fallback, rankings, Kendall's tau-b between two rankings, per-judge dispersion and
Krippendorff's alpha for agreement between judges.

Normalisation. Judge j's totals x_ij become z_ij = (x_ij - mean_j) / sd_j (sd_j the sample standard
deviation), shown back on the panel's own scale as panel_mean + panel_sd * z_ij so a normalised
score reads like a raw one. A judge whose totals have no spread (one score, or every score equal)
has no sd to divide by: their scores are only centred, x_ij - mean_j + panel_mean (which puts every
one of them at the panel mean: they say nothing about order), and the result says so by name.

Krippendorff's alpha (interval or ordinal metric), for units = entries and coders = judges, with
missing scores allowed:
    o_ck = sum over units u of (pairs of values c, k within u) / (m_u - 1)     coincidences
    n_c  = sum_k o_ck,  n = sum_c n_c
    D_o  = sum_ck o_ck d2(c, k) / n,   D_e = sum_ck n_c n_k d2(c, k) / (n (n - 1))
    alpha = 1 - D_o / D_e
interval: d2 = (c - k)^2; ordinal: d2 = (sum of n_g for g from c to k - (n_c + n_k) / 2)^2.
Units with fewer than two values are left out; alpha is None when nothing is pairable or the
values have no spread at all (D_e = 0).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

Key = Hashable


def weighted_total(scores: Mapping[Key, float], weights: Mapping[Key, float]) -> float:
    """A judge's total for one entry: the weighted mean of the criterion scores (every criterion of
    the round must be scored)."""
    missing = [c for c in weights if c not in scores]
    if missing:
        raise ValueError(f"criteria not scored: {missing}")
    total_weight = sum(weights.values())
    if total_weight <= 0:
        raise ValueError("the criteria's weights must add up to more than 0")
    return sum(scores[c] * w for c, w in weights.items()) / total_weight


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def sample_sd(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


@dataclass
class Dispersion:
    count: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None

    @property
    def range(self) -> float | None:
        return None if self.low is None else self.high - self.low


def dispersion(values: Sequence[float]) -> Dispersion:
    values = list(values)
    return Dispersion(len(values), mean(values), sample_sd(values), min(values) if values else None,
                      max(values) if values else None)


@dataclass
class Normalised:
    """Normalised totals per (judge, entry), and what happened to each judge."""

    scores: dict[tuple[Key, Key], float]
    panel_mean: float | None
    panel_sd: float | None
    scaled: list[Key] = field(default_factory=list)  # judges z-scored
    centred: list[Key] = field(default_factory=list)  # zero spread: centred only (see the module docstring)
    notes: dict[Key, str] = field(default_factory=dict)


def normalise(totals: Mapping[tuple[Key, Key], float]) -> Normalised:
    """Per-judge z-scores of `totals` ((judge, entry) -> weighted total), on the panel's scale."""
    by_judge: dict[Key, list[tuple[Key, float]]] = defaultdict(list)
    for (judge, entry), value in totals.items():
        by_judge[judge].append((entry, value))
    everything = list(totals.values())
    panel_mean, panel_sd = mean(everything), sample_sd(everything)
    out = Normalised({}, panel_mean, panel_sd)
    for judge in sorted(by_judge, key=str):
        rows = by_judge[judge]
        values = [v for _, v in rows]
        m, sd = mean(values), sample_sd(values)
        if sd is None or sd == 0 or not panel_sd:
            out.centred.append(judge)
            why = "gave one score only" if len(values) == 1 else f"gave every entry the same total ({values[0]:g})"
            if not panel_sd:
                why = "scored on a panel whose totals have no spread"
            out.notes[judge] = (f"{why}: their scores cannot be scaled, so they are centred on the panel mean "
                                "and do not change the normalised order")
            for entry, v in rows:
                out.scores[(judge, entry)] = v - m + panel_mean
        else:
            out.scaled.append(judge)
            for entry, v in rows:
                out.scores[(judge, entry)] = panel_mean + panel_sd * (v - m) / sd
    return out


def entry_means(per_judge: Mapping[tuple[Key, Key], float]) -> dict[Key, float]:
    by_entry: dict[Key, list[float]] = defaultdict(list)
    for (_, entry), value in per_judge.items():
        by_entry[entry].append(value)
    return {entry: sum(v) / len(v) for entry, v in by_entry.items()}


def ranks(scores: Mapping[Key, float], *, places: int = 9) -> dict[Key, int]:
    """Competition ranking, highest first: equal scores share a rank and the next rank is skipped
    (1, 2, 2, 4). Scores are compared rounded to `places` so float noise makes no false order."""
    ordered = sorted(scores.items(), key=lambda kv: -round(kv[1], places))
    out: dict[Key, int] = {}
    prev, rank = None, 0
    for i, (key, value) in enumerate(ordered, start=1):
        value = round(value, places)
        if value != prev:
            rank, prev = i, value
        out[key] = rank
    return out


def kendall_tau_b(a: Mapping[Key, float], b: Mapping[Key, float]) -> float | None:
    """Kendall's tau-b between two scorings of the same items (ties allowed). 1: the same order;
    -1: reversed; None with fewer than two items or when one side is all ties."""
    keys = [k for k in a if k in b]
    concordant = discordant = ties_a = ties_b = 0
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            da = _sign(a[keys[i]] - a[keys[j]])
            db = _sign(b[keys[i]] - b[keys[j]])
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif da == db:
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b))
    if denominator == 0:
        return None
    return (concordant - discordant) / denominator


def _sign(x: float, eps: float = 1e-9) -> int:
    return 0 if abs(x) <= eps else (1 if x > 0 else -1)


def krippendorff_alpha(units: Sequence[Sequence[float | None]], metric: str = "interval") -> float | None:
    """Alpha for `units` (one list of the coders' values per unit, None where a coder gave none)."""
    if metric not in ("interval", "ordinal", "nominal"):
        raise ValueError(f"unknown metric {metric}")
    pairable = [[v for v in unit if v is not None] for unit in units]
    pairable = [u for u in pairable if len(u) >= 2]
    if not pairable:
        return None
    coincidence: dict[tuple[float, float], float] = defaultdict(float)
    for unit in pairable:
        m = len(unit)
        for i, c in enumerate(unit):
            for j, k in enumerate(unit):
                if i != j:
                    coincidence[(c, k)] += 1 / (m - 1)
    totals: dict[float, float] = defaultdict(float)
    for (c, _), o in coincidence.items():
        totals[c] += o
    n = sum(totals.values())
    values = sorted(totals)
    delta = _metric(metric, values, totals)
    observed = sum(o * delta(c, k) for (c, k), o in coincidence.items()) / n
    expected = sum(totals[c] * totals[k] * delta(c, k) for c in values for k in values) / (n * (n - 1))
    if expected == 0:
        return None
    return 1 - observed / expected


def _metric(metric: str, values: list[float], totals: Mapping[float, float]):
    if metric == "interval":
        return lambda c, k: (c - k) ** 2
    if metric == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    position = {v: i for i, v in enumerate(values)}
    cumulative = [0.0]
    for v in values:
        cumulative.append(cumulative[-1] + totals[v])

    def ordinal(c: float, k: float) -> float:
        lo, hi = sorted((position[c], position[k]))
        between = cumulative[hi + 1] - cumulative[lo]
        return (between - (totals[c] + totals[k]) / 2) ** 2

    return ordinal
