"""Programme cards say when the next cohort starts; the home page and the catalogue are kept for
anonymous visitors (api/core/pagecache.py), so a cohort that opens, fills or closes shows at once."""

from __future__ import annotations

import re
from datetime import date

from api.cohorts import service
from api.cohorts.catalogue import next_starts


def _when(page: str, slug: str) -> str:
    card = page.split(f'id="card-{slug}"', 1)[1].split("</article>", 1)[0]
    return re.search(r'class="pcard-when">([^<]*)<', card).group(1)


def _first_day(db, cohort) -> str:
    return service.sessions_of(db, cohort)[0].local_date.strftime("%-d %B %Y")


def test_a_new_cohort_shows_on_the_kept_home_page_and_catalogue(db, client, make_cohort):
    assert _when(client.get("/").text, "cpp") == "Live cohorts: dates to be announced"
    kept = client.get("/")
    assert _when(kept.text, "cpp") == "Live cohorts: dates to be announced"
    assert client.get("/", headers={"If-None-Match": kept.headers["etag"]}).status_code == 304  # it is kept

    later = make_cohort("cpp", starts_on=date(2027, 5, 3))
    assert _when(client.get("/").text, "cpp") == f"Next cohort {_first_day(db, later)}"
    assert _when(client.get("/programmes").text, "cpp") == f"Next cohort {_first_day(db, later)}"
    assert client.get("/api/v1/programmes/cpp").json()["next_cohort"] == str(service.sessions_of(db, later)[0]
                                                                              .local_date)

    sooner = make_cohort("cpp", starts_on=date(2027, 2, 1))
    assert _when(client.get("/").text, "cpp") == f"Next cohort {_first_day(db, sooner)}"

    service.set_status(db, sooner, "closed")  # no longer taking bookings: the later one is next
    db.commit()
    assert _when(client.get("/").text, "cpp") == f"Next cohort {_first_day(db, later)}"

    service.set_capacity(db, later, 1)
    db.commit()
    assert _when(client.get("/").text, "cpp") == f"Next cohort {_first_day(db, later)}"
    # Self-paced programmes say so; no cohort query touches them.
    assert _when(client.get("/").text, "acxs").startswith("Self-paced")


def test_a_full_or_draft_cohort_is_not_offered_as_the_next_one(db, make_cohort, make_user, buy_seat):
    from api.catalog import service as catalog_service

    cpp = catalog_service.get_by_slug(db, "cpp")
    make_cohort("cpp", starts_on=date(2027, 2, 1), status="draft")
    assert next_starts(db, [cpp]) == {}
    full = make_cohort("cpp", starts_on=date(2027, 3, 1), capacity=1)
    assert next_starts(db, [cpp]) == {cpp.id: service.sessions_of(db, full)[0].local_date}
    buy_seat(make_user(), full, slug="cpp")
    db.refresh(full)
    assert full.status == "full"
    assert next_starts(db, [cpp]) == {}


def test_a_cohort_that_has_started_leaves_the_kept_cards_when_the_worker_next_runs(db, client, make_cohort):
    from datetime import timedelta

    from sqlmodel import select

    from api.cohorts import jobs
    from api.core.pagecache import PageVersion

    def version() -> int:
        return db.exec(select(PageVersion.version).where(PageVersion.name == "public")).first() or 0

    cohort = make_cohort("cpp", starts_on=date(2027, 2, 1))
    starts = service.sessions_of(db, cohort)[0].starts_at
    before = version()
    assert "programme cards refreshed" not in jobs.waitlist_and_holds(db, starts - timedelta(minutes=5))
    assert version() == before  # nothing has started: the kept pages stay
    assert "programme cards refreshed" in jobs.waitlist_and_holds(db, starts + timedelta(minutes=3))
    assert version() == before + 1  # the kept home page and catalogue are rendered again
    assert "programme cards refreshed" not in jobs.waitlist_and_holds(db, starts + timedelta(hours=1))
