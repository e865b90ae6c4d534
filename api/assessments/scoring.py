"""The outcome of a mark, from the rubric version it was made against (pure functions, no database).

percent = weighted score / weighted maximum (rounded down). Pass: percent ≥ pass_mark and every
must-pass criterion at or above its pass score. Otherwise refer while attempts remain (and the
percent is not below the rule's `fail_below`), else fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.assessments.models import Outcome
from api.core.errors import FieldProblems


@dataclass(frozen=True)
class Result:
    percent: int
    outcome: Outcome
    failed_must_pass: list[str] = field(default_factory=list)  # criterion titles


def pass_score(criterion: dict[str, Any]) -> int:
    """The lowest score that passes a must-pass criterion (default: its second level)."""
    if criterion.get("pass_score") is not None:
        return int(criterion["pass_score"])
    levels = criterion["levels"]
    return int(levels[1]["score"] if len(levels) > 1 else levels[0]["score"])


def level_scores(criterion: dict[str, Any]) -> list[int]:
    return [int(lv["score"]) for lv in criterion["levels"]]


def problems(rubric: dict[str, Any], scores: dict[str, Any], *, complete: bool) -> dict[str, str]:
    """{criterion_slug: message} for scores that are not a level of their criterion, or (when
    `complete`) criteria not yet scored. Unknown criteria are reported under their own slug."""
    out: dict[str, str] = {}
    known = {c["slug"]: c for c in rubric["criteria"]}
    for slug in scores:
        if slug not in known:
            out[slug] = f"“{slug}” is not a criterion of this rubric."
    for slug, c in known.items():
        entry = scores.get(slug) or {}
        score = entry.get("score")
        if score is None:
            if complete:
                out[slug] = f"Choose a level for “{c['title']}”."
            continue
        if not isinstance(score, int) or isinstance(score, bool) or score not in level_scores(c):
            out[slug] = f"“{score}” is not a level of “{c['title']}”."
    return out


class MarkProblems(FieldProblems):
    """What is wrong with a mark, per form field ("score-<criterion>", "comment-<criterion>", "feedback",
    "rationale", a moderator's "reason"), so a marking page can put each message beside its field."""


def score_problems(rubric: dict[str, Any], scores: dict[str, Any], *, complete: bool) -> dict[str, str]:
    """`problems` keyed by the form field of each criterion's level choice."""
    return {f"score-{slug}": message for slug, message in problems(rubric, scores, complete=complete).items()}


def result(rubric: dict[str, Any], scores: dict[str, Any], *, attempt: int, max_attempts: int) -> Result:
    """The outcome of a complete set of scores (call `problems(..., complete=True)` first)."""
    got = weighted_max = 0
    failed: list[str] = []
    for c in rubric["criteria"]:
        w = int(c.get("weight", 1))
        score = int(scores[c["slug"]]["score"])
        got += w * score
        weighted_max += w * max(level_scores(c))
        if c.get("must_pass") and score < pass_score(c):
            failed.append(c["title"])
    percent = (100 * got) // weighted_max if weighted_max else 0
    rule = rubric["pass_rule"]
    if percent >= int(rule["pass_mark"]) and not failed:
        return Result(percent, Outcome.passed, failed)
    fail_below = rule.get("fail_below")
    if attempt < max_attempts and (fail_below is None or percent >= int(fail_below)):
        return Result(percent, Outcome.refer, failed)
    return Result(percent, Outcome.fail, failed)


def boundary_distance(rubric: dict[str, Any], scores: dict[str, Any]) -> int:
    """How many single-level steps on one criterion would change pass into not-pass or back: 1 means
    one level up or down on some criterion crosses the pass boundary (review's moderation sample)."""
    base = result(rubric, scores, attempt=1, max_attempts=1).outcome is Outcome.passed
    for c in rubric["criteria"]:
        levels = level_scores(c)
        i = levels.index(int(scores[c["slug"]]["score"]))
        for j in (i - 1, i + 1):
            if 0 <= j < len(levels):
                moved = {**scores, c["slug"]: {**scores[c["slug"]], "score": levels[j]}}
                if (result(rubric, moved, attempt=1, max_attempts=1).outcome is Outcome.passed) != base:
                    return 1
    return 2
