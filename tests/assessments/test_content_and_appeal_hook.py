"""`cadre content sync --check` names the file and field of a broken brief and refuses a programme
that could be completed without one; `release.apply_changed_outcome` (used by appeals) keeps both
marks and revokes the certificate through the certificates path."""

from __future__ import annotations

import shutil

import pytest

from api.assessments import release, states
from api.assessments.models import Mark, MarkKind, MarkStatus, State
from api.catalog import service as catalog_service
from api.catalog.content_files import ContentError, load
from api.certificates import service as certificates
from api.certificates.models import CertificateStatus
from api.core.config import get_settings
from tests.assessments.factories import give_released_pass

BRIEF = "programmes/acxp/assessments/01-sco-canvas-and-moments-of-truth-map.yaml"


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(get_settings().content_dir, root)
    return root


def _problems(root) -> list[str]:
    with pytest.raises(ContentError) as err:
        load(root)
    return err.value.problems


def test_the_shipped_content_is_valid_and_every_programme_needs_its_assessment():
    cat = load(get_settings().content_dir)
    assert all(t.briefs and t.programme.completion.assessments == "all" for t in cat.programmes)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("pass_mark: 60", "pass_mark: 160", "pass_rule.pass_mark: Input should be less than or equal to 100"),
    ("  - score: 1\n    label: Partly shown", "  - score: 0\n    label: Partly shown",
     "criteria.0: levels: scores must rise"),
    ("  - application/pdf\n", "  - application/x-msdownload\n", "files: types: 'application/x-msdownload' is not"),
    ("max_attempts: 2", "max_attempts: 0", "max_attempts: Input should be greater than or equal to 1"),
])
def test_a_broken_brief_is_named_by_file_and_field(content, old, new, expected):
    path = content / BRIEF
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    problems = _problems(content)
    assert any(p.startswith("content/" + BRIEF + ": ") and expected in p for p in problems), problems


def test_lessons_only_completion_is_refused(content):
    path = content / "programmes/cpp/programme.yaml"
    path.write_text(path.read_text().replace("  assessments: all\n", ""))
    assert "content/programmes/cpp/programme.yaml: completion.assessments: must be 'all'" in _problems(content)[0]
    path.write_text(path.read_text() + "  assessments: all\n")
    shutil.rmtree(content / "programmes/cpp/assessments")
    assert "has no brief" in _problems(content)[0]


def test_a_changed_outcome_keeps_both_marks_and_revokes_the_certificate(db, quick_people, enrol):
    learner, admin = quick_people["learner"], quick_people["admin"]
    enrol(learner)
    acxp = catalog_service.get_by_slug(db, "acxp")
    [sub] = give_released_pass(db, learner, acxp, quick_people["coach"], commit=False)
    cert = certificates.issue(db, user=learner, programme=acxp, holder_name="Lena Learner")
    first = db.get(Mark, sub.result_mark_id)
    states.transition(db, sub, State.under_appeal, learner, reason="(review's appeal starts here)")
    remark = Mark(submission_id=sub.id, rubric_version_id=sub.rubric_version_id, marker_id=quick_people["coach2"].id,
                  kind=MarkKind.appeal.value, status=MarkStatus.submitted.value, scores=first.scores, feedback="re",
                  outcome="fail", score_percent=20)
    db.add(remark)
    db.flush()
    release.apply_changed_outcome(db, sub, remark, admin, "the re-mark found the work was not the learner's own")
    assert sub.state == State.released.value and sub.outcome == "fail" and sub.result_mark_id == remark.id
    db.refresh(first)
    assert first.outcome == "pass"  # the first mark is untouched
    db.refresh(cert)
    assert cert.status == CertificateStatus.revoked.value and "not the learner's own" in cert.status_reason
