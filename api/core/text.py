"""Text from people: NFC normalisation, and the accent-free fold that search matches on.

The fold itself lives in the moderation capability (screening needs it and may not import `api`);
this is the one place the API takes it from.
"""

from __future__ import annotations

import unicodedata

from moderation import fold


def nfc(value: str | None) -> str | None:
    """NFC-normalised and stripped; None for nothing left."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value).strip()
    return value or None


def search_text(*parts: str | None) -> str:
    """What text search matches: accent-free, lower-case, like f_unaccent() in the database."""
    return fold(" ".join(p for p in parts if p).strip())


__all__ = ["fold", "nfc", "search_text"]
