"""The sandboxed decoder: `python -m media.process.child KIND SRC OUT_DIR LIMITS_JSON [BOXES_JSON]`.

With BOXES_JSON it rebuilds the public renditions from a staff copy instead (`rebuild_file`).

Limits itself first (address space, CPU seconds), then decodes and writes `OUT_DIR/result.json`.
A refusal is a normal result (exit 0); anything unexpected exits non-zero and the parent reports it.
"""

from __future__ import annotations

import json
import math
import resource
import sys
from pathlib import Path
from typing import Any

from media.process import RESULT_FILE, Limits, Refused, Rendition, over_memory


def _limit_self(limits: Limits) -> None:
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(limits.timeout_s)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU at the soft limit, SIGKILL after
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _run(
    kind: str,
    src: Path,
    out_dir: Path,
    limits: Limits,
    rebuild: tuple[list[list[float]] | None] | None = None,
) -> dict[str, Any]:
    """Decode `src`; or, with `rebuild` (the boxes, None to detect them), rebuild from a staff copy."""
    try:
        if rebuild is not None:
            renditions, info = _rebuild(kind, src, out_dir, limits, rebuild[0])
        elif kind == "photo":
            from media.process.photo import process_photo

            renditions, info = process_photo(src, out_dir, limits)
        elif kind == "video":
            from media.process.video import process_video

            renditions, info = process_video(src, out_dir, limits)
        else:
            raise Refused("unsupported_kind", f"Unknown media kind {kind!r}.")
    except Refused as r:
        return {"ok": False, "reason": r.reason, "message": r.message, "params": r.params}
    except MemoryError:
        refused = over_memory(limits)
        return {"ok": False, "reason": refused.reason, "message": refused.message, "params": refused.params}
    return {"ok": True, "renditions": [_describe(r) for r in renditions], "info": info}


def _rebuild(
    kind: str, src: Path, out_dir: Path, limits: Limits, boxes: list[list[float]] | None
) -> tuple[list[Rendition], dict[str, Any]]:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = limits.max_pixels  # our own copy, but a decoder is a decoder
    if kind == "photo":
        from media.process.photo import rebuild_photo

        return rebuild_photo(src, out_dir, boxes)
    if kind == "video":
        from media.process.video import rebuild_poster

        return rebuild_poster(src, out_dir, boxes)
    raise Refused("unsupported_kind", f"Unknown media kind {kind!r}.")


def _describe(r: Rendition) -> dict[str, Any]:
    return {
        "name": r.name,
        "file": r.path.name,
        "content_type": r.content_type,
        "width": r.width,
        "height": r.height,
    }


def main(argv: list[str]) -> int:
    kind, src, out_dir, raw_limits, *rest = argv
    limits = Limits(**json.loads(raw_limits))
    _limit_self(limits)
    rebuild = (json.loads(rest[0]),) if rest else None
    result = _run(kind, Path(src), Path(out_dir), limits, rebuild)
    (Path(out_dir) / RESULT_FILE).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
