"""The API reference at /docs renders the OpenAPI 3.1 document in Chromium, with nothing from a CDN
(the browser resolves no outside names: see CHROMIUM_FLAGS)."""

from __future__ import annotations

from playwright.sync_api import expect


def test_docs_render_the_api_and_list_its_operations(page):
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto("/docs")
    # An operation of the API, listed by Swagger UI (4.x said "Unable to render this definition").
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/programmes").first
    expect(operation).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    expect(page.locator(".version-stamp")).to_contain_text("OAS 3.1")
    operation.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert failed == []
