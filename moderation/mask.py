"""Personal data in residents' text, found and masked: `mask(text) → Masked(text, spans)`.

What counts as personal data: Vietnamese phone numbers (mobile and landline, national or
international, however grouped: `0903 123 456`, `0903.123.456`, `+84 903 123 456`, `84903123456`,
`(028) 3823 4567`), e-mail addresses, citizen ID numbers (12-digit CCCD, 9-digit CMND), vehicle
licence plates (`51F-123.45`, `59-X1 234.56`, `30A 12345`) and bank account numbers written after
"STK" / "số tài khoản". Each is replaced by a short label; everything else is left as written.

Numbers are read as runs of digit groups joined by the separators people type between groups
(spaces, dots, dashes, brackets), and a run is judged by its digits — their count and first digits —
not by its punctuation, so any grouping of a phone number is caught while house numbers (`123/45`),
dates, amounts (`50.000đ`), ward numbers and short hotlines (`1022`, `115`) are not phone-shaped
and stay. A run may hold several numbers (`0903 123 456 0912 345 678`): it is split where a known
shape ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("phone", "email", "citizen_id", "plate", "bank_account")

# What the public reads instead. Residents' text is Vietnamese; the labels are too.
LABELS = {
    "phone": "[số điện thoại]",
    "email": "[email]",
    "citizen_id": "[số giấy tờ]",
    "plate": "[biển số]",
    "bank_account": "[số tài khoản]",
}


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class Masked:
    text: str
    spans: tuple[Span, ...]  # positions in the original text


_DIGITS = re.compile(r"\d+")
# What may stand between two digit groups of one number: spaces, one dot or dash, brackets.
_GAP = re.compile(
    r"[ \t\u00a0]{0,2}(?:[.\-\u2013\u2010][ \t\u00a0]{0,2})?|\)[ \t\u00a0]{0,2}[.\-]?[ \t\u00a0]{0,2}|[ \t\u00a0]{0,2}\("
)
_PREFIX = re.compile(r"(?:\(\s?\+?|\+)\s?$")
# After an amount or a measure a number is never personal data. One letter counts only written
# against the number ("50k"): "gọi 0903123456 k ai nghe" is "không", not thousands.
_UNIT_AFTER = re.compile(
    r"(?:k|m|tr)(?!\w)|\s?(?:đ|₫|đồng|dong|vnđ|vnd|triệu|trieu|tỷ|nghìn|nghin|ngàn|ngan|usd|\$|%|m2|m²|cm|mm|km|kg"
    r"|tấn|lít)(?!\w)",
    re.IGNORECASE,
)

_MOBILE = re.compile(r"0[35789]\d{8}|01[2689]\d{8}")  # 10 digits; and the 11-digit numbers before 2018
_LANDLINE = re.compile(r"02\d{9}")  # area code 02x/02xx, 11 digits in all
_INTERNATIONAL = re.compile(r"840?(?:[35789]\d{8}|2\d{9})")
_CCCD = re.compile(r"0(?:[0-8]\d|9[0-6])\d{9}")  # province code 001–096, then 9 digits
_CMND = re.compile(r"[0-3]\d{8}")

_EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]*\s?(?:@|\(at\)|\[at\])\s?[A-Za-z0-9\-]+(?:\s?(?:\.|\(dot\)|\[dot\])\s?[A-Za-z0-9\-]+)*\s?(?:\.|\(dot\)|\[dot\])\s?[A-Za-z]{2,}",
    re.IGNORECASE,
)
# A plate: a two-digit province code, a series (one or two letters, maybe a digit: F, LD, X1, MĐ1),
# then four or five digits, five often written 123.45.
_PLATE = re.compile(
    r"(?<![\w.,/])(?P<province>[1-9]\d)[ \t]?[-.]?[ \t]?(?P<series>[A-ZĐ]{1,2}\d?)[ \t]?[-.]?[ \t]?(?P<number>\d{3}[. ]?\d{2}|\d{4})(?![\w]|[.,]\d)",
    re.IGNORECASE,
)
# Lower-case single letters that are units after a number ("12m 2024", "23h 1234"), not a series.
_UNIT_LETTERS = frozenset("hmkgltspxd")
_BANK_KEY = re.compile(
    r"(?<!\w)(?:stk|số\s+tài\s+khoản|so\s+tai\s+khoan|số\s+tk|so\s+tk|tài\s+khoản|tai\s+khoan|tk|"
    r"account(?:\s+(?:no|number))?|acc)(?!\w)",
    re.IGNORECASE,
)
_ID_KEY = re.compile(
    r"(?<!\w)(?:cccd|cmnd|cmt|căn\s+cước|can\s+cuoc|chứng\s+minh(?:\s+nhân\s+dân|\s+thư)?|chung\s+minh|"
    r"định\s+danh|dinh\s+danh|id\s+card|citizen\s+id)(?!\w)",
    re.IGNORECASE,
)
_KEY_REACH = 40  # characters between a keyword and its number ("STK Vietcombank chi nhánh Q1: …")


@dataclass(frozen=True, slots=True)
class _Group:
    start: int
    end: int
    digits: str


def _runs(text: str) -> list[list[_Group]]:
    """Digit groups, chained where only a number separator stands between them."""
    runs: list[list[_Group]] = []
    for m in _DIGITS.finditer(text):
        group = _Group(m.start(), m.end(), m.group())
        if runs and _GAP.fullmatch(text, runs[-1][-1].end, group.start):
            runs[-1].append(group)
        else:
            runs.append([group])
    return runs


def _shape(digits: str, groups: int, international: bool) -> str | None:
    """The kind of personal number these digits are, if any."""
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return "phone"
    if _INTERNATIONAL.fullmatch(digits):
        return "phone"
    if international:
        return None
    if _CCCD.fullmatch(digits):
        return "citizen_id"
    if groups == 1 and _CMND.fullmatch(digits):
        return "citizen_id"
    return None


def _start_with_prefix(text: str, start: int) -> tuple[int, bool]:
    """Extend a number's start over a leading `+`, `(` or `(+`; and whether it said `+`."""
    m = _PREFIX.search(text, max(0, start - 4), start)
    if m is None:
        return start, False
    return m.start(), "+" in m.group()


