"""Abusive language in Vietnamese and English, found through the ways people write it.

Text is read as words, several ways at once: as typed (lower-case, with diacritics), accent-free,
with look-alike letters and digits read as the letters they imitate (`sh1t`, `đ!t`, Cyrillic `о`),
with letters repeated for emphasis squeezed (`đmmmm`, `fuuuck`), with separators inside a word or
between single letters removed (`d.m.m`, `Đ.M.M`, `đ-m`, `f u c k`), and with `*` standing for a
hidden letter (`c*t`, `f**k`).

The vocabulary has three kinds of entries, because many Vietnamese curse words are ordinary words
once their diacritics are gone (`lồn` / `lớn` / `lon`, `cặc` / `các`, `chó chết` / `chờ chết`,
`đéo` / `đeo`, `ngu` / `ngủ`):

- `_WITH_DIACRITICS`: matched only as written with their diacritics;
- `_ACCENT_FREE`: abbreviations, teencode and phrases that mean nothing else without diacritics
  (`dm`, `vcl`, `clgt`, `djt`, `dit me`), matched on words written without vowel diacritics — a
  writer who put diacritics on them meant other words (`Đó cho mà` is not `do cho ma`);
- `_STEMS`: English roots matched inside a word (`fucking`, `bullshit`).

A word someone disguised (separators, look-alikes, `*`) is an insult in hiding: it is compared with
the accent-free form of every entry, since nobody disguises `lớn` or `các`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from moderation.text import fold


def _entries(listed: str) -> tuple[str, ...]:
    return tuple(e.strip() for e in listed.replace("\n", ",").split(",") if e.strip())


_WITH_DIACRITICS = _entries(
    """
    địt, đụ, lồn, cặc, buồi, đéo, đếch, đĩ, cứt, phò, phắc, đm, đmm, đkm, đcm, đjt, đmcs,
    chó má, đồ chó, thằng chó, chó đẻ, óc chó, óc lợn, óc heo, não chó, não tàn, súc vật, súc sinh,
    khốn nạn, đồ khốn, thằng khốn, lũ khốn, mất dạy, mẹ mày, má mày, bố mày, cha mày, tổ cha, tổ sư,
    tiên sư, mả mẹ, mẹ kiếp, con mẹ nó, con điếm, đồ điếm, thằng ngu, đồ ngu, lũ ngu, bọn ngu, con ngu,
    ngu như, ngu vãi, ngu si, ngu dốt, đồ con lợn, đồ con heo, đồ con chó, đồ con bò, đù má, đậu má,
    vãi l, câm mồm
    """
)
_ACCENT_FREE = _entries(
    """
    dm, dmm, dkm, dcm, dmvl, dmcs, vcl, vkl, vl, clgt, cmm, clm, cmnr, djt, loz, dit,
    dit me, dit ma, dit bo, dit cha, dit cu, dit con me, du ma, du me, do cho ma, oc cho, suc vat,
    khon nan, thang ngu, ngu nhu bo, ngu nhu cho, me kiep,
    wtf, stfu, fck, fuk, fcking, fking, cunt, cunts, dickhead, dumbass, jackass, idiot, idiots, moron,
    morons, faggot, retard, retarded, bastard, bastards, piss off, screw you
    """
)
_STEMS = ("fuck", "shit", "bitch", "asshole", "motherf")
_SQUEEZED_STEMS = ("fuck", "shit", "bitch", "ashole", "motherf")  # as `_squeeze` leaves them
# Single words of `_ACCENT_FREE` that are ordinary words once folded, hence only matched when
# disguised (`d!t`, `d.i.t`) or as part of one of the phrases above.
_DISGUISED_ONLY = frozenset({"dit"})
# The word before an entry that makes it an ordinary phrase ("hạt óc chó": walnuts).
_HARMLESS_AFTER = {"oc cho": frozenset({"qua", "hat", "dau", "sua", "banh"})}
_STEM_EXCEPTIONS = ("shitak",)  # shiitake, squeezed
# Two-letter abbreviations right after a number are units ("5 dm"), not curses.
_UNIT_LIKE = frozenset({"dm", "vl"})

_LOOKALIKE = str.maketrans(
    {
        # Cyrillic and Greek letters that look Latin
        "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "α": "a",
        "β": "b", "ε": "e", "ι": "i", "κ": "k", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
        "ν": "v",
        # invisible characters slipped between letters
        "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None, "\u00ad": None,
    }
)  # fmt: skip
# Digits and symbols standing for letters, inside a word that has letters
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"})  # fmt: skip
_LEET_CHARS = frozenset("013457 8@$!|€".replace(" ", ""))
_INNER_PUNCT = re.compile(r"[.\-_'`~^+=:,/\\]+")
_WORD_EDGE = re.compile(r"^[^\w*@$!|€]+|[^\w*@$!|€]+$")
_LETTERS = re.compile(r"[^\W\d_]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True, slots=True)
class Hit:
    term: str
    word: int  # index of its first word in the reading that found it


@dataclass(frozen=True, slots=True)
class _Word:
    plain: str  # lower-case, diacritics kept, repeated letters squeezed to one
    folded: str  # the same, accent-free
    strict: str  # accent-free, repeats squeezed to two only (`cmm` is not `cm`)
    bare: bool  # written without vowel diacritics (`đ` aside): may be an accent-free entry
    stems: tuple[str, ...]  # the English roots inside it
    disguised: bool = False  # separators, look-alikes or digits were read through
    pattern: re.Pattern[str] | None = None  # `*` hid letters: matched against the folded vocabulary
    after_number: bool = False


@cache
def _fold_char(ch: str) -> str:
    return fold(ch)


def _squeeze(word: str) -> str:
    """Letters repeated for emphasis: a run of one letter (diacritics aside) becomes one."""
    out: list[str] = []
    last = ""
    for ch in word:
        base = _fold_char(ch)
        if base != last:
            out.append(ch)
            last = base
    return "".join(out)


def _squeeze2(word: str) -> str:
    return re.sub(r"(.)\1{2,}", r"\1\1", word)


@lru_cache(maxsize=65536)
def _forms(letters: str) -> tuple[str, str, str, bool, tuple[str, ...]]:
    plain = _squeeze(letters)
    folded = fold(plain)
    stems = (
        () if any(x in folded for x in _STEM_EXCEPTIONS) else tuple(s for s in _SQUEEZED_STEMS if s in folded)
    )
    return plain, folded, fold(_squeeze2(letters)), folded == plain.replace("đ", "d"), stems


def _make(
    letters: str,
    *,
    disguised: bool = False,
    pattern: re.Pattern[str] | None = None,
    after_number: bool = False,
) -> _Word:
    return _Word(*_forms(letters), disguised=disguised, pattern=pattern, after_number=after_number)


# Words that squeezing would turn an entry into: such entries are compared unsqueezed.
_ORDINARY_SQUEEZED = frozenset({"cm"})

Index = dict[str, list[tuple[str, ...]]]


@cache
def _vocabulary() -> tuple[Index, Index, Index, frozenset[str]]:
    """(entries as written, accent-free, accent-free unsqueezed) indexed by their first word; the
    accent-free single words a disguise is compared with."""
    written: Index = {}
    free: Index = {}
    strict: Index = {}
    for index, terms in ((written, _WITH_DIACRITICS), (free, _ACCENT_FREE)):
        for term in terms:
            words = tuple(_squeeze(w) for w in term.split())
            if len(words) == 1 and words[0] in _ORDINARY_SQUEEZED:
                strict.setdefault(term, []).append((term,))
                continue
            index.setdefault(words[0], []).append(words)
            if len(words) > 1:  # teencode runs the words together: "ditme", "địtmẹ"
                joined = _squeeze("".join(words))
                index.setdefault(joined, []).append((joined,))
    disguise = (
        frozenset(fold(_squeeze(t)) for t in (*_WITH_DIACRITICS, *_ACCENT_FREE) if " " not in t)
        - _ORDINARY_SQUEEZED
    )
    assert tuple(_squeeze(s) for s in _STEMS) == _SQUEEZED_STEMS
    return written, free, strict, disguise


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_LOOKALIKE).lower()


@lru_cache(maxsize=65536)
def _word(raw: str, after_number: bool) -> _Word | None:
    """One whitespace-separated word, read through its disguises."""
    core = _WORD_EDGE.sub("", raw).lstrip("*")
    if not _LETTERS.search(core):
        return None
    pattern = None
    if "*" in core:
        body = "".join(".+?" if ch == "*" else re.escape(fold(ch)) for ch in _squeeze(core.translate(_LEET)))
        pattern = re.compile(re.sub(r"(?:\.\+\?)+", ".+?", body))
    letters = core.replace("*", "")
    disguised = pattern is not None
    # digits read as letters only in a word of two letters or more (`sh1t`, `l0n`; not `D1`, `4G`)
    if (
        any(c in _LEET_CHARS for c in letters)
        and sum(c.isalpha() for c in letters) >= 2
        and len(letters) >= 3
    ):
        letters = letters.translate(_LEET)
        disguised = True
    unpunctuated = _INNER_PUNCT.sub("", letters)
    disguised = disguised or unpunctuated != letters
    if not unpunctuated:
        return None
    return _make(unpunctuated, disguised=disguised, pattern=pattern, after_number=after_number)


@lru_cache(maxsize=65536)
def _kind_of(raw: str) -> tuple[bool, bool]:
    """(a number, splitting it on non-letters changes nothing) of a whitespace-separated word."""
    core = raw.strip(".,;:!?()\"'…")
    simple = (len(core) > 1 and core.isalpha()) or not any(c.isalpha() for c in core)
    return bool(_NUMBER.fullmatch(raw.strip(".,;:!?()"))), simple


def _readings(text: str) -> list[list[_Word]]:
    """The text as lists of words: split on spaces (each word read through its disguises); split on
    every non-letter, with runs of single letters joined (`d m m`, `f.u.c.k`)."""
    prepared = _prepare(text)
    by_space: list[_Word] = []
    previous_number = False
    letters_only = True  # every word is letters alone and longer than one: splitting changes nothing
    for raw in prepared.split():
        w = _word(raw, previous_number)
        if w is not None:
            by_space.append(w)
        previous_number, simple = _kind_of(raw)
        letters_only = letters_only and simple
    if letters_only:
        return [by_space]
    by_letter: list[_Word] = []
    run: list[str] = []
    previous_number = False

    def flush() -> None:
        if len(run) > 1:
            by_letter.append(_make("".join(run), disguised=True))
        elif run:
            by_letter.append(_make(run[0], after_number=previous_number))
        run.clear()

    for m in re.finditer(r"[^\W_]+", prepared):
        token = m.group()
        if token.isdigit():
            flush()
            previous_number = True
            continue
        if len(token) == 1:
            run.append(token)
            continue
        flush()
        by_letter.append(_make(token, after_number=previous_number))
        previous_number = False
    flush()
    return [by_space, by_letter]


def _phrase_at(words: list[_Word], i: int, phrase: tuple[str, ...], how: str) -> bool:
    if i + len(phrase) > len(words):
        return False
    for k, part in enumerate(phrase):
        w = words[i + k]
        if how == "plain" and w.plain != part:
            return False
        if how == "folded" and (w.folded != fold(part) or not w.bare):
            return False
    return True


def find(text: str) -> list[Hit]:
    """The abusive words and phrases in `text` (empty for none)."""
    written, free, strict, disguise = _vocabulary()
    found: list[Hit] = []
    for words in _readings(text):
        hits: list[Hit] = []
        for i, w in enumerate(words):
            for phrase in written.get(w.plain, ()):
                if _phrase_at(words, i, phrase, "plain"):
                    hits.append(Hit(" ".join(phrase), i))
            for phrase in strict.get(w.strict, ()):
                if not w.after_number:
                    hits.append(Hit(phrase[0], i))
            for phrase in free.get(w.folded, ()) if w.bare else ():
                if len(phrase) == 1 and phrase[0] in _DISGUISED_ONLY and not w.disguised:
                    continue
                if len(phrase) == 1 and phrase[0] in _UNIT_LIKE and w.after_number:
                    continue
                if _phrase_at(words, i, phrase, "folded"):
                    hits.append(Hit(" ".join(phrase), i))
            hits.extend(Hit(stem, i) for stem in w.stems)
            if w.pattern is not None:
                hits.extend(Hit(t, i) for t in sorted(disguise) if w.pattern.fullmatch(t))
            elif w.disguised and w.folded in disguise:
                hits.append(Hit(w.folded, i))
        hits = [
            h
            for h in hits
            if not (h.word and words[h.word - 1].folded in _HARMLESS_AFTER.get(fold(h.term), ()))
        ]
        found.extend(hits)
    return found
