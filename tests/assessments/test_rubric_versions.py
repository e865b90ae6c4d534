"""Rubric versions are content-hashed and immutable: a content change publishes a new version at
sync, new attempts use it, earlier submissions and their marks keep theirs, and a mark against a
version that is not the submission's is refused."""

from __future__ import annotations

import shutil

import pytest
from sqlmodel import select

from api.assessments import marking, queue, rubrics
from api.assessments.models import Mark, RubricVersion
from api.catalog.sync import sync
from api.core.config import get_settings
from api.core.errors import Conflict
from tests.assessments.factories import mark_and_release, scores_at, submit_work

BRIEF = "programmes/acxp/assessments/01-sco-canvas-and-moments-of-truth-map.yaml"


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(get_settings().content_dir, root)
    return root


def test_a_changed_rubric_is_a_new_version_and_old_marks_keep_theirs(db, quick_people, acxp_brief, content):
    people = quick_people
    v1 = rubrics.current(db, acxp_brief)
    first = mark_and_release(db, submit_work(db, people["learner"], acxp_brief), people["coach"], "top")
    mark1 = db.get(Mark, first.result_mark_id)
    before = dict(mark1.scores)

    path = content / BRIEF
    path.write_text(path.read_text().replace("pass_mark: 60", "pass_mark: 70"))
    report = sync(db, content)
    assert any("rubricversion" in c and "v2" in c for c in report.changes), report.changes
    db.refresh(acxp_brief)
    v2 = rubrics.current(db, acxp_brief)
    assert v2.id != v1.id and v2.number == v1.number + 1 and v2.content_hash != v1.content_hash
    assert v2.rubric["pass_rule"]["pass_mark"] == 70

    # version 1 is exactly as it was; the released attempt and its mark still point at it
    db.refresh(v1)
    assert v1.rubric["pass_rule"]["pass_mark"] == 60
    db.refresh(first)
    db.refresh(mark1)
    assert first.rubric_version_id == v1.id and mark1.rubric_version_id == v1.id and mark1.scores == before

    # a new attempt (another learner) is marked against version 2
    second = submit_work(db, people["other"], acxp_brief)
    assert second.rubric_version_id == v2.id

    # syncing the same content again changes nothing; undoing the change points back at version 1
    assert not sync(db, content).changed
    path.write_text(path.read_text().replace("pass_mark: 70", "pass_mark: 60"))
    sync(db, content)
    db.refresh(acxp_brief)
    assert rubrics.current(db, acxp_brief).id == v1.id
    assert len(db.exec(select(RubricVersion).where(RubricVersion.brief_id == acxp_brief.id)).all()) == 2


def test_a_mark_on_another_rubric_version_is_refused(db, quick_people, acxp_brief):
    people = quick_people
    sub = submit_work(db, people["learner"], acxp_brief)
    coach = db.get(type(people["coach"]), sub.allocated_coach_id)
    queue.start(db, sub, coach)
    with pytest.raises(Conflict) as err:
        marking.save(db, sub, coach, scores=scores_at(db, acxp_brief), feedback="x", version=None,
                     rubric_version_id=sub.rubric_version_id + 999)
    assert err.value.code == "wrong_rubric_version"
    assert marking.draft_for(db, sub, coach) is None  # nothing saved
