"""Demo data of learning: the demo learner part-way through ACXP (the first module's lessons and its
knowledge check done, one attempt failed first) and every lesson and check of ACXS done.

Progress is made through learning's own services (the same calls the lesson player and the check page
make), so completion decides as it does for anyone; nothing here completes an enrolment itself. ACXP's
enrolment comes from the demo learner's order (api/demo/payments.py runs first); enrolling here finds it,
and gives the programme by an administrator's grant only where there is none (ACXS)."""

from __future__ import annotations

from sqlmodel import Session

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.learning import checks, progress, study
from api.learning import service as learning_service
from api.learning.models import EnrolmentSource
from api.learning.progress import CHECK, LESSON

ACXP_ITEMS_DONE = 4  # the first module: three lessons and its knowledge check


def _answers(session: Session, programme_slug: str, check_slug: str, *, right: bool) -> list[list[int]]:
    check = checks.get_check(session, catalog_service.get_by_slug(session, programme_slug), check_slug)
    picks = [checks.correct_options(q) for q in check.questions]
    # A believable failed first attempt: the first questions wrong, as few as it takes to fall below the
    # pass mark (one wrong in five is still 80%, a pass at 70%).
    for i, question in enumerate(check.questions):
        if right or checks.score(checks.mark(check, picks)) < check.pass_mark:
            break
        picks[i] = [next(o for o in range(len(question["options"])) if o not in picks[i])]
    return picks


def _work_through(session: Session, user: User, slug: str, items: int | None) -> progress.Progress:
    programme = catalog_service.get_by_slug(session, slug)
    learning_service.enrol(session, user_id=user.id, programme_id=programme.id, source=EnrolmentSource.admin_grant,
                           reference="demo", check_prerequisites=False)
    todo = progress.load_one(session, user.id, programme).items
    for item in todo if items is None else todo[:items]:
        if item.done:
            continue
        if item.kind == LESSON:
            study.complete_lesson(session, user, slug, item.slug)
        elif item.kind == CHECK:
            tried = checks.attempts_of(session, user.id, item.id)
            if not tried and slug == "acxp":
                checks.submit(session, user, slug, item.slug, _answers(session, slug, item.slug, right=False))
            checks.submit(session, user, slug, item.slug, _answers(session, slug, item.slug, right=True))
    return progress.load_one(session, user.id, programme)


def seed(session: Session, people: dict[str, User]) -> list[str]:
    learner = people["learner"]
    acxp = _work_through(session, learner, "acxp", ACXP_ITEMS_DONE)
    acxs = _work_through(session, learner, "acxs", None)
    return [
        f"{learner.email}: ACXP {acxp.percent}% done (continue at /learn/acxp; one failed attempt at the first "
        "knowledge check, then a pass)",
        f"{learner.email}: ACXS every lesson and knowledge check done ({acxs.percent}%)",
    ]
