"""Screening residents' text before the public sees it.

Personal data never holds text back: it is masked on the way out (`moderation.mask`). Abusive
language does: the text waits for a moderator (`pending_review`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from moderation import abuse
from moderation.text import fold

# Why a text waits for a moderator: screening found abuse, or a person (an officer) asked for review.
ABUSIVE = "abusive_language"
FLAGGED = "flagged"


@dataclass(frozen=True, slots=True)
class Screening:
    visibility: str  # "public" | "pending_review"
    reasons: list[str] = field(default_factory=list)  # why it waits: abusive_language
    terms: list[str] = field(default_factory=list)  # what was found, for the moderator


def screen_text(*texts: str | None) -> Screening:
    terms: list[str] = []
    for t in texts:
        if t:
            terms.extend(h.term for h in abuse.find(t))
    if not terms:
        return Screening("public")
    return Screening("pending_review", [ABUSIVE], sorted(set(terms)))


__all__ = ["ABUSIVE", "FLAGGED", "Screening", "fold", "screen_text"]
