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

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-results"


def _chromium() -> str | None:
    return os.environ.get("CADRE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


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
def page(browser_instance, live_server, request):
    context = browser_instance.new_context(base_url=live_server["url"], viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
