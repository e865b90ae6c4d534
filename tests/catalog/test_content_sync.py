"""`cadre content sync`: validation that names the file and field, idempotence, all-or-nothing,
and never deleting what learners' records point at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from api.catalog.content_files import ContentError, load
from api.catalog.models import Lesson, Programme
from api.catalog.sync import sync

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"


@pytest.fixture
def tree(tmp_path) -> Path:
    dest = tmp_path / "content"
    shutil.copytree(CONTENT, dest)
    return dest


def test_the_real_catalogue_is_valid_and_complete():
    cat = load(CONTENT)
    codes = {t.programme.code: t for t in cat.programmes}
    assert set(codes) == {"ACXP", "ACXM", "ACXC", "ACX-Mentor", "CPP", "CPPM", "CPPC", "COIM", "ACXS", "OIV"}
    acxp = codes["ACXP"]
    assert len(acxp.modules) >= 4 and all(
        sum(1 for i in m.items if hasattr(i, "front")) >= 3 for m in acxp.modules)
    acxs_lessons = [i for m in codes["ACXS"].modules for i in m.items if hasattr(i, "front")]
    assert len(acxs_lessons) == 25
    for t in cat.programmes:
        assert t.modules, f"{t.programme.code} has no modules"
        longest = max(len(i.body.split()) for m in t.modules for i in m.items if hasattr(i, "body"))
        assert longest >= 300, f"{t.programme.code} has no full lesson"
    acxs = codes["ACXS"].programme
    assert acxs.format.value == "on_demand" and acxs.offers[0].amount == 86000
    plan = next(o for o in acxs.offers if o.kind.value == "instalments")
    assert plan.instalments == 4 and plan.amount == 86000
    assert codes["ACXM"].programme.prerequisites == ["ACXP"]
    assert codes["CPPC"].programme.prerequisites == ["CPPM"]
    assert codes["ACXM"].programme.duration.days == 4 and codes["ACXM"].programme.duration.hours_per_day == 5
    assert codes["COIM"].programme.duration.weeks == 7


def test_second_sync_changes_nothing(db):
    report = sync(db, CONTENT)  # the session fixture already synced once
    assert not report.changed, report.changes
    assert report.summary() == "Catalogue already up to date: nothing changed."


def test_broken_file_names_the_file_and_field_and_applies_nothing(db, tree):
    bad = tree / "programmes" / "acxs" / "programme.yaml"
    bad.write_text(bad.read_text().replace("amount: 86000", "amount: -5", 1))
    # And a valid change elsewhere, which must not be applied either.
    good = tree / "programmes" / "acxp" / "programme.yaml"
    good.write_text(good.read_text().replace("title: Accredited Customer Experience Professional",
                                             "title: Renamed Programme", 1))
    with pytest.raises(ContentError) as exc:
        sync(db, tree)
    assert any(p.startswith("content/programmes/acxs/programme.yaml: offers.0.amount:") for p in exc.value.problems)
    assert db.exec(select(Programme.title).where(Programme.code == "ACXP")).one() == \
        "Accredited Customer Experience Professional"


def test_cli_check_reports_problems_and_exit_code(tree, capsys):
    from api.cli import main

    lesson = next((tree / "programmes" / "acxp").glob("01-*/01-*.md"))
    lesson.write_text(lesson.read_text().replace("slug:", "slug: Not A Slug\nold_slug:", 1))
    assert main(["content", "sync", "--check", "--path", str(tree)]) == 1
    err = capsys.readouterr().err
    assert f"content/programmes/acxp/{lesson.parent.name}/{lesson.name}: slug:" in err
    assert "nothing was changed" in err


@pytest.mark.parametrize("mutate,expected", [
    (lambda s: s.replace("family: ACX", "family: XYZ", 1), "family: Input should be 'ACX', 'CPP' or 'OI'"),
    (lambda s: s + "\nsurprise: 1\n", "surprise: Extra inputs are not permitted"),
    (lambda s: s.replace("prerequisites: []", "prerequisites: [NOPE]", 1), "no programme has code 'NOPE'"),
    (lambda s: s + "\n  - : : :\n", "not valid YAML"),
])
def test_programme_file_errors(tree, mutate, expected):
    f = tree / "programmes" / "acxp" / "programme.yaml"
    f.write_text(mutate(f.read_text()))
    with pytest.raises(ContentError) as exc:
        load(tree)
    assert any(p.startswith("content/programmes/acxp/programme.yaml") and expected in p
               for p in exc.value.problems), exc.value.problems


def test_a_ladder_cycle_is_refused(tree):
    f = tree / "programmes" / "acxp" / "programme.yaml"
    f.write_text(f.read_text().replace("prerequisites: []", "prerequisites: [ACX-Mentor]", 1))
    with pytest.raises(ContentError, match="cycle"):
        load(tree)


def test_quiz_with_two_right_answers_to_a_single_choice_question_is_refused(tree):
    quiz = next((tree / "programmes" / "acxp").glob("01-*/*.quiz.yaml"))
    text = quiz.read_text().replace("correct: false", "correct: true")
    text = text.replace("      - text:", "      - correct: true\n        text:")
    quiz.write_text(text)
    with pytest.raises(ContentError, match="exactly one correct option"):
        load(tree)


def test_renamed_lesson_keeps_its_row_removed_one_is_retired_new_one_appears(db, tree):
    mod = next((tree / "programmes" / "acxp").glob("01-*"))
    lessons = sorted(mod.glob("0*.md"))
    first, second = lessons[0], lessons[1]
    before = {row.slug: row.id for row in db.exec(select(Lesson).join(Programme).where(Programme.code == "ACXP"))}
    first.write_text(first.read_text().replace("title:", "title: Renamed —", 1))
    second_slug = [ln for ln in second.read_text().splitlines() if ln.startswith("slug:")][0].split(":")[1].strip()
    second.unlink()
    (mod / "09-brand-new.md").write_text("---\nslug: brand-new-lesson\ntitle: Brand new\n---\nFresh text.\n")
    report = sync(db, tree)
    assert report.changed
    rows = {row.slug: row for row in db.exec(select(Lesson).join(Programme).where(Programme.code == "ACXP"))}
    first_slug = [ln for ln in first.read_text().splitlines() if ln.startswith("slug:")][0].split(":")[1].strip()
    assert rows[first_slug].id == before[first_slug] and rows[first_slug].title.startswith("Renamed —")
    assert rows[second_slug].id == before[second_slug] and rows[second_slug].retired_at is not None
    assert rows["brand-new-lesson"].retired_at is None
    # Putting the file back brings the same row back.
    shutil.copy(CONTENT / "programmes" / "acxp" / mod.name / second.name, second)
    sync(db, tree)
    db.refresh(rows[second_slug])
    assert rows[second_slug].retired_at is None
