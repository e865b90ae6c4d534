"""The hall of fame and the embargo, as the public sees them (pages and API): 2020's winner from
content; a decided cycle shows nothing (its winner's slug is a 404) until it is announced; then the
winner and the highly commended appear with their credentials; a withdrawn listing says so."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from api.awards import announce, nominations
from api.awards.models import CycleOutcome, Nominee
from api.halloffame.models import AwardWinner

AFTER = datetime(2099, 11, 21, tzinfo=UTC)


def test_2020_winner_from_content(client):
    page = client.get("/hall-of-fame").text
    assert "Roland D. Naidoo" in page and "Head of Customer Operations, Multichoice, South Africa" in page
    year = client.get("/hall-of-fame/2020").text
    assert "Roland D. Naidoo" in year
    assert client.get("/hall-of-fame/2019").status_code == 404  # no earlier winner is invented
    api = client.get("/api/v1/awards/hall-of-fame/2020").json()
    [roland] = api[0]["winners"]
    assert roland["name"] == "Roland D. Naidoo" and roland["listed"] is True and roland["kind"] == "winner"


def test_embargo_everywhere_until_announced(db, client, decided):
    cycle, _, _ = decided()
    slug = db.exec(select(CycleOutcome.slug).where(CycleOutcome.cycle_id == cycle.id,
                                                   CycleOutcome.kind == "winner")).one()
    for path in (f"/hall-of-fame/{cycle.year}/{slug}", f"/api/v1/awards/hall-of-fame/{cycle.year}/{slug}",
                 f"/hall-of-fame/{cycle.year}", f"/api/v1/awards/hall-of-fame/{cycle.year}"):
        assert client.get(path).status_code == 404, path
    for path in ("/hall-of-fame", "/api/v1/awards", f"/awards/{cycle.slug}", f"/api/v1/awards/cycles/{cycle.slug}"):
        body = client.get(path).text
        assert "Wendy Winner" not in body and "Harry Commended" not in body, path
    assert client.get(f"/api/v1/awards/cycles/{cycle.slug}").json()["state"] == "decided"

    announce.announce_due(db, AFTER)
    db.commit()
    page = client.get(f"/hall-of-fame/{cycle.year}").text
    assert "Wendy Winner" in page and "Winner " + str(cycle.year) in page
    assert "Harry Commended" in page and "Highly commended" in page
    winner = client.get(f"/hall-of-fame/{cycle.year}/{slug}").text
    assert "Wendy rebuilt customer operations outside-in." in winner
    api = client.get(f"/api/v1/awards/hall-of-fame/{cycle.year}/{slug}").json()
    [cred] = api["credentials"]
    assert cred["name"] == f"Change Architect of the Year {cycle.year}" and "/verify/" in cred["verify_url"]
    verify = client.get(cred["verify_url"].replace("http://testserver", "")).text
    assert "Wendy Winner" in verify and f"Change Architect of the Year {cycle.year}" in verify
    assert "Roland D. Naidoo" in client.get("/hall-of-fame").text  # 2020 still there


def test_the_public_pages_are_cached_and_the_announcement_shows_at_once(db, client, decided):
    cycle, _, _ = decided()
    first = client.get("/hall-of-fame")
    assert first.headers.get("etag")
    again = client.get("/hall-of-fame", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    announce.announce_due(db, AFTER)
    db.commit()
    fresh = client.get("/hall-of-fame", headers={"if-none-match": first.headers["etag"]})
    assert fresh.status_code == 200 and "Wendy Winner" in fresh.text


def test_a_winner_who_withdraws_consent_is_not_listed(db, client, decided):
    cycle, w_user, _ = decided()
    announce.announce_due(db, AFTER)
    db.commit()
    nominee = db.exec(select(Nominee).where(Nominee.cycle_id == cycle.id, Nominee.user_id == w_user.id)).one()
    nominations.set_public_consent(db, nominee, w_user, False)
    db.commit()
    page = client.get(f"/hall-of-fame/{cycle.year}").text
    assert "Wendy Winner" not in page and "The winner asked not to be listed." in page
    api = client.get(f"/api/v1/awards/hall-of-fame/{cycle.year}").json()
    w = next(x for x in api[0]["winners"] if x["kind"] == "winner")
    assert w["listed"] is False and w["name"] is None and "asked not to be listed" in w["note"]
    nominations.set_public_consent(db, nominee, w_user, True)
    db.commit()
    assert "Wendy Winner" in client.get(f"/hall-of-fame/{cycle.year}").text


def test_an_entrant_who_never_consented_to_listing_is_not_listed(db, client, make_cycle, entrant):
    from api.awards import service, states
    from api.awards.models import CycleState

    cycle = make_cycle()
    _, _, entry = entrant(cycle, name="Quiet Quentin", public=False)
    while cycle.state != CycleState.deliberating:
        states.transition(db, cycle, states.next_state(cycle.state), None)
    service.record_outcomes(db, cycle, [{"entry_id": entry.id, "kind": "winner", "citation": "Quiet work."}], None)
    announce.announce_due(db, AFTER)
    db.commit()
    [row] = db.exec(select(AwardWinner).where(AwardWinner.cycle_id == cycle.id)).all()
    assert row.listing_withdrawn_at is not None and row.certificate_id is not None  # still gets the credential
    page = client.get(f"/hall-of-fame/{cycle.year}").text
    assert "Quiet Quentin" not in page and "asked not to be listed" in page
    assert client.get(f"/hall-of-fame/{cycle.year}/{row.slug}/photo").status_code == 404


def test_admin_photo_upload_is_checked_and_shown(db, client, login, make_user):
    from api.accounts.models import Role
    from tests.conftest import csrf_from

    login(make_user(roles={Role.admin}).email)
    roland = db.exec(select(AwardWinner).where(AwardWinner.name == "Roland D. Naidoo")).one()
    token = csrf_from(client.get("/admin/hall-of-fame").text)
    r = client.post(f"/admin/hall-of-fame/{roland.id}/photo", data={"csrf_token": token},
                    files={"file": ("roland.png", b"GIF89a....", "image/png")}, follow_redirects=False)
    assert r.status_code == 303 and "Photo not saved" in client.get("/admin/hall-of-fame").text
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
           b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    r = client.post(f"/admin/hall-of-fame/{roland.id}/photo", data={"csrf_token": token},
                    files={"file": ("roland.png", png, "image/png")}, follow_redirects=False)
    assert r.status_code == 303
    db.refresh(roland)
    assert roland.slug == "2020-roland-d-naidoo" and roland.photo_key
    assert f'src="/hall-of-fame/2020/{roland.slug}/photo"' in client.get("/hall-of-fame/2020").text
    photo = client.get(f"/hall-of-fame/2020/{roland.slug}/photo")
    assert photo.status_code == 200 and photo.content == png and photo.headers["content-type"] == "image/png"
    assert "Roland D. Naidoo" in client.get(f"/hall-of-fame/2020/{roland.slug}").text


def test_the_nominees_own_photo_shows_once_announced(db, client, decided):
    from api.awards import files

    cycle, w_user, _ = decided()
    nominee = db.exec(select(Nominee).where(Nominee.cycle_id == cycle.id, Nominee.user_id == w_user.id)).one()
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
    files.set_photo(db, nominee, w_user, "me.jpg", jpeg)
    db.commit()
    announce.announce_due(db, AFTER)
    db.commit()
    row = db.exec(select(AwardWinner).where(AwardWinner.cycle_id == cycle.id, AwardWinner.kind == "winner")).one()
    assert f'src="/hall-of-fame/{cycle.year}/{row.slug}/photo"' in client.get(f"/hall-of-fame/{cycle.year}").text
    photo = client.get(f"/hall-of-fame/{cycle.year}/{row.slug}/photo")
    assert photo.status_code == 200 and photo.content == jpeg
