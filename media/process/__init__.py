"""Decoding untrusted photos and videos, in a separate process with a time and memory limit.

The contract the rest of `media` relies on:

    result = process_file("photo" | "video", src, out_dir, limits)

reads the original at `src` (already sniffed as an accepted type), writes metadata-free renditions
into `out_dir` and returns a `Processed`: either ok with renditions and facts, or refused with a
machine `reason` and an English `message`. It never raises for a bad file; a crash, timeout or
memory blow-up of the child process becomes a refusal too.

Renditions: photos "thumb" (320 px) and "large" (1280 px); videos "video" (remuxed, metadata
stripped) and "poster" (a JPEG frame). Faces and plates are hidden in "large", "thumb" and "poster";
"large_original" and "poster_original" are the unblurred staff copies (`STAFF_RENDITIONS`), and
`info["blur_boxes"]` says what was hidden. `rebuild_file` makes the public ones again from a staff
copy with other boxes (a moderator's).

Why a child process: decoders are C code fed with strangers' bytes. A crash, a hang or a memory
blow-up must cost one file, not the worker; the child runs under RLIMIT_AS/RLIMIT_CPU and a wall
clock timeout, and hands back its result as a JSON file next to the renditions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["photo", "video"]


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 40_000_000
    max_video_seconds: float = 120.0
    max_video_bytes: int = 200 * 1024 * 1024
    timeout_s: float = 120.0  # wall clock for the child process
    memory_mb: int = 1536  # address-space limit of the child process


@dataclass(frozen=True)
class Rendition:
    name: str  # one of PUBLIC_RENDITIONS, or of STAFF_RENDITIONS
    path: Path
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Processed:
    ok: bool
    reason: str | None = None  # e.g. "decompression_bomb", "truncated", "too_long", "unsupported_codec"
    message: str | None = None  # English, names the limit hit where there is one
    params: dict[str, Any] = field(default_factory=dict)  # the figures compared (media/texts.py)
    renditions: list[Rendition] = field(default_factory=list)
    # width, height, blurhash, taken_at (ISO 8601 or None), gps ([lat, lon] or None),
    # and for videos duration_s, video_codec, audio_codec
    info: dict[str, Any] = field(default_factory=dict)


class Refused(Exception):
    """Raised inside the child for a file we will not keep; becomes `Processed(ok=False, ...)`."""

    def __init__(self, reason: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.reason, self.message, self.params = reason, message, params


# the unblurred staff copy of each rendition that hides faces and plates
STAFF_RENDITIONS = {"large_original": "large", "poster_original": "poster"}
# What anyone may be given: an allow-list, so a rendition added later is staff-only until listed here.
# Anything else stored for a media item (the original upload, the staff copies) is not public, and goes
# when its report's personal data is erased.
PUBLIC_RENDITIONS = frozenset({"thumb", "large", "poster", "video"})
BLURRED_RENDITIONS = ("thumb", "large", "poster")
RESULT_FILE = "result.json"
_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding the `media` package


def process_file(kind: Kind, src: Path, out_dir: Path, limits: Limits) -> Processed:
    """Decode `src` in a sandboxed child process; never raises for a bad file (see the module doc)."""
    return _in_child([kind, str(src), str(out_dir), json.dumps(asdict(limits))], out_dir, limits)


def rebuild_file(
    kind: Kind, src: Path, out_dir: Path, boxes: list[list[float]] | None, limits: Limits
) -> Processed:
    """The public renditions of a photo ("large", "thumb") or a video ("poster") made again from its
    staff copy at `src`, hiding `boxes` (None: detect them). `info` has the blurhash and phash, and
    `blur_boxes` when they were detected. In the sandbox like any decoding."""
    args = [kind, str(src), str(out_dir), json.dumps(asdict(limits)), json.dumps(boxes)]
    return _in_child(args, out_dir, limits)


def _in_child(args: list[str], out_dir: Path, limits: Limits) -> Processed:
    result_path = out_dir / RESULT_FILE
    result_path.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
    env["OPENBLAS_NUM_THREADS"] = "1"  # numpy's BLAS threads reserve address space we do not use
    cmd = [sys.executable, "-m", "media.process.child", *args]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, timeout=limits.timeout_s, check=False)
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child
        return Processed(
            ok=False,
            reason="timeout",
            message=f"Processing took longer than {limits.timeout_s:.0f} s.",
            params={"limit_s": f"{limits.timeout_s:.0f}"},
        )
    if done.returncode != 0 or not result_path.exists():
        return _crashed(done.returncode, done.stderr, limits)
    return _read_result(result_path, out_dir)


def over_memory(limits: Limits) -> Processed:
    return Processed(
        ok=False,
        reason="memory_limit",
        message=f"Decoding needed more than {limits.memory_mb} MB.",
        params={"limit_mb": limits.memory_mb},
    )


def _crashed(code: int, stderr: bytes, limits: Limits) -> Processed:
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        message = f"Processing used more than its CPU time ({limits.timeout_s:.0f} s)."
        return Processed(
            ok=False, reason="timeout", message=message, params={"limit_s": f"{limits.timeout_s:.0f}"}
        )
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {code}"]
    if "MemoryError" in tail[0]:
        return over_memory(limits)
    return Processed(ok=False, reason="decoder_crashed", message=f"The decoder failed: {tail[0][:200]}")


def _read_result(path: Path, out_dir: Path) -> Processed:
    raw = json.loads(path.read_text())
    if not raw["ok"]:
        return Processed(
            ok=False, reason=raw["reason"], message=raw["message"], params=raw.get("params") or {}
        )
    renditions = []
    for r in raw["renditions"]:
        file = (out_dir / r["file"]).resolve()
        if file.parent != out_dir.resolve():  # the child only ever names files in out_dir
            raise ValueError(f"rendition outside the output folder: {r['file']}")
        renditions.append(
            Rendition(r["name"], file, r["content_type"], file.stat().st_size, r["width"], r["height"])
        )
    return Processed(ok=True, renditions=renditions, info=raw["info"])
