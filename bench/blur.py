"""Face and plate blurring measured on the labelled set of `tests/media/blurset.py`.

    uv run python -m bench.blur [--quick] [--only NAME]

Each picture goes through the real pipeline: JPEG → the sandboxed decoder (`process_file`, one child
process per photo, as the worker runs it) → the boxes it hid. Printed:

- recall: the share of labelled faces and plates of which at least 80 % is hidden, per kind;
- false boxes: hidden boxes that cover no labelled face or plate (a quarter of the smaller overlap);
- photos/s through the whole pipeline (decode, detect, blur, encode three renditions, phash), and
  seconds of detection alone per photo in this process, cascade by cascade;
- what was missed, by name;
- perceptual hashes: the distance from each picture to itself re-encoded smaller, and the smallest
  distance between two different pictures, against the threshold that flags a reused photo.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from PIL import Image

from media.blur import MAX_PHASH_DISTANCE, hamming
from media.process import Limits, process_file
from media.process import blur as detector
from tests.media import blurset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="every third picture only")
    ap.add_argument("--only", default="", help="pictures whose name contains this")
    args = ap.parse_args()
    samples = [s for s in blurset.build() if args.only in s.name]
    if args.quick:
        samples = samples[::3]
    print(
        f"{len(samples)} pictures, {sum(len(s.faces) for s in samples)} faces, "
        f"{sum(len(s.plates) for s in samples)} plates"
    )

    hits = {"face": [0, 0], "plate": [0, 0]}
    false_total, missed, hashes = 0, [], []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-blur-") as tmp:
        for n, s in enumerate(samples):
            src = Path(tmp) / f"{n}.jpg"
            src.write_bytes(s.jpeg())
            out = Path(tmp) / f"out{n}"
            out.mkdir()
            result = process_file("photo", src, out, Limits())
            if not result.ok:
                raise SystemExit(f"{s.name}: refused: {result.reason} {result.message}")
            boxes = [b["box"] for b in result.info["blur_boxes"]]
            for (label, _), ok in zip(s.labelled, blurset.covered(s, boxes), strict=True):
                hits[label][0] += ok
                hits[label][1] += 1
                if not ok:
                    missed.append(f"{s.name} ({label})")
            false = blurset.false_boxes(s, boxes)
            false_total += false
            if false:
                print(f"  false boxes: {false} in {s.name}")
            hashes.append((s, result.info["phash"]))
    elapsed = time.perf_counter() - started

    found = sum(h for h, _ in hits.values())
    total = sum(t for _, t in hits.values())
    print(
        f"recall: {found}/{total} = {found / max(1, total):.0%}  "
        + "  ".join(f"{k}s {h}/{t}" for k, (h, t) in hits.items())
    )
    print(f"false boxes: {false_total} in {len(samples)} pictures")
    print(
        f"pipeline: {len(samples) / elapsed:.2f} photos/s ({elapsed / len(samples):.2f} s each, "
        "one sandboxed child per photo)"
    )
    _detection_alone(samples)
    print("missed: " + (", ".join(missed) or "nothing"))
    _hashes(hashes)


def _detection_alone(samples: list[blurset.Sample]) -> None:
    pictures = []
    for s in samples:
        im = s.image.convert("RGB")
        im.thumbnail((detector.DETECT_PX, detector.DETECT_PX))
        pictures.append(im)
    detector.detect(pictures[0])  # load the cascades
    parts = []
    for c in detector.CASCADES:
        t = time.perf_counter()
        for im in pictures:
            detector.detect(im, [c])
        parts.append(
            f"{c.file.removeprefix('haarcascade_').removesuffix('.xml')} "
            f"{(time.perf_counter() - t) / len(pictures):.2f}"
        )
    print("detection alone, s per photo: " + ", ".join(parts))


def _hashes(hashes: list[tuple[blurset.Sample, int | None]]) -> None:
    same = []
    for s, h in hashes:
        if h is None:
            continue
        im = s.image.convert("RGB")
        im.thumbnail((640, 640))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=60)
        again = detector.phash(Image.open(io.BytesIO(buf.getvalue())))
        if again is not None:
            same.append(hamming(h, again))
    known = [(s.name, h) for s, h in hashes if h is not None]
    pairs = sorted((hamming(a[1], b[1]), a[0], b[0]) for i, a in enumerate(known) for b in known[i + 1 :])
    near = ", ".join(f"{d} ({a} / {b})" for d, a, b in pairs[:3])
    print(
        f"phash: the same picture re-encoded at half size, q60: distance ≤ {max(same)} "
        f"(mean {sum(same) / len(same):.1f}); two different pictures, the nearest: {near}; "
        f"median {pairs[len(pairs) // 2][0]}; flagged at ≤ {MAX_PHASH_DISTANCE}"
    )


if __name__ == "__main__":
    main()
