"""Browser journeys: a real Cadre server (its own SQLite database) driven by Debian's Chromium
through Playwright. Skipped with a reason when Chromium is missing, unless CADRE_E2E_REQUIRED=1
(as in CI), where a missing browser fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port
from tests.e2e.checks import check_page, check_visited, track

__all__ = ["check_page", "shot"]

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  # No name but the test server's resolves, so anything fetched from a CDN would fail to load.
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]
ARTIFACTS = ROOT / "test-results"


def _chromium() -> str | None:
    return os.environ.get("CADRE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


_AWARD_YEARS = iter(range(2101, 2200))


@pytest.fixture
def award_year() -> int:
    """A cycle year no other journey on the shared server has used (drawn at random, two journeys
    could pick the same year and the second would be refused "already has a cycle")."""
    return next(_AWARD_YEARS)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Cadre served by `cadre serve` in a subprocess, migrated and loaded like `make run` does."""
    yield from serve_cadre(tmp_path_factory.mktemp("live"))


def serve_cadre(work: Path, port: int | None = None, extra_env: dict[str, str] | None = None):
    """Start a Cadre server in `work` (yields {"url", "env", "work"}), stopped when the generator closes."""
    port = port or free_port()
    # The real catalogue plus a one-lesson free programme that a journey can finish in seconds.
    content = work / "content"
    shutil.copytree(ROOT / "content", content)
    shutil.copytree(Path(__file__).parent / "content-extra" / "programmes", content / "programmes", dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    env.update({
        "CADRE_ENV": "development",
        "CADRE_DATABASE_URL": f"sqlite:///{work / 'cadre.db'}",
        "CADRE_VAR_DIR": str(work / "var"),
        "CADRE_KEYS_DIR": str(work / "keys"),
        "CADRE_CONTENT_DIR": str(content),
        "CADRE_PORT": str(port),
        "CADRE_BASE_URL": f"http://127.0.0.1:{port}",
        "CADRE_EMAIL_BACKEND": "console",
        "CADRE_SECRET_KEY": "e2e-secret-key-long-enough-0123456789abcdef",
        **(extra_env or {}),
    })
    cadre = [sys.executable, "-m", "api.cli"]
    for args in (["db", "upgrade"], ["content", "sync"], ["keys", "create", "--if-missing"]):
        subprocess.run([*cadre, *args], env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([*cadre, "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.terminate()
        raise RuntimeError(f"server did not start; see {work / 'server.log'}")
    yield {"url": base, "env": env, "work": work}
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser_instance():
    exe = _chromium()
    if not exe:
        if os.environ.get("CADRE_E2E_REQUIRED"):
            pytest.fail("Chromium is required (CADRE_E2E_REQUIRED=1) but was not found; apt-get install chromium")
        pytest.skip("Chromium not installed (apt-get install chromium) - browser journeys skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser_instance, live_server, request):
    """`new_page()`: a tab in a browser context of its own (another person), 1100 px wide unless told.
    When the test ends, every page each one visited is checked (checks.check_visited) if the journey
    did not check it itself with `check_page(page)`."""
    opened = []

    def make(width: int = 1100, height: int = 900, **options):
        context = browser_instance.new_context(base_url=live_server["url"], viewport={"width": width, "height": height},
                                               bypass_csp=True, **options)
        pg = context.new_page()
        pg.set_default_timeout(10_000)
        track(pg)
        pg._cadre_js = options.get("java_script_enabled", True)  # axe-core needs the page's timers
        opened.append(pg)
        return pg

    yield make
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for n, pg in enumerate(opened):
            if not pg.is_closed():
                name = f"{request.node.name}{'-' + str(n) if n else ''}.png"
                pg.screenshot(path=str(ARTIFACTS / name), full_page=True)
        if not hasattr(request.node, "rep_call") or request.node.rep_call.passed:
            for pg in opened:
                if not pg.is_closed() and pg._cadre_js:
                    check_visited(pg)
    finally:
        for pg in opened:
            pg.context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
