"""The built site in a real browser: Debian's Chromium driven by Playwright, served from localhost
with every other request aborted and counted (none allowed); search in Chinese; axe-core; and
screenshots of the home, quarter and provider pages in build/screenshots/ for review."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sitebuild

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = sitebuild.ROOT / "build" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PAGE_TYPES = {
    "home": "index.html",
    "quarter": "disclosures/xiajiang/2026Q2/index.html",
    "provider": "disclosures/xiajiang/providers/P360823-01.html",
    "region": "disclosures/huining/index.html",
    "method": "disclosures/huining/method.html",
    "services": "disclosures/xiajiang/services.html",
    "corrections": "disclosures/corrections.html",
    "downloads": "disclosures/downloads.html",
    "revised": "disclosures/escaping/2026Q2/index.html",
    "accessibility": "accessibility.html",
}


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    site = sitebuild.sample_site()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site.built)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Offline:
    """A page whose requests may only go to localhost or the file system; others are counted."""

    def __init__(self, browser, **context) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
        self.external: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def _route(self, route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("file", "data", "blob", "about") or url.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def offline(browser):
    tab = Offline(browser)
    yield tab
    tab.close()
    assert tab.external == [], f"requests to other hosts: {tab.external}"
    assert tab.errors == [], f"script errors: {tab.errors}"
    assert tab.dialogs == [], f"a dialog opened: {tab.dialogs}"


def test_every_page_type_loads_offline_and_draws_its_charts(offline, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in PAGE_TYPES.items():
        offline.page.goto(server + path)
        offline.page.wait_for_load_state("networkidle")
        charts = offline.page.locator(".chart-canvas")
        for i in range(charts.count()):
            charts.nth(i).locator("svg.main-svg").first.wait_for(timeout=15_000)
        if name in ("home", "quarter", "provider", "revised"):
            offline.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert (SCREENSHOTS / "quarter.png").stat().st_size > 10_000


def search(page, server: str, query: str) -> list[str]:
    page.goto(server + "index.html")
    page.wait_for_load_state("networkidle")
    page.locator("input.md-search__input").click()
    box = page.locator("input.md-search__input")
    box.fill(query)
    box.press("End")  # Material searches on key events; typed Chinese arrives as text input
    page.locator(".md-search-result__item").first.wait_for(timeout=15_000)
    return page.locator(".md-search-result__item a").evaluate_all("links => links.map(a => a.href)")


def test_search_finds_a_provider_by_name_and_pages_by_grade(offline, server):
    found = search(offline.page, server, "峡江县仁爱社会工作服务中心")
    assert any("xiajiang/providers/P360823-01.html" in url for url in found), found
    found = search(offline.page, server, "良好")
    assert any(urlparse(url).path.endswith("/2026Q2/index.html") for url in found), found
    assert any("/providers/" in url for url in found), found
    found = search(offline.page, server, "助农助急")
    assert any("services.html" in url for url in found), found


def test_a_provider_called_script_shows_as_text(offline, server):
    offline.page.goto(server + "disclosures/escaping/2026Q2/index.html")
    offline.page.wait_for_load_state("networkidle")
    assert offline.page.get_by_text(sitebuild.EVIL_NAME).count() >= 3
    offline.page.goto(server + "disclosures/escaping/providers/P360823-01.html")
    offline.page.wait_for_load_state("networkidle")
    assert sitebuild.EVIL_NAME in offline.page.title()
    found = search(offline.page, server, "强调")
    assert any("/escaping/" in url for url in found), found
    shown = offline.page.locator(".md-search-result").inner_text().replace("\u200b", "")
    assert sitebuild.EVIL_NAME in shown  # as text, the zero-width word breaks aside
    # the offline fixture asserts that no dialog opened and no script error happened


def test_axe_finds_no_serious_or_critical_violation(offline, server):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}
    for name, path in PAGE_TYPES.items():
        offline.page.goto(server + path)
        offline.page.wait_for_load_state("networkidle")
        results = axe.run(offline.page)
        bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            problems[name] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in bad]
    assert problems == {}


def test_the_site_is_complete_without_javascript(browser, server):
    tab = Offline(browser, java_script_enabled=False)
    try:
        tab.page.goto(server + PAGE_TYPES["quarter"])
        table = tab.page.locator("table.data").first
        assert "综合得分" in table.inner_text()
        assert tab.page.locator("table.data tbody tr").count() >= 10
    finally:
        tab.close()
    assert tab.external == []


def test_the_site_works_from_file_urls(browser):
    site = sitebuild.sample_site()
    tab = Offline(browser)
    try:
        tab.page.goto((site.built / PAGE_TYPES["quarter"]).as_uri())
        tab.page.locator(".chart-canvas svg.main-svg").first.wait_for(timeout=15_000)
        tab.page.get_by_role("link", name="数据下载").first.wait_for()
    finally:
        tab.close()
    assert tab.external == [] and tab.errors == []