def _unit_follows(text: str, end: int) -> bool:
    return _UNIT_AFTER.match(text, end) is not None


class _Taken:
    def __init__(self) -> None:
        self.spans: list[Span] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= s.start or start >= s.end for s in self.spans)

    def add(self, start: int, end: int, kind: str) -> bool:
        if start < end and self.free(start, end):
            self.spans.append(Span(start, end, kind))
            return True
        return False


def _after_keyword(
    text: str, key: re.Pattern[str], runs: list[list[_Group]], taken: _Taken, kind: str
) -> None:
    """The number a keyword announces ("STK: …", "CCCD số …"), whatever its shape."""
    for m in key.finditer(text):
        for run in runs:
            if run[0].start < m.end():
                continue
            if run[0].start - m.end() > _KEY_REACH or "\n" in text[m.end() : run[0].start]:
                break
            digits = "".join(g.digits for g in run)
            wanted = 6 <= len(digits) <= 19 if kind == "bank_account" else len(digits) in (9, 12)
            if wanted:
                start, _plus = _start_with_prefix(text, run[0].start)
                taken.add(start, run[-1].end, kind)
            break


def find(text: str) -> list[Span]:
    """The personal data in `text`, in order."""
    taken = _Taken()
    lowered = text.lower()
    if "@" in text or "(at)" in lowered or "[at]" in lowered:  # a dear pattern: only where it may match
        for m in _EMAIL.finditer(text):
            taken.add(m.start(), m.end(), "email")
    runs = _runs(text)
    if not runs:
        return taken.spans
    for m in _PLATE.finditer(text):
        series = m.group("series")
        if series.islower() and len(series) == 1 and series in _UNIT_LETTERS:
            continue
        taken.add(m.start(), m.end(), "plate")
    _after_keyword(text, _BANK_KEY, runs, taken, "bank_account")
    _after_keyword(text, _ID_KEY, runs, taken, "citizen_id")
    for run in runs:
        i = 0
        while i < len(run):
            for j in range(len(run), i, -1):
                digits = "".join(g.digits for g in run[i:j])
                if len(digits) < 9 or len(digits) > 12:
                    continue
                start, plus = _start_with_prefix(text, run[i].start)
                if "(" in text[start : run[i].start] and ")" not in text[start : run[j - 1].end]:
                    # a bracket opened before the number and closed after it belongs to the sentence
                    start = text.index("(", start) + 1
                kind = _shape(digits, j - i, plus)
                if kind is None:
                    continue
                # an amount never starts with 0 nor +; "84…" might be one
                if not plus and digits[0] != "0" and _unit_follows(text, run[j - 1].end):
                    continue
                if taken.add(start, run[j - 1].end, kind):
                    i = j - 1
                    break
            i += 1
    return sorted(taken.spans, key=lambda s: s.start)


def mask(text: str) -> Masked:
    """`text` (NFC, as the API stores it) with its personal data replaced by labels, and where each
    one was."""
    spans = find(text)
    if not spans:
        return Masked(text, ())
    out: list[str] = []
    at = 0
    for s in spans:
        out.append(text[at : s.start])
        out.append(LABELS[s.kind])
        at = s.end
    out.append(text[at:])
    return Masked("".join(out), tuple(spans))


REDACTED = "[đã xoá]"


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """For erasing, not for showing: the text masked, and the given people's names replaced by
    `REDACTED`. A name is matched as whole words in any case; one-word names are left alone, since
    Vietnamese given names are everyday words too ("An", "Hoa", "Bình")."""
    out = mask(text).text
    for name in names:
        words = name.split()
        if len(words) >= 2:
            pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
            out = re.sub(pattern, REDACTED, out, flags=re.IGNORECASE)
    return out
