"""The award pages as people use them: nominating through the form (errors beside the field), my
nominations, the nominee's page (only theirs), the admin pages (only admins), and who gets 403/404."""

from __future__ import annotations

from api.accounts.models import Role
from api.awards.models import CycleState


def test_public_cycle_page_shows_milestones_in_their_zone(db, client, make_cycle):
    cycle = make_cycle()
    page = client.get(f"/awards/{cycle.slug}").text
    assert cycle.title in page and "Nominations close" in page
    assert "1 March 2099, 17:00 (Europe/London)" in page
    assert "Nominate someone" in page
    draft = make_cycle(CycleState.draft)
    assert client.get(f"/awards/{draft.slug}").status_code == 404


def test_nominating_through_the_page(db, client, login, browser, make_cycle, make_user, mailbox):
    cycle = make_cycle()
    peer = make_user(name="Paula Peer")
    login(peer.email)
    url = f"/awards/{cycle.slug}/nominate"
    r = browser.post_form(url, name="Sipho Dube", email="not-an-email", statement="He changed everything.")
    assert r.status_code == 422 and "Enter the email address for the nominee like name@example.com" in r.text
    assert 'id="f-email-error"' in r.text and 'value="Sipho Dube"' in r.text  # beside the field, input kept
    # every empty field at once, each beside its field, in the form's order
    r = browser.post_form(url, name=" ", email="", statement="", organisation="Vodaworld")
    assert r.status_code == 422
    from tests.core.test_form_messages import beside, summary_links

    assert summary_links(r.text) == ["name", "email", "statement"]
    assert "Enter the nominee's name" in beside(r.text, "name")
    assert "Enter the email address for the nominee" in beside(r.text, "email")
    assert "Enter the statement" in beside(r.text, "statement")
    assert 'value="Vodaworld"' in r.text
    r = browser.post_form(url, name="Sipho Dube", email="sipho@example.org", statement="He changed everything.",
                          organisation="Vodaworld")
    assert r.status_code == 303 and r.headers["location"] == "/awards/nominations"
    mine = client.get("/awards/nominations").text
    assert "Sipho Dube" in mine and "your name is not shown to them" in mine
    assert any("You have been nominated" in s for s in mailbox.subjects("sipho@example.org"))
    # Nominating oneself where the cycle does not allow it is refused in words.
    r = browser.post_form(url, name="Paula Peer", email=peer.email, statement="Me.")
    assert r.status_code == 403 and "does not accept self-nominations" in r.text


def test_nominating_needs_an_account_and_an_open_cycle(db, client, login, browser, make_cycle, make_user):
    cycle = make_cycle(CycleState.nominations_closed)
    assert client.get(f"/awards/{cycle.slug}/nominate", follow_redirects=False).status_code in (303, 401)
    login(make_user().email)
    assert "Nominations for" in client.get(f"/awards/{cycle.slug}/nominate").text
    r = browser.post_form(f"/awards/{cycle.slug}/nominate", name="A B", email="ab@example.org", statement="x")
    assert r.status_code == 409 and "are closed" in r.text


def test_the_nominee_page_is_only_the_nominees(db, client, login, browser, make_cycle, make_user, nominate):
    cycle = make_cycle()
    nominee_user = make_user("nia@example.org", name="Nia Nominee")
    nominee, _, _ = nominate(cycle, make_user(name="Secret Sam"), email="nia@example.org", name="Nia Nominee")
    url = f"/awards/nominee/{nominee.public_id}"
    login(make_user().email)
    assert client.get(url).status_code == 404  # a stranger holding the link learns nothing
    login(nominee_user.email)
    page = client.get(url).text
    assert "A peer nominated you; they chose not to be named." in page and "Secret Sam" not in page
    r = browser.post_form(url, f"{url}/respond", answer="accept")
    assert r.status_code == 422 and "agree that the judges may read" in r.text
    r = browser.post_form(url, f"{url}/respond", answer="accept", consent_judging="yes")
    assert r.status_code == 303
    r = browser.post_form(url, f"{url}/entry", action="submit", personal="Grew.", professional="", business="x",
                          referee_name=["Rae"], referee_email=["rae@example.org"], referee_relationship=["Boss"])
    assert r.status_code == 422 and "Enter the evidence of professional transformation" in r.text
    r = browser.post_form(url, f"{url}/entry", action="submit", personal="Grew.", professional="Qualified.",
                          business="Halved complaints.", referee_name=["Rae"], referee_email=["rae@example.org"],
                          referee_relationship=["Boss"])
    assert r.status_code == 303
    page = client.get(url).text
    assert "Your entry (submitted" in page and "Halved complaints." in page
    db.refresh(nominee)
    assert nominee.status == "entered" and nominee.consent_judging_at and nominee.consent_public_at is None


