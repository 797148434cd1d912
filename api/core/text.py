"""Text from people: NFC normalisation, the accent-free fold that search matches on, and what the
public may read of it.

The fold and the masking of personal data live in the moderation capability (screening needs them
and may not import `api`); this is the one place the API takes them from.
"""

from __future__ import annotations

import unicodedata

from moderation import find_personal, fold, mask


def nfc(value: str | None) -> str | None:
    """NFC-normalised and stripped; None for nothing left."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value).strip()
    return value or None


def public(value: str | None) -> str | None:
    """The text as anyone but staff reads it: personal data (phones, e-mails, ID numbers, plates,
    bank accounts) replaced by labels, the rest as written."""
    if not value:
        return value
    return mask(value).text


def _without_personal(value: str) -> str:
    out, at = [], 0
    for s in find_personal(value):
        out += [value[at : s.start], " "]
        at = s.end
    return "".join(out) + value[at:]


def search_text(*parts: str | None) -> str:
    """What text search matches: accent-free, lower-case, like f_unaccent() in the database; without
    the personal data, so that searching a phone number finds nobody's report."""
    return fold(" ".join(_without_personal(p) for p in parts if p).strip())


__all__ = ["fold", "nfc", "public", "search_text"]
