"""Small argument checks shared by the whole package.

Every error names the bad value and says how to fix it, e.g.
``unknown critic 'bilnear'; did you mean 'bilinear'? Choose one of: bilinear, concat, ...``.
"""

from __future__ import annotations

import argparse
import difflib
import numbers
from collections.abc import Iterable


def choose(value: str, options: Iterable[str], kind: str) -> str:
    """Return ``value`` if it is one of ``options``, else raise a ``ValueError`` with suggestions."""
    options = sorted(options)
    if isinstance(value, str) and value in options:
        return value
    close = difflib.get_close_matches(str(value), options, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown {kind} {value!r}.{hint} Choose one of: {', '.join(options)}.")


def check_int(
    value: object, name: str, minimum: int | None = None, below: int | None = None
) -> int:
    """Check that ``value`` is an integer (not a bool or float), at least ``minimum`` and less
    than ``below``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}).")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    if below is not None and value >= below:
        raise ValueError(f"{name} must be < {below:,}, got {value}.")
    return int(value)


def check_float(value: object, name: str, minimum: float | None = None) -> float:
    """Check that ``value`` is a finite real number, at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return value


#: Seeds seed numpy's and torch's generators, which take 32-bit seeds: 0 <= seed < 2**32.
SEED_LIMIT = 2**32
#: The largest count of seeds ``n`` (seeds ``0..n-1``): far beyond any sweep (the paper averages
#: 20 runs; every seed is a training run), and small enough to list without exhausting memory.
MAX_SEED_COUNT = 10_000


def check_seeds(seeds: object) -> list[int]:
    """Accept an int ``n`` (meaning seeds ``0..n-1``) or an iterable of distinct integers in
    ``[0, 2**32)``."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        count = check_int(seeds, "number of seeds", minimum=1)
        if count > MAX_SEED_COUNT:
            raise ValueError(
                f"number of seeds must be at most {MAX_SEED_COUNT:,}, got {count}; to run given "
                "seeds, list them (e.g. [0, 4, 7])."
            )
        return list(range(count))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be an integer count or a list of integers, got {seeds!r}.")
    out = [check_int(s, "seed", minimum=0, below=SEED_LIMIT) for s in seeds]
    if not out:
        raise ValueError("seeds is empty; pass at least one seed, e.g. [0].")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds contain duplicates: {out}.")
    return out


def positive_int_argument(value: str) -> int:
    """An ``argparse`` type: ``value`` as an integer >= 1, or a usage error saying what it got."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value!r}")
    return number
