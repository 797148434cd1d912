"""Automatic screening of text from residents before it is shown to the public.

Personal data (phone numbers, e-mail addresses) and abuse hold a report back for a moderator
(`pending_review`); everything else is published at once. Matching ignores case and Vietnamese
diacritics, so "dit" catches "địt".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# Vietnamese mobile/landline numbers, with or without +84, spaces, dots or dashes between groups
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# A small list of unambiguous phrases: single accent-free syllables ("lon", "cac") are everyday words
# once folded ("lớn", "các"), so they are not here. This only decides what waits for a human.
_ABUSE = (
    "dit me",
    "dit con",
    "du ma",
    "dmm",
    "dcm",
    "vcl",
    "vkl",
    "cai lon",
    "con cac",
    "dia me",
    "cho chet",
    "oc cho",
    "fuck",
    "shit",
    "bitch",
    "asshole",
)
_ABUSE_RE = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in _ABUSE) + r")\b")


@dataclass(frozen=True, slots=True)
class Screening:
    visibility: str  # "public" | "pending_review"
    reasons: list[str] = field(default_factory=list)


def fold(text: str) -> str:
    """Lower-case, accent-free text ('Đường Ngập' → 'duong ngap')."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").lower()


def screen_text(*texts: str | None) -> Screening:
    joined = "\n".join(t for t in texts if t)
    reasons: list[str] = []
    if _PHONE.search(joined):
        reasons.append("phone_number")
    if _EMAIL.search(joined):
        reasons.append("email_address")
    if _ABUSE_RE.search(fold(joined)):
        reasons.append("abusive_language")
    return Screening("pending_review" if reasons else "public", reasons)


REDACTED = "[đã xoá]"


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """The text with phone numbers, e-mail addresses and the given people's names replaced by
    `REDACTED`. A name is matched as whole words in any case; one-word names are left alone, since
    Vietnamese given names are everyday words too ("An", "Hoa", "Bình")."""
    out = _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text))
    for name in names:
        words = name.split()
        if len(words) >= 2:
            pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
            out = re.sub(pattern, REDACTED, out, flags=re.IGNORECASE)
    return out
