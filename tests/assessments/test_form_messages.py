"""Assessment forms walked with bad input (see tests/core/test_form_messages.py): the page comes back
with 422, each message beside its own field, the summary linking to it in the form's order, what was
typed kept, and nothing saved."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from api.accounts.models import User
from api.assessments import appeals, extensions, marking, release, rubrics, submissions
from tests.assessments.factories import confirm_moderation, submit_work
from tests.assessments.review_helpers import all_at, first_mark, set_moderation
from tests.core.test_form_messages import beside


def summary_links(html: str) -> list[str]:
    box = html.split('class="error-summary"', 1)
    assert len(box) == 2, "no error summary"
    return re.findall(r'<a href="#f-([a-z0-9_-]+)">', box[1].split("</div>", 1)[0])


def level_message(html: str, slug: str) -> str:
    """The message of a criterion's level choice: inside its fieldset, which points at it, with the first
    level carrying the id the summary links to."""
    field = f"score-{slug}"
    at = html.find(f'id="f-{field}-error"')
    assert at > 0, f"no message beside {field}"
    start = html.rfind("<fieldset", 0, at)
    block = html[start:html.find("</fieldset>", at)]
    assert "has-error" in block[:60] and f'aria-describedby="f-{field}-error"' in block[:200]
    first = re.search(r'<input type="radio" id="([^"]+)"[^>]*>', block)
    assert first.group(1) == f"f-{field}" and 'aria-invalid="true"' in first.group(0)
    return re.search(r'id="f-[^"]+-error">([^<]+)<', html[at - 20:]).group(1)


def _marking(db, people, acxp_brief, enrol, browser, as_user):
    learner = people["learner"]
    enrol(learner)
    sub = submit_work(db, learner, acxp_brief)
    db.commit()
    coach = db.get(User, sub.allocated_coach_id)
    as_user(coach)
    page = f"/coach/marking/{sub.public_id}"
    assert browser.post_form(page, page + "/start").status_code == 303
    html = browser.client.get(page).text
    form = {"version": re.search(r'name="version" value="(\d*)"', html).group(1),
            "rubric_version_id": re.search(r'name="rubric_version_id" value="(\d+)"', html).group(1)}
    criteria = rubrics.current(db, acxp_brief).rubric["criteria"]
    return sub, coach, page, form, criteria


def test_submitting_a_mark_with_a_criterion_unscored_and_no_feedback(db, client, browser, people, acxp_brief,
                                                                     enrol, as_user):
    sub, coach, page, form, criteria = _marking(db, people, acxp_brief, enrol, browser, as_user)
    first, second, *rest = criteria
    data = {f"score-{c['slug']}": str(c["levels"][-1]["score"]) for c in [first, *rest]}
    data |= {f"comment-{c['slug']}": f"Kept words on {c['slug']}." for c in criteria}
    r = browser.post_form(page, page + "/mark", action="submit", feedback="", **form, **data)
    assert r.status_code == 422
    assert summary_links(r.text) == [f"score-{second['slug']}", "feedback"]
    assert f"Choose a level for “{second['title']}”" in level_message(r.text, second["slug"])
    assert "Write overall feedback" in beside(r.text, "feedback")
    # what was typed stays: the chosen levels and every comment
    for c in criteria:
        assert f"Kept words on {c['slug']}." in r.text
    top = first["levels"][-1]["score"]
    assert re.search(rf'name="score-{first["slug"]}" value="{top}" checked', r.text)
    db.expire_all()
    draft = marking.draft_for(db, sub, coach)
    assert draft is None or not draft.scores  # nothing saved


def test_saving_a_mark_with_a_comment_too_long_and_a_level_that_is_not_one(db, client, browser, people,
                                                                           acxp_brief, enrol, as_user):
    sub, coach, page, form, criteria = _marking(db, people, acxp_brief, enrol, browser, as_user)
    first, second = criteria[:2]
    data = {f"comment-{first['slug']}": "x" * (marking.MAX_COMMENT + 1), f"score-{second['slug']}": "99"}
    r = browser.post_form(page, page + "/mark", action="save", feedback="Draft feedback kept.", **form, **data)
    assert r.status_code == 422
    assert summary_links(r.text) == [f"comment-{first['slug']}", f"score-{second['slug']}"]
    assert "limited to 5,000 characters" in beside(r.text, f"comment-{first['slug']}")
    assert "is not a level of" in level_message(r.text, second["slug"])
    assert "Draft feedback kept." in r.text
    db.expire_all()
    draft = marking.draft_for(db, sub, coach)
    assert draft is None or (not draft.scores and not draft.feedback)


def _released_fail(db, people, enrol, acxp_brief):
    enrol(people["learner"])
    set_moderation(db, acxp_brief, sample_percent=0, min_count=0)
    sub = first_mark(db, submit_work(db, people["learner"], acxp_brief), people["coach"], all_at(db, acxp_brief, 0))
    confirm_moderation(db, sub)
    release.release(db, sub, people["admin"])
    db.commit()
    return sub


def test_an_appeal_without_a_reason(db, client, browser, people, enrol, acxp_brief, as_user):
    sub = _released_fail(db, people, enrol, acxp_brief)
    as_user(people["learner"])
    page = f"/assessments/submissions/{sub.public_id}/appeal"
    r = browser.post_form(page, reason="   ")
    assert r.status_code == 422
    assert summary_links(r.text) == ["reason"]
    assert "Say why you are appealing" in beside(r.text, "reason")
    db.expire_all()
    assert appeals.appeal_of(db, sub) is None


def test_an_extension_request_with_every_field_wrong_then_one_too_early(db, client, browser, people, enrol,
                                                                       acxp_brief, as_user):
    enrol(people["learner"])
    sub = submissions.start(db, people["learner"], acxp_brief, "Europe/London")
    sub.deadline_at, sub.deadline_zone = datetime(2026, 12, 18, 23, 59, tzinfo=UTC), "Europe/London"
    db.add(sub)
    db.commit()
    as_user(people["learner"])
    page = f"/assessments/submissions/{sub.public_id}/extension"
    r = browser.post_form(page, until="next week", zone="Mars/Olympus", reason="")
    assert r.status_code == 422
    assert summary_links(r.text) == ["until", "zone", "reason"]
    assert "Give the new date and time" in beside(r.text, "until")
    assert "not a time zone we know" in beside(r.text, "zone")
    assert "Say why you need more time" in beside(r.text, "reason")
    assert 'value="next week"' in r.text
    # one only the service can judge: a time before the current deadline
    r = browser.post_form(page, until="2026-12-01T09:00", zone="Europe/London", reason="Peak season.")
    assert r.status_code == 422
    assert summary_links(r.text) == ["until"]
    assert "after your current deadline" in beside(r.text, "until")
    assert "Peak season." in r.text
    db.expire_all()
    assert extensions.pending(db, sub) is None


def test_an_appeal_re_mark_with_a_criterion_unscored_and_no_reasons(db, client, browser, people, enrol, acxp_brief,
                                                                    as_user):
    from tests.assessments.factories import make_coach

    sub = _released_fail(db, people, enrol, acxp_brief)
    make_coach(db, "Aoife Appeals")
    appeal = appeals.lodge(db, sub, people["learner"], "The second criterion was misread.")
    db.commit()
    as_user(db.get(User, appeal.marker_id))
    page = f"/coach/appeals/{sub.public_id}"
    criteria = rubrics.current(db, acxp_brief).rubric["criteria"]
    first, *rest = criteria
    data = {f"score-{c['slug']}": str(c["levels"][-1]["score"]) for c in rest}
    r = browser.post_form(page, feedback="Feedback I typed.", rationale="", **data)
    assert r.status_code == 422
    assert summary_links(r.text) == [f"score-{first['slug']}", "rationale"]
    assert "Choose a level" in level_message(r.text, first["slug"])
    assert "Give your reasons" in beside(r.text, "rationale")
    assert "Feedback I typed." in r.text
    db.expire_all()
    assert appeals.appeal_of(db, sub).status == "open"


def _in_moderation(db, people, enrol, acxp_brief):
    from api.assessments import moderation

    enrol(people["learner"])
    set_moderation(db, acxp_brief, sample_percent=0, min_count=0)
    sub = first_mark(db, submit_work(db, people["learner"], acxp_brief), people["coach"], all_at(db, acxp_brief, 0))
    db.commit()
    return sub, db.get(User, moderation.moderation_mark(db, sub, draft_only=True).marker_id)


def test_a_moderator_adjusting_with_a_criterion_unscored_and_no_reason(db, client, browser, people, enrol,
                                                                       acxp_brief, as_user):
    from api.assessments import moderation

    sub, moderator = _in_moderation(db, people, enrol, acxp_brief)
    as_user(moderator)
    page = f"/coach/moderation/{sub.public_id}"
    first, *rest = rubrics.current(db, acxp_brief).rubric["criteria"]
    data = {f"score-{c['slug']}": str(c["levels"][-1]["score"]) for c in rest}
    r = browser.post_form(page, page + "/decide", action="adjust", reason="  ", **data)
    assert r.status_code == 422
    assert summary_links(r.text) == ["reason", f"score-{first['slug']}"]
    assert "Give the reason you adjust the marks" in beside(r.text, "reason")
    assert "Choose a level for" in level_message(r.text, first["slug"])
    assert "<details open>" in r.text  # the levels the summary links to are shown, not folded away
    top = rest[0]["levels"][-1]["score"]
    assert re.search(rf'name="score-{rest[0]["slug"]}" value="{top}" checked', r.text)  # the chosen levels stay
    # a reason typed with a level still missing: the reason is kept, only the level is named
    r = browser.post_form(page, page + "/decide", action="adjust", reason="The map is stronger than marked.", **data)
    assert summary_links(r.text) == [f"score-{first['slug']}"]
    assert "The map is stronger than marked." in r.text
    db.expire_all()
    assert db.get(type(sub), sub.id).state == "in_moderation"
    assert moderation.moderation_mark(db, sub, draft_only=True).status == "draft"  # nothing saved


def test_a_moderator_sending_back_with_a_reason_too_long(db, client, browser, people, enrol, acxp_brief, as_user):
    from api.assessments import moderation

    sub, moderator = _in_moderation(db, people, enrol, acxp_brief)
    as_user(moderator)
    page = f"/coach/moderation/{sub.public_id}"
    r = browser.post_form(page, page + "/decide", action="send_back", reason="y" * (moderation.MAX_REASON + 1))
    assert r.status_code == 422
    assert summary_links(r.text) == ["reason"]
    assert "keep it to 5,000" in beside(r.text, "reason")
    assert "y" * 100 in r.text
    db.expire_all()
    assert db.get(type(sub), sub.id).state == "in_moderation"


def _exemplar(db, people, acxp_brief):
    from api.assessments import calibration

    ex = calibration.create_exemplar(db, people["admin"], acxp_brief, title="Exemplar: a bank's complaints",
                                     work="An SCO canvas ...", agreed_scores=all_at(db, acxp_brief, 1))
    db.commit()
    return ex


def test_marking_a_calibration_exemplar_with_two_criteria_unscored(db, client, browser, people, acxp_brief, as_user):
    from api.assessments import calibration

    ex = _exemplar(db, people, acxp_brief)
    as_user(people["coach"])
    page = f"/coach/calibration/{ex.id}"
    first, second, *rest = rubrics.current(db, acxp_brief).rubric["criteria"]
    data = {f"score-{c['slug']}": str(c["levels"][0]["score"]) for c in rest}
    r = browser.post_form(page, **data)
    assert r.status_code == 422
    assert summary_links(r.text) == [f"score-{first['slug']}", f"score-{second['slug']}"]
    assert f"Choose a level for “{second['title']}”" in level_message(r.text, second["slug"])
    low = rest[0]["levels"][0]["score"]
    assert re.search(rf'name="score-{rest[0]["slug"]}" value="{low}" checked', r.text)
    db.expire_all()
    assert ex.id not in calibration.marks_by(db, people["coach"])


def test_adding_an_exemplar_with_no_title_no_work_and_a_criterion_unscored(db, client, browser, people, acxp_brief,
                                                                          as_user):
    from api.assessments import calibration

    as_user(people["admin"])
    page = "/admin/calibration"
    first, *rest = rubrics.current(db, acxp_brief).rubric["criteria"]
    data = {f"score-{c['slug']}": str(c["levels"][1]["score"]) for c in rest}
    r = browser.post_form(page, brief=f"{acxp_brief.programme_id}:{acxp_brief.slug}", title=" ", work="",
                          rationale="Why I typed these marks.", **data)
    assert r.status_code == 422
    assert summary_links(r.text) == ["title", "work", f"score-{first['slug']}"]
    assert "Give the exemplar a title" in beside(r.text, "title")
    assert "Paste the work itself" in beside(r.text, "work")
    assert "Choose a level for" in level_message(r.text, first["slug"])
    assert "Why I typed these marks." in r.text
    db.expire_all()
    assert calibration.active_exemplars(db, [acxp_brief.id]) == []
