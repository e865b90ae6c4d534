"""Anonymous public pages are rendered once per content version and revalidated with ETag /
Last-Modified; a logged-in visitor's page is never the cached one; a content sync shows at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import event

from api.catalog.sync import sync

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def tree(tmp_path) -> Path:
    dest = tmp_path / "content"
    shutil.copytree(CONTENT, dest)
    return dest


def _queries(engine, call):
    count = [0]

    def on_execute(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        result = call()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return result, count[0]


def _view_queries(engine, call):
    """Statements the view itself ran: the middleware's timed re-read of the pages' version (its BEGIN and
    SELECT, every CADRE_PAGE_CACHE_RECHECK_SECONDS) is left out, since on a loaded machine two requests can
    straddle it (test_another_process_s_change_is_seen_when_the_version_is_read_again tests that read)."""
    statements: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        result = call()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    kept = []
    for statement in statements:
        if "page_version" in statement and statement.lstrip().upper().startswith("SELECT"):
            if kept and kept[-1].strip().upper().startswith("BEGIN"):
                kept.pop()
            continue
        kept.append(statement)
    return result, len(kept)


@pytest.mark.parametrize("path", ["/", "/programmes", "/programmes/acxs", "/hall-of-fame", "/api/v1/programmes"])
def test_an_anonymous_page_is_rendered_once_and_revalidated(client, engine, path):
    first = client.get(path)
    assert first.status_code == 200 and first.headers["etag"] and first.headers["last-modified"]
    assert first.headers["cache-control"] == "no-cache" and "Cookie" in first.headers["vary"]
    again, queries = _view_queries(engine, lambda: client.get(path))
    assert queries == 0  # served as rendered, with no database work
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-security-policy"] and again.headers["x-request-id"] != first.headers["x-request-id"]
    assert again.headers["content-type"] == first.headers["content-type"]
    unchanged = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == first.headers["etag"]
    since = client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    other = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content


def test_the_logged_in_nav_is_never_the_cached_page(client, make_user, login):
    anonymous = client.get("/programmes").text
    assert "Log in" in anonymous and "Log out" not in anonymous
    user = make_user("nav@example.com", name="Nav Person")
    client.cookies.set("cadre_session", login(user.email))
    mine = client.get("/programmes")
    assert "Log out" in mine.text and "My learning" in mine.text and "etag" not in mine.headers
    client.cookies.clear()
    assert "Log in" in client.get("/programmes").text


def test_an_unknown_programme_and_a_query_string_are_not_kept(client, engine):
    assert client.get("/programmes/no-such-thing").status_code == 404
    missing, queries = _view_queries(engine, lambda: client.get("/programmes/no-such-thing"))
    assert missing.status_code == 404 and queries > 0
    client.get("/programmes?x=1")
    _, queries = _view_queries(engine, lambda: client.get("/programmes?x=1"))
    assert queries > 0


def test_a_content_sync_shows_on_the_public_pages_at_once(client, db, tree):
    before = client.get("/programmes/acxs")
    assert "Renamed for the cache test" not in before.text
    yaml = tree / "programmes" / "acxs" / "programme.yaml"
    text = yaml.read_text()
    title = next(ln for ln in text.splitlines() if ln.startswith("title:"))
    yaml.write_text(text.replace(title, "title: Renamed for the cache test", 1))
    assert sync(db, tree).changed
    db.commit()
    after = client.get("/programmes/acxs")
    assert "Renamed for the cache test" in after.text and after.headers["etag"] != before.headers["etag"]
    stale = client.get("/programmes/acxs", headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200
    assert "Renamed for the cache test" in client.get("/api/v1/programmes").text


def test_another_process_s_change_is_seen_when_the_version_is_read_again(engine, monkeypatch):
    """The version lives in the database: a process that did not make the change (here: the row bumped
    behind its back, as `cadre content sync` in a shell does) renders again once it re-reads it."""
    from sqlalchemy import text

    from api.core.config import get_settings
    from tests.realapp import real_client

    monkeypatch.setenv("CADRE_PAGE_CACHE_RECHECK_SECONDS", "0")
    get_settings.cache_clear()
    try:
        with real_client() as client:
            client.get("/hall-of-fame")
            _, cached = _queries(engine, lambda: client.get("/hall-of-fame"))
            with engine.begin() as conn:
                bumped = conn.execute(text("UPDATE page_version SET version = version + 1 WHERE name = 'public'"))
                if bumped.rowcount == 0:
                    conn.execute(text("INSERT INTO page_version (name, version, changed_at) "
                                      "VALUES ('public', 1, CURRENT_TIMESTAMP)"))
            page, rendered = _queries(engine, lambda: client.get("/hall-of-fame"))
    finally:
        get_settings.cache_clear()
    assert cached <= 2  # only the version was read (its BEGIN and SELECT)
    assert page.status_code == 200 and rendered >= cached + 2  # a new version: read, then rendered again


def test_a_page_kept_for_one_host_header_is_not_sent_for_another(client, engine):
    assert client.get("/hall-of-fame", headers={"Host": "evil.example"}).status_code == 200
    ours, queries = _view_queries(engine, lambda: client.get("/hall-of-fame"))
    assert ours.status_code == 200 and queries > 0  # rendered for this host, not the other one's page
    _, queries = _view_queries(engine, lambda: client.get("/hall-of-fame"))
    assert queries == 0
