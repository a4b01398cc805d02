"""How a profile's configs differ from the paper profile's, in words (derived, never typed)."""

from __future__ import annotations

from ..config import RunConfig

#: The fields that tell the runs of one experiment apart, whatever the profile's sizes.
VARIANT_FIELDS = (
    "kind",
    "task",
    "encoder",
    "critic",
    "estimator",
    "target",
    "iid",
    "init",
    "classifier_lr",
    "encoder_lr",
)


def format_value(value) -> str:
    """A config value as a chapter prints it: ``1e-05``, ``[300, 300]``, ``{layers=5}``."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{" + ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def flat_fields(fields: dict) -> dict:
    """Config fields with dict values (``*_kwargs``) spread into ``name.key`` entries, so a
    deviation names the one setting that differs."""
    out: dict = {}
    for name, value in fields.items():
        if isinstance(value, dict) and value:
            out |= {f"{name}.{key}": inner for key, inner in value.items()}
        else:
            out[name] = value
    return out


def variant(config: RunConfig) -> tuple:
    """What distinguishes the runs *within* an experiment (independent of the profile's sizes)."""
    found = tuple((name, getattr(config, name)) for name in VARIANT_FIELDS if hasattr(config, name))
    encoder_kwargs = dict(getattr(config, "encoder_kwargs", ()))
    if "shift_only" in encoder_kwargs:  # E2's coupling is a setting, not a size
        found += (("shift_only", encoder_kwargs["shift_only"]),)
    return found


#: At most this many "not run" variants are listed one by one (B1's book profile leaves out
#: hundreds); the rest are counted.
MAX_LISTED_MISSING = 12


def missing_variants(paper: list[RunConfig], ours: list[RunConfig]) -> list[str]:
    """ "not run: ..." for each variant of the paper's configs that ``ours`` leaves out."""
    missing = {variant(c) for c in paper} - {variant(c) for c in ours}
    out = []
    for each in sorted(missing, key=str):
        shown = [(k, v) for k, v in each[1:] if (k, v) != ("init", "glorot")]  # the default
        out.append("not run: " + ", ".join(f"{k}={format_value(v)}" for k, v in shown))
    if len(out) > MAX_LISTED_MISSING:
        rest = len(out) - MAX_LISTED_MISSING
        out = [*out[:MAX_LISTED_MISSING], f"not run: {rest} more variant(s) of the paper profile"]
    return out


def changed_fields(paper: list[RunConfig], ours: list[RunConfig]) -> list[str]:
    """ "name: ours (paper: theirs)" for each field in which a config of ``ours`` differs from the
    paper's config of the same variant (``eval_batches`` in words)."""
    by_variant = {variant(c): c for c in paper}
    diffs: dict[str, tuple[set, set]] = {}
    for config in ours:
        reference = by_variant.get(variant(config))
        if reference is None:
            continue
        mine, theirs = flat_fields(config.to_dict()), flat_fields(reference.to_dict())
        for name in mine:
            if name in ("profile",) or mine[name] == theirs.get(name):
                continue
            seen = diffs.setdefault(name, (set(), set()))
            seen[0].add(format_value(theirs.get(name)))
            seen[1].add(format_value(mine[name]))
    out = []
    for name, (theirs, mine) in diffs.items():
        if name == "eval_batches":  # None = the whole test set
            theirs = {_batches(v) for v in theirs}
            mine = {_batches(v) for v in mine}
        out.append(f"{name}: {' / '.join(sorted(mine))} (paper: {' / '.join(sorted(theirs))})")
    return out


def _batches(value: str) -> str:
    return "the whole test set" if value == "None" else f"{value} batches"


def config_deviations(
    paper: list[RunConfig], ours: list[RunConfig], paper_seeds: int, our_seeds: int
) -> list[str]:
    """How ``ours`` (configs and seed count) deviates from ``paper``, as sentences; [] if not."""
    out = (
        []
        if our_seeds == paper_seeds
        else [f"{our_seeds} seed(s) per run instead of {paper_seeds}"]
    )
    return out + missing_variants(paper, ours) + changed_fields(paper, ours)
