"""`make pdf`'s logic that needs no browser: which pages, which files, and the HTML it edits."""

from __future__ import annotations

import pytest

from mi_tutorial import site_pdf
from mi_tutorial.site_pdf import (
    PdfError,
    absolute_sources,
    add_download_link,
    article_html,
    combined_page,
    math_page,
    relative_href,
    report_entry,
    targets,
)

ENTRIES = ["index", "book/01_mi", "book/09_reproducibility_report", "book/references"]
PAGE = (
    '<html><head><script src="../_static/x.js"></script></head><body>'
    '<div class="onlyprint"><h1>Report</h1></div>'
    '<article class="bd-article"><h1>Report<a class="headerlink" href="#r">#</a></h1>'
    '<p>See <a href="01_mi.html#s">chapter 1</a>.</p>'
    '<img src="../_images/fig.png" alt=""><img src="data:image/png;base64,AA" alt="">'
    "</article></body></html>"
)


def test_the_report_is_found_by_name_and_the_book_takes_every_page_in_order():
    assert report_entry(ENTRIES) == "book/09_reproducibility_report"
    report, book = targets(ENTRIES)
    assert report.pages == ("book/09_reproducibility_report.html",)
    assert report.output == "_static/pdf/reproducibility-report.pdf"
    assert report.link_page == "book/09_reproducibility_report.html"
    assert book.pages == tuple(f"{e}.html" for e in ENTRIES)
    assert book.link_page == "index.html" and book.output == "_static/pdf/book.pdf"
    assert len(targets(ENTRIES, whole_book=False)) == 1
    with pytest.raises(PdfError, match="reproducibility_report"):
        report_entry(["index", "book/01_mi"])


def test_relative_links_climb_out_of_the_page_folder():
    assert relative_href("book/09_r.html", "_static/pdf/a.pdf") == "../_static/pdf/a.pdf"
    assert relative_href("index.html", "_static/pdf/a.pdf") == "_static/pdf/a.pdf"


def test_the_download_link_goes_under_the_title_once():
    once = add_download_link(PAGE, "../_static/pdf/a.pdf", "Download <PDF>")
    twice = add_download_link(once, "../_static/pdf/b.pdf", "Download <PDF>")
    assert twice.count('class="pdf-download"') == 1
    assert "b.pdf" in twice and "a.pdf" not in twice
    # under the article's title, not the theme's print-only one before the article
    assert twice.index("<article") < twice.index("pdf-download") < twice.index("<p>See")
    assert twice.index('<a class="headerlink"') < twice.index("pdf-download")
    assert "Download &lt;PDF&gt;" in twice
    with pytest.raises(PdfError, match="h1"):
        add_download_link("<h1>T</h1><article><p>no title</p></article>", "a.pdf", "x")


def test_articles_move_into_one_page_with_their_images(tmp_path):
    page = tmp_path / "book" / "09_r.html"
    linked = add_download_link(PAGE, "../_static/pdf/a.pdf", "Download")
    article = article_html(linked)
    assert article.startswith("<h1>") and "pdf-download" not in article
    moved = absolute_sources(article, page)
    image = (tmp_path / "_images" / "fig.png").as_uri()
    assert f'src="{image}"' in moved
    assert 'src="data:image/png;base64,AA"' in moved  # a data: address is left alone
    assert 'href="01_mi.html#s"' in moved  # links are not images
    combined = combined_page(PAGE, [moved, "<h1>Two</h1>"])
    assert combined.count('class="print-page"') == 2
    assert combined.count("break-before: page") == 1  # no blank first page
    assert combined.startswith('<html><head><script src="../_static/x.js">')
    assert combined.index("Report") < combined.index("Two") < combined.index("</article>")
    with pytest.raises(PdfError, match="article"):
        article_html("<p>no article</p>")


def test_the_book_is_typeset_in_a_page_that_loads_mathjax(tmp_path):
    (tmp_path / "a.html").write_text("<p>no math</p>")
    (tmp_path / "b.html").write_text(f'<script src="_static/mathjax/{site_pdf.MATHJAX_SCRIPT}">')
    assert math_page(tmp_path, ["a.html", "b.html"]) == tmp_path / "b.html"
    with pytest.raises(PdfError, match="MathJax"):
        math_page(tmp_path, ["a.html"])


def test_an_unbuilt_site_is_refused(tmp_path):
    with pytest.raises(PdfError, match="make book"):
        site_pdf.build_pdfs(tmp_path)
