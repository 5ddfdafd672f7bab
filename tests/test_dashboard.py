"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright): the page loads with no
console errors, lists the environments, and its charts change after a batch is scored; a screenshot is saved
(the README shows one, docs/images/dashboard.png). `/v1/stats` is checked against the schema the OpenAPI document publishes."""

from __future__ import annotations

import os
import shutil

import httpx
import pytest

from rewardgym.server.stats import STATS_SCHEMA
from tests.conftest import TOY_FAMILY, start_server, stop_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("dashboard"), "--families", TOY_FAMILY, "--processes", "1")
    yield running
    stop_server(running)


def test_stats_route_is_in_the_openapi_document_with_its_schema(server):
    document = httpx.get(server.url + "/openapi.json").json()
    published = document["paths"]["/v1/stats"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert published["required"] == STATS_SCHEMA["required"]
    stats = httpx.get(server.url + "/v1/stats").json()
    assert set(STATS_SCHEMA["required"]) <= set(stats)
    assert stats["catalogue"]["toy_echo"]["replicas"] == 1 and stats["workers"][0]["family"] == "toy"


def test_the_dashboard_shows_environments_and_its_charts_follow_scoring(server, tmp_path):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is required under CI=true (scripts/test.sh installs it)")
        pytest.skip("no chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                             env={**os.environ, "HOME": str(tmp_path)})
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url + "/dashboard")
        page.wait_for_selector('tr[data-env="toy_echo"]')
        row = page.locator('tr[data-env="toy_echo"]')
        assert row.locator("td").nth(1).inner_text() == "toy" and row.locator("td").nth(3).inner_text() == "ready"
        before = row.inner_html()
        assert row.locator(".mix div").count() == 0  # nothing scored yet

        batch = {"items": [{"task": {"answer": "a"}, "completion": "a" if n % 3 else "b"} for n in range(30)]
                 + [{"task": {"answer": "a"}, "completion": "!raise", "id": "broken"}]}
        assert httpx.post(server.url + "/score/toy_echo", json=batch, timeout=60).status_code == 200
        page.wait_for_function("() => document.querySelectorAll('tr[data-env=\"toy_echo\"] .mix div').length >= 2",
                               timeout=15_000)
        assert row.inner_html() != before
        assert float(row.locator(".items-per-s").inner_text()) > 0
        parts = row.locator(".mix div")
        assert {parts.nth(i).get_attribute("data-status") for i in range(parts.count())} == {"ok", "error"}
        page.wait_for_selector("#failures tr")
        assert "broken" in page.locator("#failures").inner_text()
        assert "RuntimeError: boom" in page.locator("#failures").inner_text()
        screenshot = tmp_path / "dashboard.png"  # docs/images/dashboard.png is a copy of one
        page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 10_000
        browser.close()
    assert errors == []
