"""Knowledge checks: the answers never reach the learner before submitting, scoring happens on the
server (a question is right only when exactly the correct options are chosen), feedback after,
the attempt history and the attempt limit."""

from __future__ import annotations

import copy
import re

import pytest
from sqlmodel import select

from api.catalog.models import KnowledgeCheck, Programme
from api.learning import checks
from tests.learning.conftest import right_answers, wrong_answers

CHECK = "check-outside-in"


@pytest.fixture
def check(db) -> KnowledgeCheck:
    return db.exec(select(KnowledgeCheck).join(Programme).where(Programme.slug == "acxp",
                                                                KnowledgeCheck.slug == CHECK)).one()


@pytest.fixture
def studying(client, make_user, login, enrol):
    user = make_user()
    enrol(user, "acxp")
    login(user.email)
    return user


def _without_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_the_answers_never_reach_the_page_or_the_api_before_submitting(client, db, studying, check):
    page = client.get(f"/learn/acxp/check/{CHECK}")
    api = client.get(f"/api/v1/learning/programmes/acxp/checks/{CHECK}")
    assert page.status_code == 200 and api.status_code == 200
    for q in check.questions:
        snippet = " ".join(q["explanation"].split()[:6])
        assert snippet not in page.text and snippet not in api.text
    assert "correct" not in api.text and "explanation" not in api.text
    assert "correct" not in page.text.lower().split("<main")[1]
    # The strongest form: move every right answer somewhere else; the page and the API do not change.
    shuffled = copy.deepcopy(check.questions)
    for q in shuffled:
        flags = [bool(o.get("correct")) for o in q["options"]]
        for o, flag in zip(q["options"], flags[1:] + flags[:1], strict=True):
            o.pop("correct", None)
            if flag:
                o["correct"] = True
        q["explanation"] = "Something else entirely."
    before = right_answers(check)
    check.questions = shuffled
    db.commit()
    assert right_answers(check) != before
    assert _without_token(client.get(f"/learn/acxp/check/{CHECK}").text) == _without_token(page.text)
    assert client.get(f"/api/v1/learning/programmes/acxp/checks/{CHECK}").json() == api.json()


def test_questions_are_shown_as_an_accessible_form(client, studying, check):
    page = client.get(f"/learn/acxp/check/{CHECK}").text
    assert page.count("<fieldset") == len(check.questions) and page.count("<legend>") == len(check.questions)
    assert 'type="radio" id="q0-0" name="q0" value="0" required' in page
    assert 'type="checkbox" id="q1-0" name="q1" value="0" aria-describedby="q1-hint"' in page
    assert '<label for="q1-3">Operatives are employed directly rather than through contractors</label>' in page
    assert "Pass mark: 70%" in page and "Attempts used: 0 of 3" in page


def test_submitting_right_answers_passes_and_shows_feedback(client, browser, studying, check):
    data = {f"q{i}": [str(x) for x in a] for i, a in enumerate(right_answers(check))}
    r = browser.post_form(f"/learn/acxp/check/{CHECK}", **data)
    assert r.status_code == 303 and r.headers["location"] == f"/learn/acxp/check/{CHECK}/attempts/1"
    page = client.get(r.headers["location"]).text
    assert "You passed with 100%." in page
    assert page.count("Right</span>") == len(check.questions)
    assert check.questions[0]["explanation"].split(".")[0] in page  # explanations after submitting
    assert "2 attempts left." in page
    assert client.get(f"/learn/acxp/check/{CHECK}").text.count('<span class="tag ok">Passed</span>') >= 2


def test_multiple_choice_is_right_only_with_exactly_the_correct_options(client, studying, check):
    right = right_answers(check)
    # Question 2 (index 1) has three correct options of four: two of them is not enough, all four too many.
    partial = copy.deepcopy(right)
    partial[1] = right[1][:2]
    r = client.post(f"/api/v1/learning/programmes/acxp/checks/{CHECK}/attempts", json={"answers": partial})
    assert r.status_code == 201
    body = r.json()
    assert [f["correct"] for f in body["feedback"]] == [True, False, True, True, True]
    assert body["score_percent"] == 80 and body["passed"] is True  # 4 of 5 against a pass mark of 70
    everything = copy.deepcopy(right)
    everything[1] = [0, 1, 2, 3]
    body = client.post(f"/api/v1/learning/programmes/acxp/checks/{CHECK}/attempts",
                       json={"answers": everything}).json()
    assert body["feedback"][1]["correct"] is False and body["feedback"][1]["answer"] == right[1]
    assert body["feedback"][1]["explanation"] == check.questions[1]["explanation"]


def test_score_is_rounded_down_and_compared_with_the_pass_mark(check):
    assert checks.score([True, True, False]) == 66
    assert checks.score([True] * 7 + [False] * 3) == 70
    assert checks.mark(check, right_answers(check)) == [True] * len(check.questions)
    assert checks.mark(check, [[] for _ in check.questions]) == [False] * len(check.questions)


