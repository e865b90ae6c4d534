from sqlmodel import select

from api.assessments import demo
from api.assessments.models import State, Submission


def test_demo_seed_leaves_one_submission_for_the_demo_coach_and_is_idempotent(db, quick_people):
    people = {"learner": quick_people["learner"], "coach": quick_people["coach2"], "admin": quick_people["admin"],
              "employer": quick_people["other"]}
    lines = demo.seed(db, people)
    again = demo.seed(db, people)
    subs = db.exec(select(Submission).where(Submission.user_id == people["learner"].id)).all()
    assert len(subs) == 1
    assert subs[0].state == State.submitted.value and subs[0].allocated_coach_id == people["coach"].id
    assert lines == again and subs[0].public_id in lines[0]
