"""Pre-2025 addresses mapped onto the 2025 wards, checked against the shared 2025 boundaries."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import unicodedata

import pytest
from shapely.geometry import Point, shape
from shapely.prepared import prep

from geo.addresses import to_2025
from tests.conftest import shared_file


def _same(a: str, b: str) -> bool:
    """Names equal but for the tone mark's place (Hòa / Hoà) and the unit word (Phường …)."""

    def norm(s: str) -> str:
        s = unicodedata.normalize("NFD", s.lower())
        return "".join(c for c in s if not unicodedata.combining(c) or c in "\u0302\u0306\u031b")

    return norm(a).endswith(norm(b))


def test_examples() -> None:
    m = to_2025("Phường 12, Quận 3, TP.HCM")
    assert m is not None and (m.code, m.name, m.confidence) == ("27142", "Phường Nhiêu Lộc", "high")
    assert (m.old_ward, m.old_district) == ("Phường 12", "Quận 3")
    for written in ("12 Nguyễn Thị Minh Khai, P.12, Q.3", "phuong 12 quan 3 tp hcm", "Phường 12, Quận 3"):
        assert (to_2025(written) or m).code == "27142", written
    # split between new wards: the part that took most of it, unless the case's own ward is a part
    split = "Số 5 hẻm 3, phường Bình Hưng Hòa A, quận Bình Tân, TPHCM"
    most = to_2025(split)
    assert most is not None and most.confidence == "medium"
    # not old addresses (a 2025 one, a street alone, nothing): nothing to say
    assert to_2025("Phường Nhiêu Lộc, TP.HCM") is None
    assert to_2025("Hẻm 12 Lê Lợi") is None and to_2025("") is None and to_2025(None) is None


def test_the_ward_hint_picks_the_part() -> None:
    from geo.addresses import _package

    vau, conv = _package()
    key = "thanhphohochiminh_quanbinhtan_phuongbinhhunghoaa"
    parts = conv.DICT_PROVINCE_WARD_DIVIDED["thanhphohochiminh"][key]
    codes = [
        str(
            vau.parse_address(
                f"{p['newWardKey']}, thanhphohochiminh", mode=vau.ParseMode.FROM_2025, level=2
            ).ward_code
        )
        for p in parts
    ]
    assert len(codes) >= 2
    split = "phường Bình Hưng Hòa A, quận Bình Tân, TPHCM"
    for code in codes:
        m = to_2025(split, code)
        assert m is not None and (m.code, m.confidence) == (code, "high")


def test_every_old_hcmc_ward_maps_into_the_2025_boundaries() -> None:
    """All 273 pre-2025 wards of Hồ Chí Minh City (the package's own list of them, with their
    centres) map to a code of the shared 2025 set with its name; the old ward's centre lies in the
    ward it maps to, or within 500 m of it (a centre on a new boundary), for all but the split ones."""
    import vietnamadminunits

    with gzip.open(shared_file("hcmc_wards_2025_full.geojson.gz"), "rt", encoding="utf-8") as f:
        features = json.load(f)["features"]
    ours = {f["properties"]["code"]: (f["properties"]["name"], shape(f["geometry"])) for f in features}
    prepared = {code: prep(g) for code, (_, g) in ours.items()}
    db = os.path.join(os.path.dirname(vietnamadminunits.__file__), "data", "dataset.db")
    with sqlite3.connect(db) as conn:
        old = conn.execute(
            "SELECT ward, district, province, wardLat, wardLon FROM admin_units_legacy "
            "WHERE provinceCode = '79' AND ward IS NOT NULL"
        ).fetchall()
    assert len(old) == 273
    far = []
    for ward, district, province, lat, lon in old:
        m = to_2025(f"{ward}, {district}, {province}")
        assert m is not None, (ward, district)
        assert m.code in ours, (ward, district, m.code)
        assert _same(m.name, ours[m.code][0]), (m.name, ours[m.code][0])
        centre = Point(lon, lat)
        if not prepared[m.code].contains(centre) and ours[m.code][1].distance(centre) > 0.0045:
            far.append((ward, district, m.confidence))
    # the two farther than 500 m are old wards split between new ones, named with "medium"
    assert len(far) <= 2 and all(c == "medium" for *_, c in far), far


@pytest.mark.parametrize("code", ["26743", "27142"])
def test_demo_wards_are_reached_from_old_addresses(code: str) -> None:
    found = {"26743": "Phường Phạm Ngũ Lão, Quận 1, TP.HCM", "27142": "Phường 9, Quận 3, TP.HCM"}[code]
    m = to_2025(found)
    assert m is not None and m.code == code