def test_the_attempt_limit_is_enforced_with_a_clear_409(client, browser, studying, check):
    url = f"/api/v1/learning/programmes/acxp/checks/{CHECK}/attempts"
    for n in range(1, 4):
        r = client.post(url, json={"answers": wrong_answers(check)})
        assert r.status_code == 201 and r.json()["number"] == n and r.json()["passed"] is False
        assert r.json()["attempts_left"] == 3 - n
    r = client.post(url, json={"answers": right_answers(check)})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "attempts_exhausted"
    assert "You have used all 3 attempts" in r.json()["error"]["message"]
    # The page says so too, offers no form, and the history lists all three.
    page = client.get(f"/learn/acxp/check/{CHECK}").text
    assert "You have used all 3 attempts at this check." in page and "Submit answers" not in page
    assert [int(n) for n in re.findall(r"Attempt (\d)<span", page)] == [3, 2, 1]
    r = browser.post_form(f"/learn/acxp/check/{CHECK}", f"/learn/acxp/check/{CHECK}", q0="1")
    assert r.status_code == 409 and "You have used all 3 attempts" in r.text
    assert client.get(f"/api/v1/learning/programmes/acxp/checks/{CHECK}").json()["attempts_left"] == 0


def test_badly_formed_answers_are_422_and_use_no_attempt(client, studying, check):
    url = f"/api/v1/learning/programmes/acxp/checks/{CHECK}/attempts"
    n = len(check.questions)
    cases = [([[1]], "wrong_answer_count"), ([[9]] + [[0]] * (n - 1), "invalid_option"),
             ([[0, 1]] + [[0]] * (n - 1), "too_many_options")]
    for answers, code in cases:
        r = client.post(url, json={"answers": answers})
        assert r.status_code == 422 and r.json()["error"]["code"] == code
    assert client.get(f"/api/v1/learning/programmes/acxp/checks/{CHECK}").json()["attempts"] == []


def test_unknown_check_is_404_and_not_enrolled_is_403(client, make_user, login):
    make_user("nosy@example.com")
    login("nosy@example.com")
    r = client.get(f"/api/v1/learning/programmes/acxp/checks/{CHECK}")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_enrolled"
    assert client.get(f"/learn/acxp/check/{CHECK}").status_code == 403
    r = client.post(f"/api/v1/learning/programmes/acxp/checks/{CHECK}/attempts", json={"answers": []})
    assert r.status_code == 403
    assert client.get("/api/v1/learning/programmes/acxp/checks/nope").status_code == 404


def test_a_learner_cannot_see_another_learners_attempts(client, make_user, login, enrol, check):
    first, second = make_user(), make_user()
    enrol(first, "acxp")
    enrol(second, "acxp")
    login(first.email)
    client.post(f"/api/v1/learning/programmes/acxp/checks/{CHECK}/attempts", json={"answers": right_answers(check)})
    assert client.get(f"/learn/acxp/check/{CHECK}/attempts/1").status_code == 200
    login(second.email)
    assert client.get(f"/learn/acxp/check/{CHECK}/attempts/1").status_code == 404
    assert client.get(f"/api/v1/learning/programmes/acxp/checks/{CHECK}").json()["attempts"] == []


# --- a check keeps its value: answers withheld until a pass or the last attempt; a wait between tries --

API = f"/api/v1/learning/programmes/acxp/checks/{CHECK}"


def _explanation_snippets(check) -> list[str]:
    return [" ".join(q["explanation"].split()[:6]) for q in check.questions if q.get("explanation")]


def test_after_a_failed_attempt_the_right_answers_and_explanations_are_withheld(client, studying, check):
    r = client.post(f"{API}/attempts", json={"answers": wrong_answers(check)})
    body = r.json()
    assert r.status_code == 201 and body["passed"] is False and body["answers_revealed"] is False
    for f in body["feedback"]:
        assert f["correct"] is False and f["chosen"]  # which questions were wrong, and what was chosen
        assert f["answer"] is None and f["explanation"] is None
        assert all(o["correct"] is None for o in f["options"])
    page = client.get(f"/learn/acxp/check/{CHECK}/attempts/1").text
    assert page.count("Not right</span>") == len(check.questions)
    assert "Correct answer" not in page
    for snippet in _explanation_snippets(check):
        assert snippet not in page
    assert "the right answers and their explanations are shown once you pass, or once you have used all 3" in page
    assert client.get(API).json()["answers_revealed"] is False


def test_the_last_attempt_reveals_the_answers(client, studying, check):
    for _ in range(2):
        body = client.post(f"{API}/attempts", json={"answers": wrong_answers(check)}).json()
        assert body["answers_revealed"] is False
    body = client.post(f"{API}/attempts", json={"answers": wrong_answers(check)}).json()
    assert body["attempts_left"] == 0 and body["answers_revealed"] is True
    assert [f["answer"] for f in body["feedback"]] == right_answers(check)
    assert body["feedback"][0]["explanation"] == check.questions[0]["explanation"]
    # Every earlier attempt's page now shows them too.
    page = client.get(f"/learn/acxp/check/{CHECK}/attempts/1").text
    assert "Correct answer" in page and _explanation_snippets(check)[0] in page


