"""The one NFC/fold (api/core/text.py): the Python fold and the database's f_unaccent() agree."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import moderation
from api.core.text import fold, nfc, search_text


def test_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "  Đường ngập  ")
    assert nfc(decomposed) == "Đường ngập" and nfc("   ") is None and nfc(None) is None


def test_one_fold() -> None:
    assert fold is moderation.fold
    assert search_text("Đường NGẬP nước", None) == "duong ngap nuoc"
    assert search_text("Ổ gà", "Phường Bến Thành") == "o ga phuong ben thanh"


@pytest.mark.parametrize("words", ["Đường ngập nước", "Ổ GÀ Phường Bến Thành", "Cây đổ, dây điện"])
async def test_fold_matches_the_database(db_conn: AsyncConnection, words: str) -> None:
    assert await db_conn.scalar(text("SELECT f_unaccent(:w)"), {"w": words}) == search_text(words)
