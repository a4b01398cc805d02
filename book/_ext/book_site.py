"""Sphinx extension with the two fixes our site needs to work offline and without console errors.

1. **Offline MathJax.**
MathJax 3 comes from the PyPI package ``django-static-mathjax`` (a dependency of the ``book``
extra). After an HTML build its ``es5`` folder is copied to ``<outdir>/_static/mathjax``; the
``mathjax_path`` in ``_config.yml`` points there. Copying into the *output* folder (not the
source ``_static``) keeps jupyter-book from injecting MathJax's many scripts into every page.

2. **No duplicated inline scripts.** Extensions that register *inline* scripts after the builder
   is initialised (sphinx-thebe and sphinx-togglebutton do so on ``env-before-read-docs``) end up
   in the page twice with Sphinx 7.4: once through the registry (which stores the missing file name
   as ``''``) and once through the builder (which keeps ``None``), so Sphinx's own de-duplication
   sees two different scripts. The second ``const THEBE_JS_URL = ...`` is then a JavaScript
   ``SyntaxError`` on every page. We drop duplicates that differ only in ``None`` vs ``''``.
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


def drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        attributes = tuple(
            sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())
        )
        key = (str(getattr(script, "filename", script) or ""), attributes)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict:
    mathjax_source()  # fail early, before a long build, if MathJax is missing
    app.connect("build-finished", copy_mathjax)
    # run last, after the themes and extensions have added their per-page scripts
    app.connect("html-page-context", drop_duplicate_scripts, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
