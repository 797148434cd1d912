"""Pre-2025 addresses ("Phường 12, Quận 3, TP.HCM") → the 2025 ward or commune they now belong to.

Residents still write the ward and district of before the July 2025 reform; officers work with the
2025 units. The `vietnamadminunits` package (PyPI) holds the official old → new table: an old ward
either went whole into one new ward (`high` confidence) or was split between several, when the new
ward that took most of it is named (`medium`) unless the case's own ward (from its GPS position) is
one of the parts (then that one, `high`). Checked against the shared 2025 boundaries: every old
ward of Hồ Chí Minh City maps to a code of that set, and the old ward's centre lies in (or within
500 m of) the ward it maps to for 271 of 273 (tests/geo/test_addresses.py).

Only the ward, district and province are handed to the package: given a street as well, it would
geocode the address over the network to choose among the parts of a split ward.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Confidence = Literal["high", "medium"]

# a word that names a pre-2025 unit above the ward: without one the text is not an old address
# (a city inside a province, "Thành phố Thủ Đức", was one too; the parser then insists on a district)
_OLD_WORDS = re.compile(
    r"\b(quận|quan|q\.|huyện|huyen|h\.|thị xã|thi xa|tx\.|thành phố|thanh pho|tp\b|tp\.)", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Mapped:
    """The 2025 unit an old address names: its code (the areas' codes are the official ones), its
    full name, how sure the mapping is, and the old ward and district as they were read."""

    code: str
    name: str
    confidence: Confidence
    old_ward: str
    old_district: str


@lru_cache(maxsize=1)
def _package() -> Any:
    # imported on first use: it loads its tables (a second or so) and is only needed by staff views
    import vietnamadminunits
    from vietnamadminunits.converter import converter_2025

    return vietnamadminunits, converter_2025


@lru_cache(maxsize=4096)
def to_2025(address: str | None, ward_hint: str | None = None) -> Mapped | None:
    """The 2025 ward an old-style address names, or None (no old ward and district in it, or not
    known). `ward_hint`: the code of the case's own ward, which picks the part of a split ward."""
    if not address or not _OLD_WORDS.search(address):
        return None
    vau, conv = _package()
    try:
        old = vau.parse_address(address, mode=vau.ParseMode.LEGACY, keep_street=True, level=3)
    except Exception:  # the parser raises bare exceptions on text it cannot read
        return None
    if not (old.ward_key and old.district_key and old.province_key):
        return None
    try:
        new = vau.convert_address(f"{old.ward}, {old.district}, {old.province}")
    except Exception:
        return None
    if not new.ward_code:
        return None
    key = f"{old.province_key}_{old.district_key}_{old.ward_key}"
    province = next((k for k, v in conv.DICT_PROVINCE.items() if old.province_key in v), None)
    parts = conv.DICT_PROVINCE_WARD_DIVIDED.get(province, {}).get(key, []) if province else []
    code, name, confidence = str(new.ward_code), str(new.ward), "high"
    if parts:
        confidence = "medium"
        for part in parts:
            unit = vau.parse_address(
                f"{part['newWardKey']}, {province}", mode=vau.ParseMode.FROM_2025, level=2
            )
            if ward_hint is not None and str(unit.ward_code) == ward_hint:
                code, name, confidence = ward_hint, str(unit.ward), "high"
    return Mapped(code, name, confidence, str(old.ward), str(old.district))  # type: ignore[arg-type]
