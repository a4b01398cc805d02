"""Checks of the profile and seed parameters, and their use in every chapter (issue 26)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mi_tutorial.config import PROFILES, check_profile, check_seeds_parameter

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(
    path
    for path in BOOK.glob("[0-9][0-9]_*.py")
    if re.search(r'# %% tags=\["parameters"\]\nPROFILE = ', path.read_text(encoding="utf-8"))
)


def _cells(path: Path) -> list[str]:
    """The cells of a jupytext 'percent' script, each starting with its ``# %%`` line."""
    return re.split(r"\n(?=# %%)", path.read_text(encoding="utf-8"))


def test_check_profile_names_the_value_and_the_choices():
    for profile in PROFILES:
        assert check_profile(profile) == profile
    with pytest.raises(ValueError) as err:
        check_profile("bogus")
    assert str(err.value) == "unknown profile 'bogus'. Choose one of: book, paper, smoke."
    with pytest.raises(ValueError, match=r"unknown profile 'papr'. Did you mean 'paper'\?"):
        check_profile("papr")
    with pytest.raises(ValueError, match="unknown profile None"):
        check_profile(None)


def test_check_seeds_parameter():
    assert check_seeds_parameter(None) is None
    assert check_seeds_parameter(3) == [0, 1, 2]
    assert check_seeds_parameter([4, 0]) == [4, 0]
    with pytest.raises(ValueError, match="duplicates"):
        check_seeds_parameter([1, 1])
    with pytest.raises(ValueError, match="seed must be < 4,294,967,296"):
        check_seeds_parameter([2**32])


def test_every_chapter_with_a_profile_checks_it_right_after_its_parameters():
    assert len(CHAPTERS) >= 9, CHAPTERS
    for path in CHAPTERS:
        cells = _cells(path)
        index = next(i for i, c in enumerate(cells) if c.startswith('# %% tags=["parameters"]'))
        assert "PROFILE = check_profile(PROFILE)" in cells[index + 1], path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_bogus_profile_stops_the_chapter_with_the_choices(path):
    """The parameters cell, papermill's injected one (``-p PROFILE bogus``), then the check."""
    cells = _cells(path)
    index = next(i for i, c in enumerate(cells) if c.startswith('# %% tags=["parameters"]'))
    namespace: dict = {}
    exec(cells[index], namespace)  # noqa: S102 - the chapter's own parameters cell
    exec('PROFILE = "bogus"', namespace)  # noqa: S102
    with pytest.raises(ValueError) as err:
        exec(cells[index + 1], namespace)  # noqa: S102
    assert str(err.value) == "unknown profile 'bogus'. Choose one of: book, paper, smoke."
    namespace["PROFILE"] = "smoke"  # and a valid profile passes
    exec(cells[index + 1], namespace)  # noqa: S102
    assert namespace["PROFILE"] == "smoke"
