"""A round's results and its fairness report, from its scores (pure: plain rows in, a JSON-able dict
out). What is stored when a round closes, and again (as an amendment) when a conflict found later
takes scores out.

Scored rounds rank entries by the mean of their judges' weighted totals, raw and per-judge
normalised (api/awards/judging/stats.py), side by side; `order` says which one the round goes by.
The sift ranks by the share of pass votes: an entry goes through when at least half its votes are
pass (a split sift is settled by the scored shortlist, not by a coin).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.awards.judging import stats


@dataclass(frozen=True)
class ScoreRow:
    judge: int  # judging_judge.id
    entry: int  # award_entry.id
    criteria: dict[str, float]
    total: float
    passed: bool | None = None  # the sift's vote


def _r(x: float | None, places: int = 4) -> float | None:
    return None if x is None else round(x, places)


def build(kind: str, rows: Sequence[ScoreRow], criteria: Sequence[dict[str, Any]], *, normalise: bool,
          advance: int | None, assignments: int, conflicts: int,
          excluded: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The snapshot of one round. `rows` are the counted scores (conflicted ones already left out and
    listed in `excluded`); `assignments` and `conflicts` give the conflict rate."""
    if kind == "sift":
        entries = _sift(rows)
        normalisation: dict[str, Any] = {"used": False, "applies": False}
        order = "raw"
    else:
        entries, normalisation = _scored(rows, normalise)
        order = "normalised" if normalise else "raw"
    key = "norm_rank" if order == "normalised" else "raw_rank"
    entries.sort(key=lambda e: (e[key], e["entry"]))
    if kind == "sift":
        through = [e["entry"] for e in entries if e["through"]]
    else:
        through = [e["entry"] for e in entries][: advance if advance else len(entries)]
        for e in entries:
            e["through"] = e["entry"] in through
    return {
        "kind": kind,
        "order": order,
        "entries": entries,
        "through": through,
        "normalisation": normalisation,
        "excluded": list(excluded),
        "fairness": fairness(kind, rows, criteria, entries, assignments=assignments, conflicts=conflicts),
    }


def _sift(rows: Sequence[ScoreRow]) -> list[dict[str, Any]]:
    votes: dict[int, list[bool]] = defaultdict(list)
    for r in rows:
        votes[r.entry].append(bool(r.passed))
    share = {e: sum(v) / len(v) for e, v in votes.items()}
    rank = stats.ranks(share)
    return [{"entry": e, "judges": len(v), "passes": sum(v), "fails": len(v) - sum(v), "raw_mean": _r(share[e]),
             "raw_rank": rank[e], "norm_mean": None, "norm_rank": rank[e], "rank_change": 0,
             "through": sum(v) * 2 >= len(v)} for e, v in votes.items()]


def _scored(rows: Sequence[ScoreRow], normalise: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    totals = {(r.judge, r.entry): r.total for r in rows}
    raw = stats.entry_means(totals)
    norm_out = stats.normalise(totals)
    norm = stats.entry_means(norm_out.scores)
    raw_rank, norm_rank = stats.ranks(raw), stats.ranks(norm)
    judges: dict[int, int] = defaultdict(int)
    for r in rows:
        judges[r.entry] += 1
    entries = [{"entry": e, "judges": judges[e], "raw_mean": _r(raw[e]), "raw_rank": raw_rank[e],
                "norm_mean": _r(norm[e]), "norm_rank": norm_rank[e], "rank_change": raw_rank[e] - norm_rank[e]}
               for e in raw]
    normalisation = {"used": normalise, "applies": True, "panel_mean": _r(norm_out.panel_mean),
                     "panel_sd": _r(norm_out.panel_sd), "scaled": norm_out.scaled, "centred": norm_out.centred,
                     "notes": {str(j): text for j, text in norm_out.notes.items()},
                     "tau": _r(stats.kendall_tau_b(raw, norm)),
                     "rank_changes": sum(1 for e in entries if e["rank_change"] != 0)}
    return entries, normalisation


def fairness(kind: str, rows: Sequence[ScoreRow], criteria: Sequence[dict[str, Any]], entries, *,
             assignments: int, conflicts: int) -> dict[str, Any]:
    """Dispersion per judge, agreement per criterion (Krippendorff's alpha: nominal for the sift's
    pass/fail, interval for scored criteria), and the conflict rate of the round's assignments."""
    by_judge: dict[int, list[float]] = defaultdict(list)
    for r in rows:
        by_judge[r.judge].append(1.0 if (kind == "sift" and r.passed) else (0.0 if kind == "sift" else r.total))
    judges = []
    for judge in sorted(by_judge):
        d = stats.dispersion(by_judge[judge])
        judges.append({"judge": judge, "count": d.count, "mean": _r(d.mean), "sd": _r(d.sd), "low": _r(d.low),
                       "high": _r(d.high), "range": _r(d.range),
                       "zero_spread": d.count < 2 or (d.sd is not None and d.sd == 0)})
    judge_ids = sorted(by_judge)
    entry_ids = sorted({r.entry for r in rows})
    cell = {(r.judge, r.entry): r for r in rows}
    agreement = []
    if kind == "sift":
        units = [[(1.0 if cell[(j, e)].passed else 0.0) if (j, e) in cell else None for j in judge_ids]
                 for e in entry_ids]
        agreement.append(_alpha_row("pass", "Pass or fail", units, "nominal"))
    else:
        for c in criteria:
            units = [[cell[(j, e)].criteria.get(c["key"]) if (j, e) in cell else None for j in judge_ids]
                     for e in entry_ids]
            agreement.append(_alpha_row(c["key"], c["label"], units, "interval"))
        units = [[cell[(j, e)].total if (j, e) in cell else None for j in judge_ids] for e in entry_ids]
        agreement.append(_alpha_row("_total", "Weighted total", units, "interval"))
    return {"judges": judges, "agreement": agreement, "assignments": assignments, "conflicts": conflicts,
            "conflict_rate": _r(conflicts / assignments) if assignments else None}


def _alpha_row(key: str, label: str, units, metric: str) -> dict[str, Any]:
    pairable = sum(1 for u in units if sum(v is not None for v in u) >= 2)
    return {"criterion": key, "label": label, "metric": metric, "units": pairable,
            "alpha": _r(stats.krippendorff_alpha(units, metric))}
