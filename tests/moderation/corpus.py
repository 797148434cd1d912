"""The labelled corpus (corpus.tsv) and how the masker and the screener are scored on it; shared by
the tests and bench/screening.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import moderation

PATH = Path(__file__).with_name("corpus.tsv")
_MARK = re.compile(r"\{(\w+):([^{}]+)\}")


@dataclass(frozen=True)
class Sample:
    id: str
    abusive: bool
    text: str  # as the resident wrote it
    spans: tuple[moderation.Span, ...]  # the personal data in it

    def expected_mask(self) -> str:
        """The text as the public should read it: each personal datum replaced by its label."""
        out, at = [], 0
        for s in self.spans:
            out += [self.text[at : s.start], moderation.LABELS[s.kind]]
            at = s.end
        return "".join(out) + self.text[at:]


def parse(marked: str) -> tuple[str, tuple[moderation.Span, ...]]:
    text, spans, at = [], [], 0
    length = 0
    for m in _MARK.finditer(marked):
        before = marked[at : m.start()]
        text.append(before)
        length += len(before)
        kind, value = m.group(1), m.group(2)
        assert kind in moderation.KINDS, f"unknown kind {kind!r} in {marked!r}"
        spans.append(moderation.Span(length, length + len(value), kind))
        text.append(value)
        length += len(value)
        at = m.end()
    text.append(marked[at:])
    return "".join(text), tuple(spans)


def load() -> list[Sample]:
    samples = []
    for line in PATH.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("id\t"):
            continue
        sid, abusive, marked = line.split("\t")
        text, spans = parse(marked)
        samples.append(Sample(sid, abusive == "1", text, spans))
    return samples


@dataclass
class Scores:
    texts: int
    personal: int  # labelled personal data
    personal_found: int  # … entirely covered by a mask
    kind_right: int  # … and masked as the right kind
    stray_masks: list[tuple[str, str]]  # (id, masked text) masked where nothing personal was
    exact: int  # texts whose masked form is exactly the expected one
    abusive: int
    abusive_held: int
    clean: int  # texts without abuse
    false_alarms: list[tuple[str, list[str]]]  # (id, terms) held without abuse
    missed_abuse: list[str]
    missed_personal: list[tuple[str, str]]  # (id, value)

    @property
    def personal_recall(self) -> float:
        return self.personal_found / self.personal

    @property
    def abuse_recall(self) -> float:
        return self.abusive_held / self.abusive

    @property
    def false_alarm_rate(self) -> float:
        return len(self.false_alarms) / self.clean


def score(samples: list[Sample]) -> Scores:
    s = Scores(len(samples), 0, 0, 0, [], 0, 0, 0, 0, [], [], [])
    for sample in samples:
        masked = moderation.mask(sample.text)
        covered: set[int] = set()
        for m in masked.spans:
            covered.update(range(m.start, m.end))
        for want in sample.spans:
            s.personal += 1
            if all(i in covered for i in range(want.start, want.end)):
                s.personal_found += 1
                if any(
                    m.kind == want.kind and m.start <= want.start and m.end >= want.end for m in masked.spans
                ):
                    s.kind_right += 1
            else:
                s.missed_personal.append((sample.id, sample.text[want.start : want.end]))
        labelled: set[int] = set()
        for want in sample.spans:
            labelled.update(range(want.start, want.end))
        if any(not labelled.intersection(range(m.start, m.end)) for m in masked.spans):
            s.stray_masks.append((sample.id, masked.text))
        s.exact += masked.text == sample.expected_mask()
        screening = moderation.screen_text(sample.text)
        held = screening.visibility == "pending_review"
        if sample.abusive:
            s.abusive += 1
            s.abusive_held += held
            if not held:
                s.missed_abuse.append(sample.id)
        else:
            s.clean += 1
            if held:
                s.false_alarms.append((sample.id, screening.terms))
    return s