def test_entry_files_are_checked_by_content(db, client, login, browser, make_cycle, make_user, nominate):
    cycle = make_cycle()
    user = make_user("fay@example.org")
    nominee, _, _ = nominate(cycle, make_user(), email=user.email)
    login(user.email)
    url = f"/awards/nominee/{nominee.public_id}"
    browser.post_form(url, f"{url}/respond", answer="accept", consent_judging="yes")
    from tests.conftest import csrf_from

    token = csrf_from(client.get(url).text)
    r = client.post(f"{url}/files", data={"csrf_token": token},
                    files={"file": ("evidence.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "named as a PDF but its content is not a PDF" in client.get(url).text
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    r = client.post(f"{url}/files", data={"csrf_token": token},
                    files={"file": ("../../etc/results.pdf", pdf, "application/pdf")}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(url).text
    assert "results.pdf" in page and "../" not in page
    link = page.split(f'href="{url}/files/')[1].split('"')[0]
    assert client.get(f"{url}/files/{link}").content == pdf
    login(make_user().email)
    assert client.get(f"{url}/files/{link}").status_code == 404


def test_admin_pages_are_for_admins(db, client, login, browser, make_cycle, make_user, nominate):
    cycle = make_cycle()
    nominate(cycle, make_user(), email="x1@example.org", name="Xena One")
    login(make_user(roles={Role.coach}).email)
    for path in ("/admin/awards", f"/admin/awards/{cycle.slug}", "/admin/hall-of-fame"):
        assert client.get(path).status_code == 403
    login(make_cycle.admin.email)
    page = client.get(f"/admin/awards/{cycle.slug}").text
    assert "Xena One" in page and "Move to: closed for nominations" in page
    r = browser.post_form("/admin/awards", year=str(cycle.year))
    assert r.status_code == 409 and f"already has a {cycle.year} cycle" in r.text


def test_admin_creates_a_cycle_sets_a_milestone_and_moves_it_on(db, client, login, browser, make_user):
    admin = make_user(roles={Role.admin})
    login(admin.email)
    r = browser.post_form("/admin/awards", year="2088", accreditations="ACXP, NOPE")
    assert r.status_code == 422 and "No programme has the code NOPE" in r.text
    r = browser.post_form("/admin/awards", year="2088", accreditations="ACXP")
    assert r.status_code == 303
    url = r.headers["location"]
    r = browser.post_form(url, action="milestone", kind="nominations_close", local_date="2088-03-28",
                          local_time="01:30", time_zone="Europe/London")
    assert r.status_code == 422 and "does not exist in Europe/London" in r.text
    r = browser.post_form(url, action="milestone", kind="nominations_close", local_date="2088-03-20",
                          local_time="18:00", time_zone="Africa/Johannesburg")
    assert r.status_code == 303
    page = client.get(url).text
    version = page.split('name="version" value="')[1].split('"')[0]
    r = browser.post_form(url, action="advance", version=version)
    assert r.status_code == 303
    # The same button pressed again from the stale page: nothing moves twice.
    token = client.get(url).text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post(url, data={"csrf_token": token, "action": "advance", "version": version})
    assert r.status_code == 409 and "Someone else changed this cycle" in r.text
    public = client.get(url.replace("/admin", "")).text
    assert "Open for nominations" in public and "20 March 2088, 18:00 (Africa/Johannesburg)" in public
    assert "current ACXP accreditation" in public


def test_admin_enters_a_past_winner(db, client, login, browser, make_user):
    login(make_user(roles={Role.admin}).email)
    r = browser.post_form("/admin/hall-of-fame", year="2017", name="Someone", citation="x")
    assert r.status_code == 422 and "first awarded in 2018" in r.text
    r = browser.post_form("/admin/hall-of-fame", year="2020", name="Roland D. Naidoo", citation="again")
    assert r.status_code == 409 and "already in the hall of fame for 2020" in r.text
    r = browser.post_form("/admin/hall-of-fame", year="2019", name="Ada Example", organisation="Example Org",
                          country="Kenya", citation="Ada rebuilt the contact centre outside-in.")
    assert r.status_code == 303
    page = client.get("/hall-of-fame/2019").text
    assert "Ada Example" in page and "Example Org, Kenya" in page


def test_the_move_on_button_does_not_decide_or_announce(db, client, login, browser, make_cycle):
    cycle = make_cycle(CycleState.deliberating)
    login(make_cycle.admin.email)
    url = f"/admin/awards/{cycle.slug}"
    page = client.get(url).text
    assert "It ends when the judges sign off" in page and "Move to:" not in page
    r = browser.post_form(url, action="advance", version=str(cycle.version))
    assert r.status_code == 409 and "judges sign off" in r.text
    db.refresh(cycle)
    assert cycle.state == CycleState.deliberating


def test_the_nominee_declines_then_changes_their_mind_and_sets_listing(db, client, login, browser, make_cycle,
                                                                        make_user, nominate):
    cycle = make_cycle()
    user = make_user("dee@example.org", name="Dee Cline")
    nominee, _, _ = nominate(cycle, make_user(name="Olu Open"), email=user.email, reveal_to_nominee=True)
    login(user.email)
    url = f"/awards/nominee/{nominee.public_id}"
    assert "Olu Open nominated you." in client.get(url).text
    r = browser.post_form(url, f"{url}/respond", answer="decline")
    assert r.status_code == 303
    assert "You declined: changed your mind?" in client.get(url).text
    browser.post_form(url, f"{url}/respond", answer="accept", consent_judging="yes", consent_public="yes")
    assert "You have agreed to be listed publicly" in client.get(url).text
    browser.post_form(url, f"{url}/consent")
    db.refresh(nominee)
    assert nominee.consent_public_at is None and nominee.consent_judging_at is not None
    assert "You have not agreed to be listed publicly" in client.get(url).text
