"""The sandboxed decoder on real files generated here: every accepted format, metadata really gone
from what is stored (read back), and every refusal with its reason (bombs, truncation, polyglots,
over-long and over-large videos, codecs off the allow-list, timeouts, memory)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import av
import pytest
from PIL import Image

from media.process import Limits, Processed, process_file
from tests.media.files import clip, exif_bytes, image, jpeg, png

SAIGON = (10.7769, 106.7009)


@pytest.fixture
def run(tmp_path: Path):
    counter = iter(range(1000))

    def run(kind: str, data: bytes, limits: Limits | None = None) -> Processed:
        n = next(counter)
        src = tmp_path / f"src{n}"
        src.write_bytes(data)
        out = tmp_path / f"out{n}"
        out.mkdir()
        return process_file(kind, src, out, limits or Limits())  # type: ignore[arg-type]

    return run


def _no_metadata(path: Path) -> None:
    data = path.read_bytes()
    assert b"TestPhone" not in data, "the camera make survived"
    with Image.open(path) as im:
        assert not im.getexif(), f"EXIF left in {path.name}: {dict(im.getexif())}"
        assert "xmp" not in im.info and "icc_profile" not in im.info


@pytest.mark.parametrize(
    "fmt",
    ["JPEG", "PNG", "WEBP", "HEIF"],
)
def test_every_photo_format_gives_clean_renditions_and_private_facts(run, fmt: str) -> None:
    data = image(fmt, 2000, 1500, exif=exif_bytes(gps=SAIGON))
    assert b"TestPhone" in data  # the source really carries the metadata we expect to strip
    r = run("photo", data)
    assert r.ok, r
    sizes = {x.name: (x.width, x.height) for x in r.renditions}
    assert sizes == {"large_original": (1280, 960), "large": (1280, 960), "thumb": (320, 240)}
    for x in r.renditions:
        assert x.content_type == "image/webp" and x.size == x.path.stat().st_size
        _no_metadata(x.path)
        with Image.open(x.path) as im:
            assert im.format == "WEBP" and im.size == (x.width, x.height)
    assert r.info["gps"] == pytest.approx(SAIGON, abs=1e-4)
    assert r.info["taken_at"] == "2026-11-20T08:30:00"
    assert (r.info["width"], r.info["height"]) == (2000, 1500)
    assert len(r.info["blurhash"]) == 28  # 4×3 components


def test_orientation_is_applied_and_then_dropped(run) -> None:
    # stored landscape, EXIF says "rotate 90° clockwise to view" (6): the resident saw a portrait photo
    r = run("photo", image("JPEG", 400, 200, exif=exif_bytes(orientation=6)))
    assert r.ok, r
    large = next(x for x in r.renditions if x.name == "large")
    assert (large.width, large.height) == (200, 400)
    assert (r.info["width"], r.info["height"]) == (200, 400)
    with Image.open(large.path) as im:
        assert im.size == (200, 400) and 0x0112 not in im.getexif()
    assert r.info["gps"] is None


def test_transparent_png_is_flattened(run) -> None:
    r = run("photo", image("PNG", 100, 80, mode="RGBA"))
    assert r.ok, r
    with Image.open(r.renditions[0].path) as im:
        assert im.mode == "RGB"


def test_blurhash_matches_the_reference_algorithm() -> None:
    import numpy as np

    from media.process.blurhash import encode

    y, x = np.mgrid[0:24, 0:32]
    gradient = np.stack([x * 8, y * 10, (x + y) * 4], axis=-1).astype(np.uint8)
    # computed with the reference implementation (PyPI `blurhash` 1.1.4) on the same pixels
    assert encode(gradient) == "LxH27b2kwzX5mAWYjuf7gKfkfQfj"
    assert encode(np.full((8, 8, 3), (200, 30, 30), dtype=np.uint8), 1, 1) == "00M^z|"


def test_decompression_bombs_are_refused(run) -> None:
    limits = Limits(max_pixels=1_000_000)
    for w, h in (
        (1200, 1000),
        (3000, 3000),
    ):  # between 1× and 2× the limit Pillow only warns; beyond, it errors
        r = run("photo", png(w, h), limits)
        assert (r.ok, r.reason) == (False, "decompression_bomb"), (w, h, r)
        assert "1,000,000" in (r.message or "")


def test_truncated_jpeg_is_refused(run) -> None:
    data = jpeg(800, 600)
    r = run("photo", data[: len(data) // 2])
    assert (r.ok, r.reason) == (False, "truncated"), r


def test_bytes_that_are_not_an_image_are_refused(run) -> None:
    r = run("photo", clip(1.0))
    assert (r.ok, r.reason) == (False, "unreadable"), r
    r = run("photo", b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    assert not r.ok and r.reason in ("unreadable", "truncated"), r


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.php", "<?php echo 1; ?>")
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_an_image_with_a_zip_appended_is_a_polyglot(run, fmt: str) -> None:
    r = run("photo", image(fmt, 200, 150) + _zip())
    assert (r.ok, r.reason) == (False, "polyglot"), r
    assert "ZIP" in (r.message or "")


def test_a_script_in_a_jpeg_comment_is_a_polyglot(run) -> None:
    data = jpeg(200, 150)
    comment = b"<script>alert(1)</script>"
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    r = run("photo", data[:2] + segment + data[2:])
    assert (r.ok, r.reason) == (False, "polyglot"), r


def test_phone_trailers_are_not_polyglots(run) -> None:
    # Ultra HDR / MPF photos carry a second JPEG (the gain map) after the first one's end
    r = run("photo", jpeg(400, 300) + jpeg(100, 75))
    assert r.ok, r


# where the muxers put a position: QuickTime's ©xyz text, 3GPP's binary loci box
_POSITION = (b"10.7769", b"loci", b"\xa9xyz")


def _clean_video(path: Path) -> None:
    data = path.read_bytes()
    assert not [m for m in (*_POSITION, b"TestPhone") if m in data], "metadata survived the remux"
    with av.open(str(path)) as box:
        assert not {k for k in box.metadata if k in ("location", "make", "model", "creation_time")}


@pytest.mark.parametrize(
    ("fmt", "codec", "audio", "stored"),
    [
        ("mp4", "libx264", "aac", "video/mp4"),
        ("mov", "libx264", "aac", "video/mp4"),
        ("mov", "libx265", None, "video/mp4"),
        ("3gp", "mpeg4", "libopencore_amrnb", "video/3gpp"),
    ],
)
def test_phone_videos_are_remuxed_without_metadata(
    run, fmt: str, codec: str, audio: str | None, stored: str
) -> None:
    meta = {"location": "+10.7769+106.7009/", "make": "TestPhone", "creation_time": "2026-11-20T08:30:00Z"}
    data = clip(2.0, fmt=fmt, codec=codec, audio=audio, w=176, h=144, metadata=meta)
    assert any(m in data for m in _POSITION)  # the source really carries a position
    r = run("video", data)
    assert r.ok, r
    by_name = {x.name: x for x in r.renditions}
    video, poster, staff = by_name["video"], by_name["poster"], by_name["poster_original"]
    assert video.content_type == stored
    _clean_video(video.path)
    with av.open(str(video.path)) as box:  # still playable: every frame decodes
        frames = sum(1 for _ in box.decode(video=0))
    assert frames == 20
    for p in (poster, staff):
        assert p.content_type == "image/jpeg" and (p.width, p.height) == (176, 144)
        _no_metadata(p.path)
    assert r.info["duration_s"] == pytest.approx(2.0, abs=0.2)
    assert (r.info["width"], r.info["height"]) == (176, 144)
    assert r.info["video_codec"] == {"libx264": "h264", "libx265": "hevc"}.get(codec, codec)
    assert r.info["audio_codec"] == {"aac": "aac", "libopencore_amrnb": "amr_nb", None: None}[audio]


def test_over_long_video_names_the_limit(run) -> None:
    r = run("video", clip(3.0), Limits(max_video_seconds=2))
    assert (r.ok, r.reason) == (False, "too_long"), r
    assert "limit is 2 s" in (r.message or "")


def test_over_large_video_names_the_limit(run) -> None:
    data = clip(1.0)
    r = run("video", data, Limits(max_video_bytes=len(data) - 1))
    assert (r.ok, r.reason) == (False, "too_large"), r


def test_codec_off_the_allow_list_is_refused(run) -> None:
    r = run("video", clip(1.0, fmt="mov", codec="mjpeg"))
    assert (r.ok, r.reason) == (False, "unsupported_codec"), r
    assert "mjpeg" in (r.message or "")


def test_unplayable_video_is_refused(run) -> None:
    data = clip(2.0)  # PyAV writes the index (moov) last: half a file has none
    r = run("video", data[: len(data) // 2])
    assert (r.ok, r.reason) == (False, "unplayable"), r


def test_a_slow_decode_is_killed_at_the_time_limit(run) -> None:
    r = run("photo", jpeg(800, 600), Limits(timeout_s=0.01))
    assert (r.ok, r.reason) == (False, "timeout"), r


def test_a_decode_over_the_memory_limit_is_refused(run, tmp_path: Path) -> None:
    big = png(8000, 6000)  # 48 Mpx: ~190 MB decoded, more than 250 MB leaves after start-up
    limits = Limits(max_pixels=100_000_000, memory_mb=250)
    r = run("photo", big, limits)
    assert (r.ok, r.reason) == (False, "memory_limit"), r
    assert "250 MB" in (r.message or "")
    assert run("photo", big, Limits(max_pixels=100_000_000)).ok  # the same file with the default limit
