from api.assessments.models import State
from tests.assessments.factories import mark_and_release, submit_work


def test_submit_mark_release(db, people, enrol, acxp_brief, mailbox):
    enrol(people["learner"])
    sub = submit_work(db, people["learner"], acxp_brief)
    assert sub.state == State.submitted.value
    assert sub.allocated_coach_id in (people["coach"].id, people["coach2"].id)
    sub = mark_and_release(db, sub, people["coach"])
    assert sub.state == State.released.value and sub.outcome == "pass"
    db.commit()
    subjects = [m["Subject"] for m in mailbox.messages] if hasattr(mailbox, "messages") else None
    print(subjects)
