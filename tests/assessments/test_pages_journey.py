"""The whole path through the pages, as people click it: learner drafts (text and a PDF), submits;
the coach marks next, scores against the rubric and submits; the result is released; the learner
reads feedback per criterion; completion follows once lessons and checks are done too."""

from __future__ import annotations

import re

from tests.assessments.conftest import PDF
from tests.conftest import csrf_from


def _post(client, page, to, files=None, **data):
    token = csrf_from(client.get(page).text)
    return client.post(to, data={"csrf_token": token, **data}, files=files, follow_redirects=False)


def test_learner_submits_coach_marks_result_released(db, client, people, enrol, as_user, mailbox):
    learner, coach = people["learner"], people["coach"]
    enrol(learner)
    as_user(learner)
    page = "/learn/acxp/assessments/sco-canvas-and-moments-of-truth-map"
    r = client.get("/learn/acxp/assessments", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == page
    html = client.get(page).text
    assert "How it is marked" in html and "Must be met" in html and "Not started" in html
    assert _post(client, page, page + "/draft").status_code == 303  # start
    html = client.get(page).text
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    r = _post(client, page, page + "/draft", text="My canvas for the billing need.", version=version,
              zone="America/New_York", files={"file": ("../../etc/canvas.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    html = client.get(page).text
    assert "canvas.pdf" in html and "../" not in html.split("Attached files")[1].split("</ul>")[0]
    r = _post(client, page, page + "/submit", authentic="yes", anonymised="yes")
    assert r.status_code == 303, r.text
    html = client.get(page).text
    assert "Submitted, awaiting marking" in html
    assert any("Submitted:" in s for s in mailbox.subjects(learner.email))

    # the coach (the other coach may have been allocated: both are coaches, equal share)
    as_user(coach)
    r = _post(client, "/coach/marking", "/coach/marking/next")
    assert r.status_code == 303
    target = r.headers["location"]
    if target == "/coach/marking":  # allocated to the other coach: mark as them
        coach = people["coach2"]
        as_user(coach)
        r = _post(client, "/coach/marking", "/coach/marking/next")
        target = r.headers["location"]
    screen = client.get(target).text
    assert "Lena Learner" not in screen and "Candidate" in screen  # ACXP is blind-marked
    assert "canvas.pdf" in screen and "My canvas for the billing need." in screen
    rv = re.search(r'name="rubric_version_id" value="(\d+)"', screen).group(1)
    mv = re.search(r'name="version" value="(\d*)"', screen).group(1)
    slugs = re.findall(r'name="score-([a-z0-9-]+)" value="3"', screen)
    assert len(slugs) == 5
    data = {f"score-{s}": "3" for s in slugs} | {f"comment-{s}": "Strong." for s in slugs}
    r = _post(client, target, target + "/mark", action="submit", feedback="Real, careful work.", version=mv,
              rubric_version_id=rv, **data)
    assert r.status_code == 303, r.text
    from api.assessments.access import by_public_id
    from tests.assessments.factories import confirm_moderation

    confirm_moderation(db, by_public_id(db, target.rsplit("/", 1)[1]))  # when the moderation sample took it
    db.commit()
    html = client.get(target).text
    assert "Release the result" in html
    r = _post(client, target, target + "/release")
    assert r.status_code == 303
    r = _post(client, target, target + "/release")
    assert r.status_code == 409 and "already released" in r.text

    as_user(learner)
    html = client.get(page).text
    assert "Passed" in html and "Strong." in html and "Real, careful work." in html
    assert "(America/New_York)" in html
    assert any("passed" in s for s in mailbox.subjects(learner.email))


def test_marking_screen_needs_the_allocation(db, client, people, enrol, as_user, acxp_brief):
    from tests.assessments.factories import submit_work

    enrol(people["learner"])
    sub = submit_work(db, people["learner"], acxp_brief)
    db.commit()
    stranger = people["coach2"] if sub.allocated_coach_id == people["coach"].id else people["coach"]
    as_user(stranger)
    assert client.get(f"/coach/marking/{sub.public_id}").status_code == 404
    assert client.get(f"/api/v1/assessments/submissions/{sub.public_id}").status_code == 404
    as_user(people["other"])
    assert client.get(f"/api/v1/assessments/submissions/{sub.public_id}").status_code == 404
    as_user(people["admin"])
    assert client.get(f"/coach/marking/{sub.public_id}").status_code == 200
    assert client.get("/admin/assessments").status_code == 200


def test_submitting_without_an_answer_or_the_declarations_says_so_beside_each_field(db, client, people, enrol,
                                                                                     as_user):
    from tests.core.test_form_messages import check

    learner = people["learner"]
    enrol(learner)
    as_user(learner)
    page = "/learn/acxp/assessments/sco-canvas-and-moments-of-truth-map"
    assert _post(client, page, page + "/draft").status_code == 303  # start
    r = _post(client, page, page + "/submit", text="")
    assert r.status_code == 422
    check(r.text, {"text": "add your text", "authentic": "Confirm that the work is your own",
                   "anonymised": "anonymised"})
    assert "Submitted, awaiting marking" not in client.get(page).text