def test_a_pass_reveals_the_answers_for_the_earlier_attempts_too(client, studying, check):
    client.post(f"{API}/attempts", json={"answers": wrong_answers(check)})
    assert "Correct answer" not in client.get(f"/learn/acxp/check/{CHECK}/attempts/1").text
    body = client.post(f"{API}/attempts", json={"answers": right_answers(check)}).json()
    assert body["passed"] is True and body["answers_revealed"] is True and body["attempts_left"] == 1
    page = client.get(f"/learn/acxp/check/{CHECK}/attempts/1").text
    assert "Correct answer" in page and _explanation_snippets(check)[0] in page


@pytest.fixture
def waiting_check(db, check):
    check.retry_after_minutes = 30
    db.commit()
    return check


def _age_attempts(db, user, check, minutes: int) -> None:
    from datetime import timedelta

    from api.learning.models import KnowledgeCheckAttempt

    for a in db.exec(select(KnowledgeCheckAttempt).where(KnowledgeCheckAttempt.user_id == user.id,
                                                         KnowledgeCheckAttempt.check_id == check.id)):
        a.created_at -= timedelta(minutes=minutes)
    db.commit()


def test_after_an_attempt_that_did_not_pass_the_next_waits_and_says_until_when(client, db, browser, studying,
                                                                                 waiting_check):
    check = waiting_check
    first = client.post(f"{API}/attempts", json={"answers": wrong_answers(check)}).json()
    assert first["next_attempt_at"] is not None
    r = client.post(f"{API}/attempts", json={"answers": right_answers(check)})
    assert r.status_code == 409 and r.json()["error"]["code"] == "retry_later"
    message = r.json()["error"]["message"]
    assert "again from" in message and "UTC (in 30 minutes)" in message and "30 minutes wait" in message
    assert 1700 <= int(r.headers["Retry-After"]) <= 1801
    assert [a["number"] for a in client.get(API).json()["attempts"]] == [1]  # nothing was recorded
    # The page shows the wait instead of the form; the page's own POST gets the same answer.
    page = client.get(f"/learn/acxp/check/{CHECK}").text
    assert "You can take this check again from" in page and "Submit answers" not in page
    assert "you can try again after 30 minutes" in page
    r = browser.post_form(f"/learn/acxp/check/{CHECK}", f"/learn/acxp/check/{CHECK}", q0="1")
    assert r.status_code == 409 and "again from" in r.text
    # Half an hour later the learner may try again.
    _age_attempts(db, studying, check, 31)
    assert client.get(API).json()["next_attempt_at"] is None
    r = client.post(f"{API}/attempts", json={"answers": right_answers(check)})
    assert r.status_code == 201 and r.json()["number"] == 2 and r.json()["passed"] is True


def test_no_wait_after_a_pass(client, studying, waiting_check):
    body = client.post(f"{API}/attempts", json={"answers": right_answers(waiting_check)}).json()
    assert body["passed"] is True and body["next_attempt_at"] is None
    assert client.post(f"{API}/attempts", json={"answers": right_answers(waiting_check)}).status_code == 201


def _quiz(tree):
    return tree / "programmes" / "acxp" / "01-outside-in-versus-inside-out" / "04-check-outside-in.quiz.yaml"


@pytest.fixture
def tree(tmp_path):
    import shutil

    from tests.catalog.test_content_sync import CONTENT

    dest = tmp_path / "content"
    shutil.copytree(CONTENT, dest)
    return dest


def test_content_without_a_limit_gets_three_attempts_and_unlimited_is_refused(tree):
    from api.catalog.content_files import ContentError, load

    quiz = _quiz(tree)
    quiz.write_text(quiz.read_text().replace("max_attempts: 3\n", ""))
    checks_ = [i.quiz for t in load(tree).programmes for m in t.modules for i in m.items if hasattr(i, "quiz")]
    mine = next(q for q in checks_ if q.slug == CHECK)
    assert mine.max_attempts == 3 and mine.retry_after_minutes == 0
    assert all(q.max_attempts >= 1 for q in checks_)
    assert {q.retry_after_minutes for q in checks_ if q.slug in ("check-sco-canvas", "check-outcomes-and-landscape")} \
        == {60}
    quiz.write_text(quiz.read_text().replace("pass_mark: 70\n", "pass_mark: 70\nmax_attempts: null\n"))
    with pytest.raises(ContentError, match="max_attempts"):
        load(tree)
    quiz.write_text(quiz.read_text().replace("max_attempts: null\n", "retry_after_minutes: -5\n"))
    with pytest.raises(ContentError, match="retry_after_minutes"):
        load(tree)
