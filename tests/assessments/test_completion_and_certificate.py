"""Outcome → completion → certificate with evidence: lessons and checks alone no longer complete
ACXP; a released pass does (through the assessment.released event); the signed credential carries
the rubric's criteria and a link to the public record of the outcome, passes the OB 3.0 schema and
Cadre's own verifier; the record shows the outcome and never the learner's work."""

from __future__ import annotations

from api.assessments.models import State
from api.catalog import service as catalog_service
from api.certificates import service as certificates
from api.certificates import signing
from api.certificates.schema import validate_ob_schema
from api.learning import checks, progress, study
from api.learning import service as enrolment_service
from api.learning.models import EnrolmentStatus
from tests.assessments.factories import give_released_pass, mark_and_release, submit_work
from tests.learning.conftest import right_answers


def _study_everything(db, user):
    acxp = catalog_service.get_by_slug(db, "acxp")
    for item in progress.load_one(db, None, acxp).items:
        if item.kind == "lesson":
            study.complete_lesson(db, user, "acxp", item.slug)
        else:
            checks.submit(db, user, "acxp", item.slug, right_answers(checks.get_check(db, acxp, item.slug)))
    db.commit()
    return acxp


def test_lessons_alone_do_not_complete_a_released_pass_does(db, quick_people, enrol, drain, mailbox):
    learner = quick_people["learner"]
    enrol(learner)
    acxp = _study_everything(db, learner)
    enrolment = enrolment_service.get_enrolment(db, learner.id, acxp.id)
    assert enrolment.status == EnrolmentStatus.active.value
    needs = progress.load_one(db, learner.id, acxp).external
    assert needs == ["the practical assessment (An SCO Canvas and moments of truth map for one of your own customer "
                     "experiences): not yet submitted"]

    sub = submit_work(db, learner, _brief(db, acxp))
    assert progress.load_one(db, learner.id, acxp).external[0].endswith(": awaiting marking")
    mark_and_release(db, sub, quick_people["coach"], "second")  # 33%: a refer, not complete
    db.commit()
    drain()
    db.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.active.value
    assert ": resubmit by " in progress.load_one(db, learner.id, acxp).external[0]
    assert any("revise and resubmit" in s.lower() for s in mailbox.subjects(learner.email))

    second = submit_work(db, learner, _brief(db, acxp))
    assert second.attempt == 2 and second.deadline_at == sub.resubmit_by  # the refer's deadline
    mark_and_release(db, second, quick_people["coach"], "top")
    db.commit()
    drain()
    db.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.completed.value


def _brief(db, programme):
    from api.assessments import submissions

    return submissions.briefs_for(db, [programme.id])[programme.id][0]


def test_the_credential_carries_criteria_and_evidence_of_the_assessment(db, quick_people, enrol, client):
    learner = quick_people["learner"]
    enrol(learner)
    acxp = catalog_service.get_by_slug(db, "acxp")
    [sub] = give_released_pass(db, learner, "acxp", quick_people["coach"])
    assert sub.state == State.released.value and sub.outcome == "pass"
    cert = certificates.issue(db, user=learner, programme=acxp, holder_name="Lena Learner", issued_by=None)
    db.commit()
    cred = cert.credential
    assert validate_ob_schema(cred) == []
    assert signing.verify(db, cred).verified, signing.verify(db, cred).checks
    criteria = cred["credentialSubject"]["achievement"]["criteria"]
    assert criteria["id"].endswith("/programmes/acxp/assessment-criteria")
    assert "The need category and SCO are defined outside-in" in criteria["narrative"]
    [ev] = cred["evidence"]
    assert ev["type"] == ["Evidence"] and ev["id"].endswith(f"/assessment-records/{sub.record_id}")
    assert "Outcome: pass" in ev["narrative"]

    # the public record: outcome, title, rubric hash, release date; never the work
    record = client.get(f"/assessment-records/{sub.record_id}", headers={"accept": "application/json"}).json()
    assert record["outcome"] == "pass" and record["rubric"]["sha256"] == ev["narrative"].split("sha256 ")[1][:64]
    assert record["assessment"].startswith("An SCO Canvas")
    page = client.get(f"/assessment-records/{sub.record_id}").text
    assert "Passed" in page and "My SCO canvas and map." not in page and "Lena" not in page
    assert client.get("/assessment-records/not-a-record").status_code == 404
    crit_page = client.get("/programmes/acxp/assessment-criteria")
    assert crit_page.status_code == 200 and "Must be met" in crit_page.text
