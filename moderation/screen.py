"""Automatic screening of text from residents before it is shown to the public.

Personal data (phone numbers, e-mail addresses) and abuse hold a report back for a moderator
(`pending_review`); everything else is published at once. Matching ignores case and Vietnamese
diacritics, so "dit" catches "địt".
"""

from __future__ import annotations

import re
import unicodedata
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
