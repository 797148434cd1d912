"""Screening benchmark: the masker and the abuse screener on the labelled corpus.

    uv run python -m bench.screening [--quick] [--show]

On tests/moderation/corpus.tsv (residents' complaints in Vietnamese and English, personal data
marked with its exact span and kind, abusive sentences marked): recall of personal data (a labelled
datum counts when a mask covers all of it; and with the right kind), masks where nothing personal
was, sentences masked exactly as expected, recall of abuse, false alarms on the sentences without
abuse; then texts screened per second (mask and screen, one process, the corpus cycled).
`--show` lists every miss and false alarm.
"""

from __future__ import annotations

import argparse
import time

import moderation
from tests.moderation.corpus import load, score


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a shorter speed run")
    parser.add_argument("--show", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()

    samples = load()
    s = score(samples)
    abusive = sum(x.abusive for x in samples)
    print(
        f"corpus: {s.texts} sentences, {s.personal} personal data in {sum(bool(x.spans) for x in samples)}, ",
        end="",
    )
    print(f"{abusive} abusive, {s.clean} without abuse")
    print(
        f"personal data recall: {s.personal_recall:.1%} ({s.personal_found}/{s.personal}; "
        f"right kind {s.kind_right}/{s.personal})   target ≥ 99%"
    )
    print(
        f"masks where nothing personal was: {len(s.stray_masks)} sentences; masked exactly as expected: {s.exact}/{s.texts}"
    )
    print(f"abuse recall: {s.abuse_recall:.1%} ({s.abusive_held}/{s.abusive})   target ≥ 95%")
    print(
        f"false alarms on complaints without abuse: {s.false_alarm_rate:.2%} ({len(s.false_alarms)}/{s.clean})"
        "   target ≤ 1%"
    )
    if args.show:
        for sid, value in s.missed_personal:
            print(f"  missed personal data {sid}: {value!r}")
        for sid, masked in s.stray_masks:
            print(f"  stray mask {sid}: {masked}")
        for sid in s.missed_abuse:
            print(f"  missed abuse {sid}")
        for sid, terms in s.false_alarms:
            print(f"  false alarm {sid}: {terms}")

    texts = [x.text for x in samples]
    rounds = 3 if args.quick else 20
    for name, work in (
        ("mask", lambda t: moderation.mask(t)),
        ("screen", lambda t: moderation.screen_text(t)),
        ("mask + screen", lambda t: (moderation.mask(t), moderation.screen_text(t))),
    ):
        started = time.perf_counter()
        for _ in range(rounds):
            for t in texts:
                work(t)
        elapsed = time.perf_counter() - started
        n = rounds * len(texts)
        print(f"{name}: {n / elapsed:,.0f} texts/s ({elapsed / n * 1e6:.0f} µs each, {n} texts)")


if __name__ == "__main__":
    main()
