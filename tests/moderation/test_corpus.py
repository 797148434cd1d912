"""The labelled corpus (corpus.tsv, at least 300 residents' sentences): the masker finds ≥ 99% of the
personal data with the rest of the text intact, the screener holds ≥ 95% of the abusive texts and
≤ 1% of the others. bench/screening.py prints the same figures and the speed."""

from __future__ import annotations

from tests.moderation.corpus import load, score


def test_the_corpus() -> None:
    samples = load()
    assert len(samples) >= 300
    assert len({s.id for s in samples}) == len(samples)
    with_personal = [s for s in samples if s.spans]
    assert len(with_personal) >= 80 and sum(s.abusive for s in samples) >= 80
    assert {sp.kind for s in samples for sp in s.spans} == {
        "phone",
        "email",
        "citizen_id",
        "plate",
        "bank_account",
    }


def test_thresholds() -> None:
    s = score(load())
    assert s.personal_recall >= 0.99, s.missed_personal
    assert s.abuse_recall >= 0.95, s.missed_abuse
    assert s.false_alarm_rate <= 0.01, s.false_alarms
    # masking leaves the rest as written: nothing masked where nothing personal was, and the text
    # of almost every sentence is exactly the expected one
    assert len(s.stray_masks) <= 0.01 * s.texts, s.stray_masks
    assert s.exact >= 0.98 * s.texts
