"""Faces and plates hidden in public renditions, staff copies, a moderator's boxes, reused photos.

The pictures come from the labelled set (`tests/media/blurset.py`): real portraits and drawn plates.
"What is hidden" is checked on the renditions themselves: the public one differs from the staff copy
inside each box (and is smoother there) and matches it, within the encoder's tolerance, outside.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import media
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings
from media.blur import MAX_PHASH_DISTANCE, checked_boxes, hamming
from media.config import MediaError
from media.process import Limits, Processed, blur, process_file, rebuild_file
from tests.factories import centre, make_city, resident, staff, upload
from tests.media import blurset
from tests.media.conftest import Worker

LAT, LNG = centre("W1")


@pytest.fixture(scope="module")
def samples() -> dict[str, blurset.Sample]:
    return {s.name: s for s in blurset.build()}


def _pixels(data: bytes | Path) -> NDArray[np.float32]:
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32)


def _mask(shape: tuple[int, ...], boxes: list[list[float]], grow: int = 0) -> NDArray[np.bool_]:
    h, w = shape[:2]
    mask = np.zeros((h, w), dtype=bool)
    for x, y, bw, bh in boxes:
        left, top = max(0, int(x * w) - grow), max(0, int(y * h) - grow)
        right, bottom = min(w, int(np.ceil((x + bw) * w)) + grow), min(h, int(np.ceil((y + bh) * h)) + grow)
        mask[top:bottom, left:right] = True
    return mask


def _detail(a: NDArray[np.float32]) -> float:
    """Mean absolute difference between neighbouring pixels: what pixelation takes away."""
    return float(np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean())


def assert_hidden_only_inside(
    public: NDArray[np.float32], staff: NDArray[np.float32], boxes: list[list[float]]
) -> None:
    assert public.shape == staff.shape
    assert boxes
    diff = np.abs(public - staff)
    for box in boxes:
        inside = _mask(public.shape, [box])
        assert diff[inside].mean() > 10, (
            f"box {box} is not hidden (mean difference {diff[inside].mean():.1f})"
        )
        rows, cols = np.where(inside)
        region = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        assert _detail(public[region]) < 0.6 * _detail(staff[region]), f"box {box} keeps its detail"
    # outside, away from the boxes' edges (the encoder works in 16-pixel blocks): the same picture, as
    # far as two lossy encodings agree (each is about 2.5 levels from the source on average)
    outside = ~_mask(public.shape, boxes, grow=16)
    assert diff[outside].mean() < 3, f"outside the boxes, mean difference {diff[outside].mean():.2f}"
    assert np.percentile(diff[outside], 99) < 16


@pytest.fixture
def run(tmp_path: Path):
    counter = iter(range(1000))

    def run(data: bytes, kind: str = "photo") -> tuple[Processed, Path]:
        n = next(counter)
        src = tmp_path / f"src{n}"
        src.write_bytes(data)
        out = tmp_path / f"out{n}"
        out.mkdir()
        return process_file(kind, src, out, Limits()), out  # type: ignore[arg-type]

    return run


def _by_name(r: Processed) -> dict[str, Path]:
    return {x.name: x.path for x in r.renditions}


# --- the decoder -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hopper-as-is", "plate-two-cars"])
def test_public_renditions_hide_faces_and_plates_and_staff_keep_them(run, samples, name: str) -> None:
    sample = samples[name]
    r, _ = run(sample.jpeg())
    assert r.ok, r
    files = _by_name(r)
    assert set(files) == {"large_original", "large", "thumb"}
    found = r.info["blur_boxes"]
    assert found and {b["source"] for b in found} == ({"face"} if sample.faces else {"plate"})
    boxes = [b["box"] for b in found]
    assert all(blurset.covered(sample, boxes)), f"labelled boxes not all hidden: {boxes}"
    staff, public = _pixels(files["large_original"]), _pixels(files["large"])
    assert_hidden_only_inside(public, staff, boxes)
    # the staff copy is the picture itself, under the boxes too (as far as WebP keeps it)
    source = np.asarray(sample.image.convert("RGB"), dtype=np.float32)
    assert source.shape == staff.shape
    inside = _mask(staff.shape, boxes)
    assert np.abs(source - staff)[inside].mean() < 6 < 10 < np.abs(public - staff)[inside].mean()
    # the thumbnail is made from the hidden picture
    with Image.open(files["large_original"]) as im:
        im.thumbnail((320, 320))
        unblurred_thumb = np.asarray(im.convert("RGB"), dtype=np.float32)
    thumb = _pixels(files["thumb"])
    assert thumb.shape == unblurred_thumb.shape
    inside = _mask(thumb.shape, boxes)
    assert np.abs(thumb - unblurred_thumb)[inside].mean() > 10


def test_nothing_to_hide_leaves_the_picture_alone(run, samples) -> None:
    r, _ = run(samples["street-empty"].jpeg())
    assert r.ok and r.info["blur_boxes"] == []
    files = _by_name(r)
    assert np.abs(_pixels(files["large"]) - _pixels(files["large_original"])).mean() < 0.5


def test_rebuild_hides_a_moderators_box(run, samples, tmp_path: Path) -> None:
    r, _ = run(samples["hopper-as-is"].jpeg())
    staff = _by_name(r)["large_original"]
    face = [b["box"] for b in r.info["blur_boxes"]]
    flag = [0.05, 0.05, 0.2, 0.3]  # the flag in the corner, say: something the detector cannot know
    out = tmp_path / "rebuilt"
    out.mkdir()
    again = rebuild_file("photo", staff, out, [*face, flag], Limits())
    assert again.ok, again
    assert set(_by_name(again)) == {"large", "thumb"} and "blur_boxes" not in again.info
    assert again.info["phash"] == r.info["phash"]  # the hash is of the unblurred picture
    assert_hidden_only_inside(_pixels(_by_name(again)["large"]), _pixels(staff), [*face, flag])
    # no boxes at all: the public picture is the staff one (encoded once more)
    out = tmp_path / "none"
    out.mkdir()
    bare = rebuild_file("photo", staff, out, [], Limits())
    assert np.abs(_pixels(_by_name(bare)["large"]) - _pixels(staff)).mean() < 2
    # None: look for them (photos processed before blurring existed)
    out = tmp_path / "detect"
    out.mkdir()
    found = rebuild_file("photo", staff, out, None, Limits())
    assert [b["source"] for b in found.info["blur_boxes"]] == ["face"]


def _still_clip(picture: Image.Image, seconds: float = 0.5, fps: int = 10) -> bytes:
    import av

    picture = picture.convert("RGB")
    picture = picture.resize((picture.width // 2 * 2, picture.height // 2 * 2))
    frame = np.asarray(picture)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream: Any = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = picture.width, picture.height, "yuv420p"
        for _ in range(int(seconds * fps)):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def test_video_poster_is_treated_like_a_photo(run, samples) -> None:
    r, _ = run(_still_clip(samples["hopper-as-is"].image), kind="video")
    assert r.ok, r
    files = _by_name(r)
    assert set(files) == {"video", "poster", "poster_original"}
    boxes = [b["box"] for b in r.info["blur_boxes"]]
    assert [b["source"] for b in r.info["blur_boxes"]] == ["face"]
    public, staff = _pixels(files["poster"]), _pixels(files["poster_original"])
    diff = np.abs(public - staff)
    assert diff[_mask(public.shape, boxes)].mean() > 10
    assert diff[~_mask(public.shape, boxes, grow=16)].mean() < 3  # JPEG, like the WebP above


def test_a_small_labelled_subset_is_found(samples) -> None:
    """The detector itself, in this process, on a few pictures it must get right (bench/blur.py
    measures the whole set): upright frontal faces, a profile, one-line plates; and an empty street
    where it must find nothing."""
    for name in [
        "hopper-placed-150px",
        "astronaut-placed-150px",
        "camera-mirrored-110px",
        "plate-1line-200px",
        "plate-blue-180px",
    ]:
        s = samples[name]
        boxes = [f.box for f in blur.detect(s.image)]
        assert all(blurset.covered(s, boxes)), f"{name}: missed a labelled box ({boxes})"
        assert blurset.false_boxes(s, boxes) <= 1, f"{name}: false boxes {boxes}"
    assert blur.detect(samples["street-empty"].image) == []


def test_box_validation() -> None:
    assert checked_boxes([[0, 0, 1, 1], [0.5, 0.5, 0.5000001, 0.5]]) == [[0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5]]
    for bad in ([0, 0, 0, 0.1], [-0.1, 0, 0.2, 0.2], [0.9, 0, 0.2, 0.1], [0, 0, 1], [0, 0, float("nan"), 1]):
        with pytest.raises(MediaError) as err:
            checked_boxes([bad])
        assert err.value.code == "invalid_blur_boxes"
    with pytest.raises(MediaError):
        checked_boxes([[0, 0, 0.1, 0.1]] * 51)


# --- through the API and the worker --------------------------------------------------------------


def _report(ids: list[uuid.UUID]) -> dict[str, Any]:
    return {
        "category": "ngap-nuoc",
        "description": "Xe đỗ chắn lối đi",
        "lat": LAT,
        "lng": LNG,
        "media_ids": [str(i) for i in ids],
    }


async def _report_with(client: httpx.AsyncClient, who: str, data: bytes) -> tuple[str, uuid.UUID]:
    _, me = await resident(client, who)
    pid = await upload(client, me, data)
    r = await client.post("/v1/reports", json=_report([pid]), headers=me)
    assert r.status_code == 201, r.text
    return r.json()["code"], pid


async def _fetch(client: httpx.AsyncClient, url: str) -> NDArray[np.float32]:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    return _pixels(r.content)


async def test_public_sees_hidden_faces_staff_the_original(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker, samples
) -> None:
    await make_city(db_conn)
    code, pid = await _report_with(client, "a", samples["hopper-as-is"].jpeg())
    assert (await run_worker()).ready == 1
    public = (await client.get(f"/v1/reports/{code}")).json()["media"][0]
    assert set(public["renditions"]) == {"large", "thumb"}
    assert "blur_boxes" not in public and "same_as" not in public
    assert set((await client.get(f"/v1/media/{pid}")).json()["renditions"]) == {"large", "thumb"}
    _, officer = await staff(db_conn, "officer", ["W1"])
    staff_view = (await client.get(f"/v1/reports/{code}", headers=officer)).json()["media"][0]
    assert set(staff_view["renditions"]) == {"large", "large_original", "thumb"}
    assert [b["source"] for b in staff_view["blur_boxes"]] == ["face"] and staff_view["same_as"] == []
    boxes = [b["box"] for b in staff_view["blur_boxes"]]
    assert_hidden_only_inside(
        await _fetch(client, public["renditions"]["large"]),
        await _fetch(client, staff_view["renditions"]["large_original"]),
        boxes,
    )
    # an officer of another ward is the public
    _, elsewhere = await staff(db_conn, "officer", ["W2"])
    other = (await client.get(f"/v1/media/{pid}", headers=elsewhere)).json()
    assert set(other["renditions"]) == {"large", "thumb"}


async def test_moderator_adds_and_removes_boxes(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    database: Database,
    settings: Settings,
    run_worker: Worker,
    samples,
) -> None:
    await make_city(db_conn)
    code, pid = await _report_with(client, "a", samples["hopper-as-is"].jpeg())
    await run_worker()
    _, moderator = await staff(db_conn, "moderator")  # reviews everything: sees under the boxes
    staff_view = (await client.get(f"/v1/media/{pid}", headers=moderator)).json()
    assert "large_original" in staff_view["renditions"]
    _, admin = await staff(db_conn, "admin")
    face = staff_view["blur_boxes"][0]["box"]
    flag = [0.02, 0.05, 0.25, 0.3]
    r = await client.put(f"/v1/media/{pid}/blur", json={"boxes": [face, flag]}, headers=moderator)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["boxes"] == [{"box": face, "source": "face"}, {"box": flag, "source": "moderator"}]
    assert body["rebuild"] == "queued" and body["event_id"]
    # until the worker has made them again, the public gets no picture at all
    pending = (await client.get(f"/v1/reports/{code}")).json()["media"][0]
    assert pending["status"] == "ready" and pending["renditions"] == {}
    assert (await client.get(f"/v1/media/{pid}", headers=admin)).json()["blur_pending"] is True
    old_large = staff_view["renditions"]["large"]
    stats = await media.rebuild_due(database.session, config_for(settings))
    assert (stats.claimed, stats.ready) == (1, 1)
    assert (await client.get(old_large)).status_code == 404  # the replaced rendition is gone
    public = (await client.get(f"/v1/reports/{code}")).json()["media"][0]
    staff_view = (await client.get(f"/v1/media/{pid}", headers=admin)).json()
    assert staff_view["blur_pending"] is False and len(staff_view["blur_boxes"]) == 2
    original = await _fetch(client, staff_view["renditions"]["large_original"])
    assert_hidden_only_inside(await _fetch(client, public["renditions"]["large"]), original, [face, flag])
    # the change is on the case's record, for staff only
    events = await db_conn.execute(
        text("SELECT data, is_public, actor_role FROM report_events WHERE kind = 'media_blurred'")
    )
    (event,) = list(events)
    assert event.is_public is False and event.actor_role == "moderator"
    assert event.data["media_id"] == str(pid) and len(event.data["after"]) == 2
    timeline = (await client.get(f"/v1/reports/{code}", headers=admin)).json()["timeline"]
    assert "media_blurred" in [e["kind"] for e in timeline]
    assert "media_blurred" not in [
        e["kind"] for e in (await client.get(f"/v1/reports/{code}")).json()["timeline"]
    ]
    # removing every box shows the picture as it is
    r = await client.put(f"/v1/media/{pid}/blur", json={"boxes": []}, headers=moderator)
    assert r.status_code == 202 and r.json()["boxes"] == []
    await media.rebuild_due(database.session, config_for(settings))
    public = (await client.get(f"/v1/reports/{code}")).json()["media"][0]
    assert np.abs(await _fetch(client, public["renditions"]["large"]) - original).mean() < 2


async def test_blur_edits_are_checked(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker, samples
) -> None:
    await make_city(db_conn)
    _, pid = await _report_with(client, "a", samples["plate-1line-200px"].jpeg())
    _, moderator = await staff(db_conn, "moderator")
    # still processing: nothing to rebuild from yet
    r = await client.put(f"/v1/media/{pid}/blur", json={"boxes": []}, headers=moderator)
    assert r.status_code == 409 and r.json()["error"]["code"] == "media_not_ready"
    await run_worker()
    r = await client.put(f"/v1/media/{pid}/blur", json={"boxes": [[0.9, 0.9, 0.2, 0.2]]}, headers=moderator)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_blur_boxes"
    r = await client.put(f"/v1/media/{pid}/blur", json={"boxes": [[0.1, 0.1, 0.2]]}, headers=moderator)
    assert r.status_code == 400
    # a moderator scoped to another ward does not see this case; an officer may not edit at all
    _, moderator_w2 = await staff(db_conn, "moderator", ["W2"])
    r = await client.put(f"/v1/media/{pid}/blur", json={"boxes": []}, headers=moderator_w2)
    assert r.status_code == 404
    _, officer = await staff(db_conn, "officer", ["W1"])
    assert (await client.put(f"/v1/media/{pid}/blur", json={"boxes": []}, headers=officer)).status_code == 403
    # an upload on no report: admins only, and no event
    _, me = await resident(client, "b")
    loose = await upload(client, me, samples["street-sign"].jpeg())
    await run_worker()
    assert (
        await client.put(f"/v1/media/{loose}/blur", json={"boxes": []}, headers=moderator)
    ).status_code == 404
    _, admin = await staff(db_conn, "admin")
    r = await client.put(f"/v1/media/{loose}/blur", json={"boxes": [[0, 0, 0.5, 0.5]]}, headers=admin)
    assert r.status_code == 202 and r.json()["event_id"] is None


async def test_photos_from_before_blurring_are_blurred_by_the_worker(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    database: Database,
    settings: Settings,
    run_worker: Worker,
    samples,
) -> None:
    """What migration 0010 queues: a ready photo with only unblurred public renditions."""
    await make_city(db_conn)
    code, pid = await _report_with(client, "a", samples["astronaut-as-is"].jpeg())
    await run_worker()
    # make it look processed before blurring existed: its unblurred copy as "large", nothing known
    await db_conn.execute(
        text(
            "UPDATE media SET renditions = jsonb_build_object('large', renditions->'large_original', "
            "'thumb', renditions->'thumb'), blur_boxes = NULL, phash = NULL, blur_requested_at = now() "
            "WHERE id = :id"
        ),
        {"id": pid},
    )
    assert (await client.get(f"/v1/reports/{code}")).json()["media"][0]["renditions"] == {}
    stats = await media.rebuild_due(database.session, config_for(settings))
    assert stats.ready == 1
    _, admin = await staff(db_conn, "admin")
    staff_view = (await client.get(f"/v1/media/{pid}", headers=admin)).json()
    assert set(staff_view["renditions"]) == {"large", "large_original", "thumb"}
    assert [b["source"] for b in staff_view["blur_boxes"]] == ["face"]
    public = (await client.get(f"/v1/reports/{code}")).json()["media"][0]
    assert_hidden_only_inside(
        await _fetch(client, public["renditions"]["large"]),
        await _fetch(client, staff_view["renditions"]["large_original"]),
        [b["box"] for b in staff_view["blur_boxes"]],
    )
    row = (await db_conn.execute(text("SELECT phash FROM media WHERE id = :id"), {"id": pid})).one()
    assert row.phash is not None


async def test_the_same_photo_on_another_report_is_flagged_for_staff(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker, samples
) -> None:
    await make_city(db_conn)
    picture = samples["plate-1line-200px"]
    first, first_id = await _report_with(client, "a", picture.jpeg(quality=92))
    await run_worker()
    # the same photo, sent again smaller and more compressed by someone else
    smaller = picture.image.convert("RGB")
    smaller.thumbnail((900, 900))
    buf = io.BytesIO()
    smaller.save(buf, "JPEG", quality=60)
    second, second_id = await _report_with(client, "b", buf.getvalue())
    other, _ = await _report_with(client, "c", samples["plate-2lines-160px"].jpeg())
    await run_worker()
    rows = dict(
        (r.id, r.phash)
        for r in await db_conn.execute(
            text("SELECT id, phash FROM media WHERE id = ANY(:ids)"), {"ids": [first_id, second_id]}
        )
    )
    assert hamming(rows[first_id], rows[second_id]) <= MAX_PHASH_DISTANCE
    _, officer = await staff(db_conn, "officer", ["W1"])

    async def same_as(code: str) -> list[str]:
        return list((await client.get(f"/v1/reports/{code}", headers=officer)).json()["media"][0]["same_as"])

    assert await same_as(second) == [first]
    assert await same_as(first) == [second]
    assert await same_as(other) == []
    assert "same_as" not in (await client.get(f"/v1/reports/{second}")).json()["media"][0]
