"""One place on the ladder for each programme, shown the same on home, catalogue, programme pages and
the dashboard, with what comes next."""

from __future__ import annotations

import re
import shutil

import pytest

from api.catalog.content_files import ContentError, load
from tests.conftest import ROOT


def _place(html: str, code: str) -> str:
    """The ladder words on the card or page of `code`."""
    m = re.search(r'<p class="(?:pcard-top|eyebrow)">([^<]+)</p>\s*<h[13][^>]*>(?:(?!</h[13]>).)*?<span class="code">'
                  + re.escape(code) + "</span>", html, re.S)
    assert m, f"no ladder place shown for {code}"
    return m.group(1).strip()


def test_every_page_states_the_same_place_for_each_programme(client):
    home, catalogue = client.get("/").text, client.get("/programmes").text
    acxs = client.get("/programmes/acxs").text
    assert _place(catalogue, "ACXS") == _place(home, "ACXS") == _place(acxs, "ACXS") == \
        "Level 1 of 4 on the ACX ladder: a first step"
    assert _place(catalogue, "COIM") == _place(client.get("/programmes/coim").text, "COIM") == \
        "Level 2 of 2 on the OI ladder"
    # On the home page the ACX ladder puts ACXP and ACXS side by side on level 1, not one above the other.
    overview = home.split('id="overview-ACX"')[1].split("</section>")[0]
    assert re.search(r"Level 1: </span>\s*<span><a[^>]*>Accredited Customer Experience Professional</a> or "
                     r"<a[^>]*>ACX Specialist</a>", overview)


def test_a_level_two_programme_requires_the_level_below(client):
    coim = client.get("/programmes/coim").text
    assert "<dt>Requires</dt><dd><a href=\"/programmes/oiv\">Outside-In Vision (OIV)</a>" in coim
    assert "Leads to</dt><dd><a href=\"/programmes/coim\">" in client.get("/programmes/oiv").text


def test_acx_specialist_leads_on_to_acxp(client):
    page = client.get("/programmes/acxs").text
    assert ('<dt>Leads to</dt><dd><a href="/programmes/acxp">Accredited Customer Experience Professional (ACXP)</a>'
            in page)


def test_after_completing_acxs_the_dashboard_suggests_the_next_step(client, db, make_user, login):
    from api.catalog import service as catalog_service
    from api.learning import service as enrolment_service
    from api.learning.models import EnrolmentSource, EnrolmentStatus

    user = make_user()
    acxs = catalog_service.get_by_slug(db, "acxs")
    e = enrolment_service.enrol(db, user_id=user.id, programme_id=acxs.id, source=EnrolmentSource.admin_grant)
    e.status = EnrolmentStatus.completed.value
    db.add(e)
    db.commit()
    login(user.email)
    page = client.get("/dashboard").text
    nxt = page.split('id="next-h"')[1].split("</section>")[0]
    assert 'href="/programmes/acxp"' in nxt and "open to you now" in nxt


def test_the_content_check_refuses_a_level_that_disagrees_with_its_prerequisites(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    path = tmp_path / "content" / "programmes" / "coim" / "programme.yaml"
    path.write_text(path.read_text().replace("prerequisites:\n  - OIV", "prerequisites: []"))
    with pytest.raises(ContentError) as exc:
        load(tmp_path / "content")
    assert any("level 2 needs a prerequisite on level 1" in p for p in exc.value.problems)
