"""PDFs of the built site (``make pdf``): the reproducibility report, and the whole book.

Printed offline from ``_build/html`` (after ``make book``) by Debian's Chromium, driven by
Playwright as the browser test drives it: every request other than ``file:`` is refused, MathJax
(served by the site itself) must have typeset every formula and every image must have loaded
before a page is printed, or the step fails. The PDFs are written to ``_build/html/_static/pdf/``:

* ``reproducibility-report.pdf`` — the report chapter as its page prints;
* ``book.pdf`` — every page of ``_toc.yml`` in reading order: their article bodies are put into one
  page (with each image's address made absolute, and the untypeset TeX of the built HTML), which
  MathJax typesets once and Chromium prints, with a bookmark outline from the headings.

Then a download link is put under the title of the report page (and of the front page, for the
whole book), so a site whose PDFs were never printed has no dead link. The string handling
(:func:`article_html`, :func:`absolute_sources`, :func:`add_download_link`) needs no browser.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from .pipeline import BUILD_DIR, REPO, toc_entries

SITE = BUILD_DIR / "html"
#: Where the PDFs are written, relative to the site's root.
PDF_FOLDER = Path("_static") / "pdf"
#: The ``_toc.yml`` entry of the report is the one whose name contains this.
REPORT_KEYWORD = "reproducibility_report"
#: The class of the inserted download paragraph (a second run replaces it, never duplicates it).
LINK_CLASS = "pdf-download"
_LINK_PARAGRAPH = re.compile(rf'\s*<p class="{LINK_CLASS}">.*?</p>', re.DOTALL)
_ARTICLE = re.compile(r"<article\b[^>]*>(.*?)</article>", re.DOTALL)
_SOURCE = re.compile(r'(\ssrc=")([^"]*)(")')
#: A page that loads MathJax names its script; the whole book is typeset in such a page's frame.
MATHJAX_SCRIPT = "tex-chtml.js"
#: Chromium flags for an offline, headless browser with no background traffic (the PDFs and the
#: browser test use the same).
OFFLINE_BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class PdfError(RuntimeError):
    """The site cannot be printed (not built, no browser, or a page not ready to print)."""


@dataclass(frozen=True)
class PdfTarget:
    """One PDF: the site pages (relative to the site's root) it prints, where it goes, and the
    page that links to it with ``link_text``."""

    pages: tuple[str, ...]
    output: str
    link_page: str
    link_text: str


# ------------------------------------------------------------------------------ string handling
def report_entry(entries: Iterable[str]) -> str:
    """The ``_toc.yml`` entry of the reproducibility report (found by name, not by number)."""
    found = [entry for entry in entries if REPORT_KEYWORD in Path(entry).name]
    if len(found) != 1:
        raise PdfError(f"expected one _toc.yml entry named like *{REPORT_KEYWORD}*, got {found}")
    return found[0]


def targets(entries: list[str], whole_book: bool = True) -> list[PdfTarget]:
    """The PDFs to print from the ``_toc.yml`` entries (root first): the report, and the book."""
    report = f"{report_entry(entries)}.html"
    chosen = [
        PdfTarget(
            (report,),
            str(PDF_FOLDER / "reproducibility-report.pdf"),
            report,
            "Download this report as PDF",
        )
    ]
    if whole_book:
        pages = tuple(f"{entry}.html" for entry in entries)
        chosen.append(
            PdfTarget(
                pages, str(PDF_FOLDER / "book.pdf"), pages[0], "Download the whole book as PDF"
            )
        )
    return chosen


def relative_href(from_page: str, to_file: str) -> str:
    """The link from the site page ``from_page`` to the site file ``to_file`` (both relative to
    the site's root, with ``/``), e.g. ``("book/x.html", "_static/a.pdf") -> "../_static/a.pdf"``."""
    depth = len(Path(from_page).parts) - 1
    return "../" * depth + Path(to_file).as_posix()


def add_download_link(page_html: str, href: str, text: str) -> str:
    """``page_html`` with a download paragraph right after the first ``</h1>`` of its
    ``<article>`` (the theme's print-only header before it has a title too); an earlier paragraph
    of this function is removed first. Raises :class:`PdfError` without such a title."""
    page_html = _LINK_PARAGRAPH.sub("", page_html)
    article = page_html.find("<article")
    position = page_html.find("</h1>", article) if article >= 0 else -1
    if position < 0:
        raise PdfError("the page has no <h1> in an <article> to put the download link under")
    position += len("</h1>")
    link = (
        f'\n<p class="{LINK_CLASS}"><a href="{html.escape(href, quote=True)}" download>'
        f"{html.escape(text)}</a></p>"
    )
    return page_html[:position] + link + page_html[position:]


def article_html(page_html: str) -> str:
    """The inner HTML of the page's ``<article>`` (the page's text, without the site's frame),
    with any download paragraph of :func:`add_download_link` left out."""
    match = _ARTICLE.search(page_html)
    if match is None:
        raise PdfError("the page has no <article> element")
    return _LINK_PARAGRAPH.sub("", match.group(1))


def absolute_sources(fragment: str, page: Path) -> str:
    """``fragment`` (HTML from the file ``page``) with every relative ``src`` (images, scripts)
    made an absolute ``file:`` address, so it still loads when moved into another page. Addresses
    with a scheme (``data:``) are left alone; links (``href``) too, printed as they resolve."""

    def absolute(match: re.Match) -> str:
        address = match.group(2)
        parsed = urlparse(address)
        if parsed.scheme or address.startswith("#") or not parsed.path:
            return match.group(0)
        target = (page.parent / unquote(parsed.path)).resolve().as_uri()
        suffix = f"#{parsed.fragment}" if parsed.fragment else ""
        return f"{match.group(1)}{target}{suffix}{match.group(3)}"

    return _SOURCE.sub(absolute, fragment)


def math_page(site: Path, pages: Iterable[str]) -> Path:
    """The first of ``pages`` that loads MathJax (Sphinx adds it only to pages with math): the
    frame of the whole book, whose scratch copy sits beside it so its relative CSS and scripts
    resolve."""
    for page in pages:
        if MATHJAX_SCRIPT in (site / page).read_text(encoding="utf-8"):
            return site / page
    raise PdfError(f"no page of {list(pages)} loads MathJax ({MATHJAX_SCRIPT})")


def combined_page(shell_html: str, articles: list[str]) -> str:
    """``shell_html`` (a built page) with its article replaced by ``articles``, each after the
    first starting on a new printed page."""
    match = _ARTICLE.search(shell_html)
    if match is None:
        raise PdfError("the page has no <article> element")
    new_page = ' style="break-before: page"'
    body = "\n".join(
        f'<section class="print-page"{new_page if i else ""}>{article}</section>'
        for i, article in enumerate(articles)
    )
    return shell_html[: match.start(1)] + body + shell_html[match.end(1) :]


# ------------------------------------------------------------------------------ printing
#: Print styles added to every printed page: code wraps instead of being cut at the margin, wide
#: tables (the ledger has nine columns) take a smaller font, no PDF links to itself, and a title
#: is never split across pages (the theme keeps admonitions whole and titles with what follows,
#: so a long admonition after a title otherwise splits the title).
PRINT_CSS = f"""@media print {{
  p.{LINK_CLASS} {{ display: none !important; }}
  .bd-main .bd-content h1 {{ break-inside: avoid; }}
  .bd-main .bd-content div.admonition {{ break-inside: auto; }}
  .bd-main .bd-content pre {{ white-space: pre-wrap !important; }}
  .bd-main .bd-content table {{ font-size: 0.78em; }}
}}"""
#: Added for the whole book: the theme prints the frame page's title and contents first and hides
#: each article's first ``<h1>``; in one page of many articles, every chapter keeps its title.
BOOK_PRINT_CSS = """@media print {
  #jb-print-docs-body { display: none !important; }
  .bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
}"""
#: Resolves once MathJax has typeset the page (at once on a page without MathJax), the fonts are
#: loaded and every image has loaded or failed; returns what is still not ready.
_READY_SCRIPT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  }
  await document.fonts.ready;
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
  const untypeset = [...document.querySelectorAll('article .math')]
      .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60));
  const broken = [...document.querySelectorAll('article img')]
      .filter(img => img.naturalWidth === 0).map(img => img.getAttribute('src'));
  return {untypeset, broken};
}"""


def _print(context, url: str, output: Path, timeout_ms: int, css: str = PRINT_CSS) -> None:
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:", "blob:"))
            else route.abort()
        ),
    )
    page.goto(url, wait_until="load", timeout=timeout_ms)
    page.emulate_media(media="print")
    page.add_style_tag(content=css)
    problems = page.evaluate(_READY_SCRIPT)
    if problems["untypeset"] or problems["broken"]:
        raise PdfError(
            f"{url} is not ready to print: untypeset math {problems['untypeset'][:3]}, "
            f"images not loaded {problems['broken'][:3]}"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    page.pdf(
        path=str(output),
        format="A4",
        print_background=True,
        margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
        outline=True,
    )
    page.close()


def build_pdfs(
    site: Path = SITE, whole_book: bool = True, timeout_ms: int = 120_000
) -> dict[str, int]:
    """Print the PDFs of :func:`targets` from the built ``site`` and link them; return each
    PDF's size in bytes, by its path relative to ``site``."""
    if not (site / "index.html").is_file():
        raise PdfError(f"no built site under {site}: run `make book` first")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise PdfError("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    entries = toc_entries(REPO / "_toc.yml")
    chosen = targets(entries, whole_book)
    sizes: dict[str, int] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=OFFLINE_BROWSER_ARGS
        )
        context = browser.new_context()
        for target in chosen:
            output = site / target.output
            if len(target.pages) == 1:
                _print(context, (site / target.pages[0]).as_uri(), output, timeout_ms)
            else:
                articles = [
                    absolute_sources(article_html((site / p).read_text(encoding="utf-8")), site / p)
                    for p in target.pages
                ]
                shell_path = math_page(site, target.pages)
                scratch = shell_path.with_name(".print-book.html")
                scratch.write_text(
                    combined_page(shell_path.read_text(encoding="utf-8"), articles),
                    encoding="utf-8",
                )
                try:
                    _print(
                        context, scratch.as_uri(), output, timeout_ms, PRINT_CSS + BOOK_PRINT_CSS
                    )
                finally:
                    scratch.unlink(missing_ok=True)
            sizes[target.output] = output.stat().st_size
        browser.close()
    for target in chosen:
        link_page = site / target.link_page
        link_page.write_text(
            add_download_link(
                link_page.read_text(encoding="utf-8"),
                relative_href(target.link_page, target.output),
                target.link_text,
            ),
            encoding="utf-8",
        )
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mi_tutorial.site_pdf", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--report-only", action="store_true", help="skip the whole-book PDF")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        sizes = build_pdfs(whole_book=not args.report_only)
    except PdfError as err:
        print(f"[pdf] ERROR: {err}", file=sys.stderr)
        return 1
    for path, size in sizes.items():
        print(f"[pdf] {SITE / path}: {size / 1e6:.1f} MB")
    print(f"[pdf] {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
