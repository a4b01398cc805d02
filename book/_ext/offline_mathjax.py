"""Sphinx extension: serve MathJax from the built site so math typesets without a network.

MathJax 3 comes from the PyPI package ``django-static-mathjax`` (a dependency of the ``book``
extra). After an HTML build its ``es5`` folder is copied to ``<outdir>/_static/mathjax``; the
``mathjax_path`` in ``_config.yml`` points there. Copying into the *output* folder (not the
source ``_static``) keeps jupyter-book from injecting MathJax's many scripts into every page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError


def mathjax_source() -> Path:
    try:
        import mathjax
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ExtensionError(
            "offline MathJax needs the package django-static-mathjax: pip install -e '.[book]'"
        ) from err
    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (source / "tex-chtml.js").is_file():
        raise ExtensionError(f"MathJax files not found under {source}")
    return source


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    if (target / "tex-chtml.js").is_file():
        return
    shutil.copytree(mathjax_source(), target, ignore=shutil.ignore_patterns("*.map"))


def setup(app: Sphinx) -> dict:
    mathjax_source()  # fail early, before a long build, if MathJax is missing
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
