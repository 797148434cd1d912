"""Merging carries the duplicate's media over: residents' photos of a report merged into a case show on
the case (marked with the report they came from) and stay on the duplicate, under the views' privacy rules."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.casework.conftest import City
from tests.factories import centre, resident, submit_report, upload
from tests.media.files import jpeg, png

LAT, LNG = centre("W1")
RENDITIONS = {
    "thumb": {"key": "t/thumb.webp", "content_type": "image/webp"},
    "large": {"key": "t/large.webp", "content_type": "image/webp"},
}


async def _report(client: httpx.AsyncClient, headers: dict[str, str], media_ids: list[uuid.UUID]) -> str:
    body = await submit_report(client, headers, "W1", description="Đường ngập sâu", media_ids=media_ids)
    return str(body["code"])


async def _ready(db_conn: AsyncConnection, *ids: uuid.UUID) -> None:
    """As the media worker would leave them (with private EXIF and a far-from-the-spot flag)."""
    await db_conn.execute(
        text(
            "UPDATE media SET status = 'ready', renditions = CAST(:r AS jsonb), info = CAST(:i AS jsonb), "
            "private = CAST(:p AS jsonb), far_from_report = true, processed_at = now() WHERE id = ANY(:ids)"
        ),
        {
            "r": json.dumps(RENDITIONS),
            "i": json.dumps({"width": 640, "height": 480}),
            "p": json.dumps({"gps": [LAT + 0.05, LNG], "taken_at": "2026-11-20T08:30:00"}),
            "ids": list(ids),
        },
    )


async def _merge(client: httpx.AsyncClient, code: str, into: str, officer: dict[str, str]) -> None:
    r = await client.post(
        f"/v1/reports/{code}/actions", json={"action": "merge", "into": into}, headers=officer
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "duplicate"


async def _media(client: httpx.AsyncClient, code: str, headers: dict[str, str] | None = None) -> Any:
    r = await client.get(f"/v1/reports/{code}", headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()["media"]


async def test_merge_carries_media_over(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    officer = city.officer_w1[1]
    _, a_res = await resident(wf_client, "merge-a")
    _, b_res = await resident(wf_client, "merge-b")
    _, c_res = await resident(wf_client, "merge-c")
    _, d_res = await resident(wf_client, "merge-d")
    a_photo = await upload(wf_client, a_res, jpeg())
    b_photo = await upload(wf_client, b_res, jpeg())
    b_pending = await upload(wf_client, b_res, png(), content_type="image/png")  # still processing
    c_photo = await upload(wf_client, c_res, jpeg())
    d_photo = await upload(wf_client, d_res, jpeg())
    a = await _report(wf_client, a_res, [a_photo])
    b = await _report(wf_client, b_res, [b_photo, b_pending])
    c = await _report(wf_client, c_res, [c_photo])
    d = await _report(wf_client, d_res, [d_photo])
    await _ready(db_conn, a_photo, b_photo, c_photo, d_photo)
    # D was hidden by a moderator: what it carries over is for staff only
    await db_conn.execute(text("UPDATE reports SET visibility = 'hidden' WHERE code = :c"), {"c": d})

    before = await _media(wf_client, a)
    assert [m["id"] for m in before] == [str(a_photo)]

    # C into B, then B into A: A carries B's and (through B) C's evidence
    await _merge(wf_client, c, b, officer)
    await _merge(wf_client, b, a, officer)
    await _merge(wf_client, d, a, officer)

    public = await _media(wf_client, a)
    assert [(m["id"], m.get("from_report")) for m in public] == [
        (str(a_photo), None),
        (str(b_photo), b),
        (str(c_photo), c),
    ]
    carried = public[1]
    assert carried["status"] == "ready" and set(carried["renditions"]) == set(RENDITIONS)
    assert carried["width"] == 640
    # no private EXIF, no staff-only flag, no owner-only fields for the public
    dumped = json.dumps(public)
    for secret in ("gps", "taken_at", "far_from_report", "attached", "private"):
        assert secret not in dumped

    # A's own reporter: the same carried media (not B's processing one, nor hidden D's)
    mine = await _media(wf_client, a, a_res)
    assert [(m["id"], m.get("from_report")) for m in mine] == [
        (str(a_photo), None),
        (str(b_photo), b),
        (str(c_photo), c),
    ]
    assert "gps" not in json.dumps(mine) and "taken_at" not in json.dumps(mine)

    # staff in scope: everything carried over, hidden D's too, with the far flag but still no EXIF
    staff = await _media(wf_client, a, officer)
    assert [(m["id"], m.get("from_report")) for m in staff] == [
        (str(a_photo), None),
        (str(b_photo), b),
        (str(c_photo), c),
        (str(d_photo), d),
    ]
    assert all(m["far_from_report"] is True for m in staff)
    assert "gps" not in json.dumps(staff) and "taken_at" not in json.dumps(staff)

    # the rows were not moved: B's reporter still sees their own photos on B (the processing one too)
    own = await _media(wf_client, b, b_res)
    assert [(m["id"], m["status"]) for m in own[:2]] == [
        (str(b_photo), "ready"),
        (str(b_pending), "processing"),
    ]
    assert "from_report" not in own[0] and "from_report" not in own[1]
    # …and C, merged into B, shows there as carried over
    assert [(m["id"], m.get("from_report")) for m in own[2:]] == [(str(c_photo), c)]
    assert (await _media(wf_client, c, c_res))[0]["id"] == str(c_photo)
    where = (
        await db_conn.execute(
            text(
                "SELECT m.id, r.code FROM media m JOIN reports r ON r.id = m.report_id WHERE m.id = ANY(:ids)"
            ),
            {"ids": [b_photo, b_pending, c_photo]},
        )
    ).all()
    assert {row.id: row.code for row in where} == {b_photo: b, b_pending: b, c_photo: c}
    # the public view of the (public) duplicate shows only its ready media
    assert [m["id"] for m in await _media(wf_client, b)] == [str(b_photo), str(c_photo)]
