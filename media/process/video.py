"""Videos: probe with PyAV, check against the allow-list and limits, grab a poster, remux without metadata.

Runs inside the sandboxed child process. The remux copies the compressed streams (no re-encoding,
so it is fast and lossless) and writes none of the source's metadata: GPS, device, creation time go.

The poster is treated like a photo: "poster" has faces and plates hidden, "poster_original" is the
staff copy. The video itself is not blurred (that would mean re-encoding every frame).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from media.process import Limits, Refused, Rendition, blur

CONTAINERS = {"mov", "mp4", "3gp", "3g2"}  # the names in FFmpeg's "mov,mp4,m4a,3gp,3g2,mj2" demuxer
VIDEO_CODECS = {"h264", "hevc", "mpeg4", "h263"}
AUDIO_CODECS = {"aac", "amr_nb", "amr_wb", "mp3", "opus"}
MP4_AUDIO = {"aac", "mp3", "opus"}  # what the MP4 muxer takes; AMR (old 3GP phones) stays in 3GP
POSTER_PX = 1280
STAFF = "poster_original"
_DECODER_NAMES = {"amrnb": "amr_nb", "amrwb": "amr_wb", "mp3float": "mp3"}  # FFmpeg decoder → codec name


def _codec(stream: Any) -> str:
    name: str = stream.codec_context.name
    return _DECODER_NAMES.get(name, name)


def process_video(src: Path, out_dir: Path, limits: Limits) -> tuple[list[Rendition], dict[str, Any]]:
    import av

    size = src.stat().st_size
    if size > limits.max_video_bytes:
        raise Refused(
            "too_large",
            f"The video is {size / 1e6:.1f} MB; the limit is {limits.max_video_bytes / 1e6:.0f} MB.",
            size_mb=f"{size / 1e6:.1f}",
            limit_mb=f"{limits.max_video_bytes / 1e6:.0f}",
        )
    try:
        with av.open(str(src), metadata_errors="ignore") as box:
            facts, keep = _probe(box, limits)
            posters = _poster(box, out_dir, facts)
        with av.open(str(src), metadata_errors="ignore") as box:
            video = _remux(box, keep, out_dir, facts)
    except av.FFmpegError as exc:
        raise Refused("unplayable", f"The video could not be read: {exc}") from exc
    return [video, *posters], facts


def _probe(box: Any, limits: Limits) -> tuple[dict[str, Any], list[int]]:
    import av

    if not CONTAINERS & set(box.format.name.split(",")):
        raise Refused("unsupported_container", f"{box.format.name} files are not accepted (MP4, MOV, 3GP).")
    if not box.streams.video:
        raise Refused("unplayable", "The file has no video stream.")
    v = box.streams.video[0]
    ctx = v.codec_context
    if _codec(v) not in VIDEO_CODECS:
        raise Refused("unsupported_codec", f"Video codec {_codec(v)} is not accepted (H.264, HEVC, MPEG-4).")
    audio = box.streams.audio[0] if box.streams.audio else None
    if audio is not None and _codec(audio) not in AUDIO_CODECS:
        raise Refused(
            "unsupported_codec",
            f"Audio codec {_codec(audio)} is not accepted (AAC, AMR, MP3, Opus).",
        )
    if box.duration is not None:
        duration = box.duration / av.time_base
    elif v.duration is not None and v.time_base is not None:
        duration = float(v.duration * v.time_base)
    else:
        raise Refused("unplayable", "The video has no duration.")
    if duration > limits.max_video_seconds:
        raise Refused(
            "too_long",
            f"The video is {duration:.0f} s long; the limit is {limits.max_video_seconds:.0f} s.",
            seconds=f"{duration:.0f}",
            limit_s=f"{limits.max_video_seconds:.0f}",
        )
    if not ctx.width or not ctx.height:
        raise Refused("unplayable", "The video has no picture size.")
    if ctx.width * ctx.height > limits.max_pixels:
        raise Refused(
            "too_many_pixels",
            f"The video is {ctx.width}×{ctx.height}; the limit is {limits.max_pixels:,} pixels per frame.",
            width=ctx.width,
            height=ctx.height,
            limit_px=f"{limits.max_pixels:,}",
        )
    facts = {
        "width": ctx.width,
        "height": ctx.height,
        "duration_s": round(duration, 3),
        "video_codec": _codec(v),
        "audio_codec": _codec(audio) if audio is not None else None,
    }
    return facts, [v.index] + ([audio.index] if audio is not None else [])


def _poster(box: Any, out_dir: Path, facts: dict[str, Any]) -> list[Rendition]:
    """The first frame, turned as the phone shows it, as metadata-free JPEGs: the staff copy and the
    public one with faces and plates hidden."""
    from PIL import Image

    frame = next(box.decode(video=0), None)
    if frame is None:
        raise Refused("unplayable", "No frame of the video could be decoded.")
    image = frame.to_image()
    if frame.rotation:
        image = image.rotate(frame.rotation, expand=True)
    image.thumbnail((POSTER_PX, POSTER_PX), Image.Resampling.LANCZOS)
    image = image.convert("RGB")
    found = blur.detect(image)
    facts["blur_boxes"] = blur.boxes_of(found)
    facts["phash"] = blur.phash(image)
    return [_save(image, STAFF, out_dir), public_poster(image, [f.box for f in found], out_dir)]


def public_poster(image: Any, boxes: list[list[float]], out_dir: Path) -> Rendition:
    return _save(blur.apply(image, boxes), "poster", out_dir)


def _save(image: Any, name: str, out_dir: Path) -> Rendition:
    path = out_dir / f"{name}.jpg"
    image.save(path, "JPEG", quality=82, optimize=True)
    return Rendition(name, path, "image/jpeg", path.stat().st_size, *image.size)


def rebuild_poster(
    src: Path, out_dir: Path, boxes: list[list[float]] | None
) -> tuple[list[Rendition], dict[str, Any]]:
    """The public poster again from the staff copy at `src` (None: detect the boxes anew)."""
    from PIL import Image

    with Image.open(src) as opened:
        image = opened.convert("RGB")
    facts: dict[str, Any] = {"phash": blur.phash(image)}
    if boxes is None:
        found = blur.detect(image)
        facts["blur_boxes"] = blur.boxes_of(found)
        boxes = [f.box for f in found]
    return [public_poster(image, boxes, out_dir)], facts


def _remux(box: Any, keep: list[int], out_dir: Path, facts: dict[str, Any]) -> Rendition:
    import av

    mp4 = facts["audio_codec"] in (None, *MP4_AUDIO)
    path = out_dir / ("video.mp4" if mp4 else "video.3gp")
    streams = [box.streams[i] for i in keep]
    packets = 0
    with av.open(str(path), "w", format="mp4" if mp4 else "3gp", options={"movflags": "+faststart"}) as out:
        mapping = {s.index: out.add_stream_from_template(s) for s in streams}
        for dst in mapping.values():
            dst.metadata.clear()  # the rotation is side data, not metadata: it survives
        for packet in box.demux(streams):
            if packet.dts is None:  # the demuxer's end-of-stream flush
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
            packets += 1
    if packets == 0:
        raise Refused("unplayable", "The video has no data.")
    content_type = "video/mp4" if mp4 else "video/3gpp"
    return Rendition("video", path, content_type, path.stat().st_size, facts["width"], facts["height"])
