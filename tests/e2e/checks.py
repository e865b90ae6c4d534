"""What every page a browser journey visits must pass: no sideways scroll on a 390 px phone, and 0
axe-core violations (at the journey's width and at 390 px).

Call `check_page(page)` after a navigation to check the page where the journey is; the `page` and
`new_page` fixtures (conftest.py) also check, when the test ends, every page the journey visited and
did not check itself (they open it again, at the same address, in the same browser context).

axe-core comes from npm (tests/e2e/package.json, pinned by its lockfile, installed by `make
install-test`); contexts are made with bypass_csp=True so it can be injected into any page.
"""

from __future__ import annotations

import json
from pathlib import Path

PHONE = {"width": 390, "height": 844}
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# Third-party pages served as they come (Swagger UI's own markup is not ours to fix).
NOT_AXE_CHECKED = ("/docs",)


class PageProblems(AssertionError):
    pass


def _axe_source() -> str:
    if not AXE.exists():
        raise PageProblems(f"axe-core is not installed ({AXE}): run `make install-test` (needs npm)")
    return AXE.read_text(encoding="utf-8")


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


def _axe(page) -> list[str]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=_axe_source())
    if not page.evaluate("() => typeof window.axe === 'object'"):  # the page's own scripts are off
        page.evaluate("source => { (0, eval)(source); }", _axe_source())
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                           ".map(v => ({id: v.id, help: v.help,"
                           " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
    return [f"axe {v['id']}: {v['help']} at {json.dumps(v['nodes'])}" for v in result]


def _sideways(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def check_page(page) -> None:
    """Fail, naming every problem, when the page scrolls sideways at 390 px or axe-core finds a
    violation (at the current width and at 390 px). The page's size is put back afterwards."""
    path = _path(page.url)
    checked = getattr(page, "_cadre_checked", None)
    if checked is not None:
        checked.add(page.url)
    problems: list[str] = []
    run_axe = not path.split("?")[0].startswith(NOT_AXE_CHECKED)
    if run_axe:
        problems += [f"at {page.viewport_size['width']} px: {p}" for p in _axe(page)]
    size = page.viewport_size
    try:
        page.set_viewport_size(PHONE)
        over = _sideways(page)
        if over > 0:
            wide = page.evaluate("""() => { const w = document.documentElement.clientWidth + 1;
                const over = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w);
                return over.filter(e => ![...e.children].some(c => over.includes(c))).slice(0, 3)
                  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                       + ' "' + (e.textContent || '').trim().slice(0, 40) + '"'); }""")
            problems.append(f"scrolls sideways by {over} px at 390 px (too wide: {', '.join(wide)})")
            Path("test-results").mkdir(exist_ok=True)
            page.screenshot(path=f"test-results/sideways{path.replace('/', '_').replace('?', '_')}.png", full_page=True)
        if run_axe and size and size["width"] != PHONE["width"]:
            problems += [f"at 390 px: {p}" for p in _axe(page)]
    finally:
        if size:
            page.set_viewport_size(size)
    if problems:
        raise PageProblems(f"{path}:\n  " + "\n  ".join(problems))


def track(page) -> None:
    """Remember every address the page's main frame loads, for `check_visited`."""
    page._cadre_checked = set()
    page._cadre_visited = []

    def seen(frame) -> None:
        if frame == page.main_frame and frame.url.startswith("http"):
            page._cadre_visited.append(frame.url)

    page.on("framenavigated", seen)


def check_visited(page) -> None:
    """Check, in a fresh tab of the same context, every page `page` visited that was not checked."""
    leftover = [u for u in dict.fromkeys(getattr(page, "_cadre_visited", []))
                if u not in page._cadre_checked and not _path(u).startswith(("/api/", "/logout"))]
    from playwright.sync_api import Error

    problems = []
    for url in leftover:
        tab = page.context.new_page()
        try:
            response = tab.goto(url)
            if response is not None and response.headers.get("content-type", "").startswith("text/html"):
                check_page(tab)
        except PageProblems as exc:
            problems.append(str(exc))
        except Error:
            pass  # not a page (a download, say)
        finally:
            tab.close()
    if problems:
        raise PageProblems("pages visited by the journey:\n" + "\n".join(problems))
