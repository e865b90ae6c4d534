"""The award cycle's own pages in Chromium: an admin creates a cycle and sets when nominations close;
a peer nominates a colleague on a phone-sized screen; the nominee accepts, consents and submits an
entry; once the judging (run here through the services: judging has its own journey) has decided and
the embargo has lifted, the admin announces, and the public hall of fame shows the winner with a
verifiable award credential. Every page visited passes axe-core and has no sideways scroll at 390 px."""

from __future__ import annotations

import subprocess
import sys
import uuid

from playwright.sync_api import expect

from tests.conftest import ROOT

PASSWORD = "a-long-enough-password"

PEOPLE = """
import sys
from sqlmodel import Session
from api.accounts import service as accounts
from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.core.db import get_engine

tag = sys.argv[1]
with Session(get_engine()) as s:
    for who, name, roles in (("admin", "Awa Admin", {Role.admin}), ("peer", "Pia Peer", None),
                             ("nominee", "Nomsa Nominee", None)):
        accounts.create_user(s, UserCreate(email=f"{who}-{tag}@example.com", full_name=name, password=PASSWORD),
                             roles=roles, verified=True)
    s.commit()
""".replace("PASSWORD", repr(PASSWORD))

# The judges' rounds (judging's own pages and journey) stand in here as the service calls they end in.
JUDGED = """
import sys
import api.models
from datetime import date, time
from sqlmodel import Session
from api.awards import service, states
from api.awards.models import CycleState
from api.core.db import get_engine

with Session(get_engine()) as s:
    cycle = service.cycle_by_slug(s, sys.argv[1])
    while cycle.state != CycleState.deliberating:
        states.transition(s, cycle, states.next_state(cycle.state), None)
    [entry] = service.entries_for_judging(s, cycle)
    service.record_outcomes(s, cycle, [{"entry_id": entry.id, "kind": "winner",
                                        "citation": "Nomsa rebuilt service around the customer's outcome."}], None)
    service.set_milestone(s, cycle, "announcement", date(2026, 1, 10), time(12, 0), "Africa/Johannesburg")
    s.commit()
"""

# The link in the invitation email (the e2e server writes mail to its console).
LINK = """
import sys
import api.models
from sqlmodel import Session, select
from api.awards.models import Nominee
from api.core.db import get_engine

with Session(get_engine()) as s:
    print(s.exec(select(Nominee.public_id).where(Nominee.email_normalised == sys.argv[1])).one())
"""


def _python(live_server, code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], env=live_server["env"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_nominate_enter_announce_and_verify(new_page, live_server, award_year):
    tag = uuid.uuid4().hex[:8]
    _python(live_server, PEOPLE, tag)
    year = str(award_year)

    admin = new_page()
    _log_in(admin, f"admin-{tag}@example.com")
    admin.goto("/admin/awards")
    admin.get_by_label("Year").fill(year)
    admin.get_by_role("button", name="Create the cycle").click()
    expect(admin.get_by_role("heading", name=f"Change Architect of the Year {year}")).to_be_visible()
    form = admin.locator("form", has=admin.get_by_role("button", name="Save nominations close"))
    form.get_by_label("Date").fill(f"{int(year) - 1}-12-01")
    form.get_by_label("Time", exact=True).fill("18:00")
    form.get_by_label("Time zone").select_option("Africa/Johannesburg")
    form.get_by_role("button", name="Save nominations close").click()
    expect(admin.get_by_text("Nominations close: saved.")).to_be_visible()
    admin.get_by_role("button", name="Move to: open for nominations").click()
    expect(admin.get_by_text("is now open for nominations")).to_be_visible()
    slug = admin.url.rsplit("/", 1)[1]

    peer = new_page(390, 844)
    _log_in(peer, f"peer-{tag}@example.com")
    peer.goto(f"/awards/{slug}")
    expect(peer.get_by_text("Africa/Johannesburg")).to_be_visible()
    peer.get_by_role("link", name="Nominate someone").click()
    peer.get_by_label("Their full name").fill("Nomsa Nominee")
    peer.get_by_label("Their email address").fill(f"NOMINEE-{tag}@example.com")
    peer.get_by_label("Their organisation").fill("Ubuntu Utilities")
    peer.get_by_label("The transformation they delivered").fill("Nomsa took billing complaints down by half.")
    peer.get_by_role("button", name="Send the nomination").click()
    expect(peer.get_by_text("Nomsa Nominee is nominated")).to_be_visible()
    expect(peer.get_by_role("cell", name="Invited, not yet replied; your name is not shown to them")).to_be_visible()

    nominee = new_page(390, 844)
    _log_in(nominee, f"nominee-{tag}@example.com")
    nominee_link = _python(live_server, LINK, f"nominee-{tag}@example.com")
    nominee.goto(f"/awards/nominee/{nominee_link}")
    expect(nominee.get_by_text("A peer nominated you; they chose not to be named.")).to_be_visible()
    nominee.get_by_label("The judges may read and score my entry").check()
    nominee.get_by_label("If I win or am highly commended").check()
    nominee.get_by_role("button", name="Accept the nomination").click()
    nominee.get_by_label("Personal transformation").fill("I learnt to coach rather than tell.")
    nominee.get_by_label("Professional transformation").fill("ACXP, then mentoring twelve team leaders.")
    nominee.get_by_label("Business transformation").fill("Billing complaints halved in a year.")
    nominee.get_by_label("Referee 1: name").fill("Rita Referee")
    nominee.get_by_label("Referee 1: email").fill("rita@example.com")
    nominee.get_by_role("button", name="Submit my entry").click()
    expect(nominee.get_by_text("Your entry is submitted.")).to_be_visible()

    _python(live_server, JUDGED, slug)
    visitor = new_page(390, 844)
    visitor.goto(f"/hall-of-fame/{year}")
    expect(visitor.get_by_text("The hall of fame has no winners for")).to_be_visible()  # embargoed until announced

    admin.goto(f"/admin/awards/{slug}")
    admin.get_by_role("link", name="submitted").click()
    expect(admin.get_by_text("Billing complaints halved in a year.")).to_be_visible()
    admin.goto(f"/admin/awards/{slug}")
    admin.get_by_role("button", name="Announce the results").click()
    expect(admin.get_by_text("is announced: 1 entry in the hall of fame")).to_be_visible()

    visitor.goto("/hall-of-fame")
    expect(visitor.get_by_role("link", name=f"{year}: Nomsa Nominee")).to_be_visible()
    expect(visitor.get_by_text("Roland D. Naidoo")).to_be_visible()
    visitor.get_by_role("link", name=f"{year}: Nomsa Nominee").click()
    expect(visitor.get_by_text("Nomsa rebuilt service around the customer's outcome.")).to_be_visible()
    visitor.goto(f"/hall-of-fame/{year}")
    visitor.get_by_role("link", name=f"Change Architect of the Year {year}").click()
    expect(visitor.get_by_text("Nomsa Nominee").first).to_be_visible()
    expect(visitor.get_by_text(f"Change Architect of the Year {year}").first).to_be_visible()
    visitor.goto("/awards")
    admin.goto("/admin/hall-of-fame")
    expect(admin.get_by_role("cell", name="Nomsa Nominee", exact=True)).to_be_visible()
