"""The built site as a reader sees it: every page opened from disk in headless Chromium, offline.

Run after `make book` with `make browser-test` (pytest -m browser). Needs Debian's chromium
(`apt-get install chromium`; never a downloaded browser) and the `playwright` Python package.
Screenshots of every page land in `artifacts/screenshots/`. With MI_TUTORIAL_REQUIRE_BROWSER=1
(set by .ci/run) a missing site or browser fails instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from mi_tutorial.site_pdf import OFFLINE_BROWSER_ARGS

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "_build" / "html"
SHOTS = REPO / "artifacts" / "screenshots"
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$")


def _require(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("MI_TUTORIAL_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _pages() -> list[Path]:
    if not SITE.is_dir():
        return []
    skip = {"genindex.html", "search.html"}
    return sorted(
        p
        for p in SITE.rglob("*.html")
        if not {"_static", "_sources"} & set(p.parts) and p.name not in skip
    )


@pytest.fixture(scope="module")
def browser():
    _require((SITE / "index.html").is_file(), "site not built: run `make book` first")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    _require(chromium is not None, "Debian chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with tempfile.TemporaryDirectory() as profile, sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=OFFLINE_BROWSER_ARGS,
            timeout=60_000,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def _toc_pages() -> list[str]:
    from mi_tutorial.pipeline import toc_entries

    return [f"{entry}.html" for entry in toc_entries()]


@pytest.mark.parametrize("relpath", [str(p.relative_to(SITE)) for p in _pages()] or ["index.html"])
def test_page_renders_offline(browser, relpath):
    path = SITE / relpath
    page = browser.new_page()
    console_errors: list[str] = []
    external: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    def offline(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    page.route("**/*", offline)
    page.goto(path.as_uri(), wait_until="load", timeout=60_000)
    has_math = page.locator(".math").count() > 0
    if has_math:
        page.wait_for_selector("mjx-container", timeout=30_000)
        page.wait_for_timeout(500)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (relpath.replace("/", "__") + ".png")), full_page=True)

    body = page.locator("article").first.inner_text() if page.locator("article").count() else ""
    raw = RAW_TEX.findall(body)
    assert not raw, f"{relpath}: untypeset TeX delimiters {raw[:5]}"
    images = page.eval_on_selector_all(
        "article img", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])"
    )
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"{relpath}: images not loaded: {broken}"
    assert not console_errors, f"{relpath}: console errors: {console_errors}"

    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    missing = []
    for href in hrefs:
        parsed = urlparse(href)
        if parsed.scheme or href.startswith(("#", "mailto:")) or not parsed.path:
            continue
        target = (path.parent / unquote(parsed.path)).resolve()
        if not target.exists():
            missing.append(href)
    assert not missing, f"{relpath}: internal links to missing files: {missing}"
    if relpath == "index.html":
        nav = page.eval_on_selector_all(".bd-sidebar a[href]", "els => els.map(e => e.href)")
        nav_paths = {Path(unquote(urlparse(u).path)).resolve() for u in nav}
        for toc_page in _toc_pages()[1:]:
            assert (SITE / toc_page).resolve() in nav_paths, f"sidebar misses {toc_page}"
    page.close()
    assert not [u for u in external if "mathjax" in u.lower()], "MathJax was requested from the net"


def test_pdf_links_resolve_to_pdfs(browser):
    """`make pdf` linked the report's PDF from the report page and the book's from the front
    page; each link, as the browser resolves it, is a non-empty PDF file."""
    from mi_tutorial.pipeline import toc_entries
    from mi_tutorial.site_pdf import LINK_CLASS, report_entry

    for relpath in (f"{report_entry(toc_entries())}.html", "index.html"):
        page = browser.new_page()
        page.goto((SITE / relpath).as_uri(), wait_until="load", timeout=60_000)
        links = page.eval_on_selector_all(
            f"article p.{LINK_CLASS} a[href$='.pdf']", "els => els.map(e => e.href)"
        )
        page.close()
        _require(bool(links), f"{relpath} has no PDF link: run `make pdf` after `make book`")
        for link in links:
            target = Path(unquote(urlparse(link).path))
            assert target.is_file(), f"{relpath}: the PDF link {link} leads nowhere"
            head = target.read_bytes()[:5]
            assert head == b"%PDF-", f"{relpath}: {target.name} is not a PDF (starts {head!r})"
            assert target.stat().st_size > 10_000, f"{relpath}: {target.name} is nearly empty"
