"""Between a check and its outcome: which findings are known (baseline) and which are new.

A pure function of the findings and the item's baseline counts, so it applies the same way to
findings that come fresh from a check or from the result cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_guardrails.api import Finding


@dataclass(frozen=True)
class Split:
    #: findings that count: not in the baseline (or beyond its count), errors, no path
    new: tuple[Finding, ...]
    #: findings the baseline accepts
    known: tuple[Finding, ...]
    #: baselined findings that are gone (the baseline is stale by this many)
    stale: int


def baselinable(finding: Finding) -> bool:
    """A finding the baseline can hold: it has a path and a fingerprint, and is not an input
    that could not be read."""
    return bool(finding.path and finding.fingerprint and not finding.error)


def split(findings: Sequence[Finding], known: Mapping[str, int] | None, *,
          accept_all: bool = False) -> Split:
    """Match ``findings`` against ``known`` (fingerprint -> count for one item): each count
    accepts that many findings with the fingerprint, in order; the rest are new. ``known=None``
    (no baseline) makes every finding new; ``accept_all`` (while writing the baseline) makes
    every baselinable finding known."""
    if accept_all:
        return Split(tuple(f for f in findings if not baselinable(f)),
                     tuple(f for f in findings if baselinable(f)), 0)
    if not known:
        return Split(tuple(findings), (), 0)
    remaining = dict(known)
    new: list[Finding] = []
    old: list[Finding] = []
    for f in findings:
        fp = f.fingerprint or ""
        if baselinable(f) and remaining.get(fp, 0) > 0:
            remaining[fp] -= 1
            old.append(f)
        else:
            new.append(f)
    return Split(tuple(new), tuple(old), sum(remaining.values()))
