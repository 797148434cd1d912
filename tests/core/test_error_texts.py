"""Every error the API can answer has a Vietnamese text: found in the source, not listed by hand.

Raises are collected from the syntax tree: each call of `AppError` (or a subclass) and `MediaError`,
and each call of a helper that passes one of its parameters on as the Vietnamese text. Tables of
texts (framework errors, media refusals, the decoder's sentences) are walked too.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

import msgspec
import pytest

from api.core import errors, messages
from media import texts, uploads

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "media", "push", "moderation", "geo")
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)
BASES = {"AppError"}
MEDIA = "MediaError"


@dataclass
class Site:
    where: str
    code: str
    vi: ast.expr | None


def _name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _text(node: ast.expr | None) -> str | None:
    """The literal part of a string or f-string (None: not a literal)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    return None


def _trees() -> list[tuple[Path, ast.Module]]:
    return [
        (p, ast.parse(p.read_text(encoding="utf-8")))
        for pkg in PACKAGES
        for p in sorted((ROOT / pkg).rglob("*.py"))
    ]


def _error_classes(trees: list[tuple[Path, ast.Module]]) -> dict[str, str]:
    """AppError and its subclasses → their default code."""
    classes: dict[str, str] = {"AppError": "bad_request"}
    changed = True
    while changed:
        changed = False
        for _, tree in trees:
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef) or node.name in classes:
                    continue
                if any(isinstance(b, ast.Name) and b.id in classes for b in node.bases):
                    code = next(
                        (
                            s.value.value
                            for s in node.body
                            if isinstance(s, ast.Assign)
                            and any(isinstance(t, ast.Name) and t.id == "code" for t in s.targets)
                            and isinstance(s.value, ast.Constant)
                        ),
                        classes[
                            next(b.id for b in node.bases if isinstance(b, ast.Name) and b.id in classes)
                        ],
                    )
                    classes[node.name] = str(code)
                    changed = True
    return classes


def _arg(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return call.args[index] if len(call.args) > index else None


def _own_texts(trees: list[tuple[Path, ast.Module]], classes: dict[str, str]) -> tuple[set[str], list[Site]]:
    """Error classes that write their texts in their own `__init__`: their names (a call of one
    passes no text), and their `super().__init__(…)` calls, which are checked instead."""
    names: set[str] = set()
    sites: list[Site] = []
    for path, tree in trees:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ClassDef) and node.name in classes) or node.name in BASES:
                continue
            init = next(
                (f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None
            )
            if init is None:
                continue
            names.add(node.name)
            for call in ast.walk(init):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "__init__"
                    and isinstance(call.func.value, ast.Call)
                    and _name(call.func.value) == "super"
                ):
                    code = _text(_arg(call, 99, "code")) or classes[node.name]
                    vi = _arg(call, 99, "message_vi")
                    sites.append(Site(f"{path.relative_to(ROOT)}:{call.lineno}", code, vi))
    return names, sites


def _sites() -> list[Site]:
    trees = _trees()
    classes = _error_classes(trees)
    self_texted, sites = _own_texts(trees, classes)
    # (file, helper name) → (position, keyword, code) of the parameter it passes on as the Vietnamese text
    helpers: dict[tuple[str, str], tuple[int, str, str | None]] = {}
    defined: dict[str, set[str]] = {}
    for path, tree in trees:
        where = str(path.relative_to(ROOT))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            defined.setdefault(where, set()).add(fn.name)
            params = [a.arg for a in fn.args.args]
            for call in ast.walk(fn):
                if not isinstance(call, ast.Call):
                    continue
                name = _name(call)
                if name in self_texted:
                    continue  # its texts are in its own __init__, checked there
                if name in classes:
                    vi, code_node = _arg(call, 99, "message_vi"), _arg(call, 99, "code")
                    default = classes[name]
                elif name == MEDIA:
                    vi, code_node, default = _arg(call, 2, "message_vi"), _arg(call, 0, "code"), "?"
                else:
                    continue
                code = _text(code_node) if code_node is not None else default
                if isinstance(vi, ast.Name) and vi.id in params:
                    helpers[(where, fn.name)] = (params.index(vi.id), vi.id, code)
                    continue
                if isinstance(vi, ast.Attribute) and vi.attr == "message_vi":
                    continue  # an error raised elsewhere, passed on
                if isinstance(vi, ast.Name):
                    continue  # unpacked from a table of texts: the tables are checked below
                sites.append(Site(f"{where}:{call.lineno}", code or "?", vi))

    def helper_of(where: str, name: str | None) -> tuple[int, str, str | None] | None:
        if name is None:
            return None
        if (where, name) in helpers:
            return helpers[(where, name)]
        if name.startswith("_") or name in defined.get(where, set()):
            return None  # a private helper is called in its own module only
        return next((h for (_, n), h in helpers.items() if n == name), None)

    for path, tree in trees:
        where = str(path.relative_to(ROOT))
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            helper = helper_of(where, _name(call))
            if helper is None:
                continue
            index, keyword, code = helper
            vi = _arg(call, index, keyword)
            if isinstance(vi, ast.Name):
                continue  # a helper handing its own parameter on: its callers are walked too
            sites.append(Site(f"{where}:{call.lineno}", code or _text(_arg(call, 0, "code")) or "?", vi))
    return sites


SITES = _sites()


def test_the_walk_finds_the_raises() -> None:
    codes = {s.code for s in SITES}
    assert len(SITES) > 100
    assert {"report_not_found", "invalid_answers", "media_rejected", "invalid_blur_boxes"} <= codes


@pytest.mark.parametrize("site", SITES, ids=lambda s: f"{s.code}@{s.where}")
def test_every_raise_has_vietnamese(site: Site) -> None:
    text = _text(site.vi)
    assert text is not None, f"{site.where}: {site.code} has no Vietnamese text (message_vi)"
    assert VIETNAMESE.search(text), f"{site.where}: {site.code}'s message_vi is not Vietnamese: {text!r}"


def test_tables_of_texts_are_vietnamese() -> None:
    rows: list[tuple[object, str]] = [(c, vi) for c, (_, _, vi) in errors._HTTP_CODES.items()]
    rows += [(errors._INVALID[0], errors._INVALID[2]), (errors._INTERNAL[0], errors._INTERNAL[2])]
    rows += [(r, vi) for r, (_, vi) in texts.PLAIN.items()]
    rows += [(r, vi) for r, (_, vi) in texts.WITH_FIGURES.items()]
    for code, vi in rows:
        assert VIETNAMESE.search(vi), (code, vi)
    # a refusal with figures also has a plain sentence (rows kept before the figures were), and every
    # refusal of an upload's completion has its texts
    assert set(texts.WITH_FIGURES) <= set(texts.PLAIN)
    assert set(uploads._REFUSALS) <= set(texts.PLAIN)


def test_decoder_refusal_reasons_have_texts() -> None:
    """Each reason the decoder can give (a `Refused("…")` in media/process) has its sentences."""
    reasons: set[str] = set()
    for p in (ROOT / "media" / "process").rglob("*.py"):
        for call in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(call, ast.Call) and _name(call) in ("Refused", "Processed"):
                node = call.args[0] if call.args and _name(call) == "Refused" else _arg(call, 99, "reason")
                if _text(node) is not None:
                    reasons.add(str(_text(node)))
    assert "too_long" in reasons and "polyglot" in reasons
    assert reasons <= set(texts.PLAIN), reasons - set(texts.PLAIN)


class Rich(msgspec.Struct, forbid_unknown_fields=True):
    a: int
    b: Annotated[str, msgspec.Meta(min_length=2, max_length=3, pattern="^[a-z]+$")] = "ab"
    c: Annotated[float, msgspec.Meta(ge=0, le=5)] = 1
    d: Literal["x", "y"] = "x"
    e: Annotated[list[int], msgspec.Meta(min_length=1, max_length=1)] = msgspec.field(
        default_factory=lambda: [1]
    )
    f: UUID | None = None
    g: date | None = None
    h: datetime | None = None
    i: Annotated[int, msgspec.Meta(gt=0, lt=5)] = 1


def _decoder_sentences() -> list[str]:
    """What msgspec says about bodies that do not fit, as the API passes it on."""

    bodies = [
        "{}",
        '{"a":"x"}',
        '{"a":1,"b":"abcd"}',
        '{"a":1,"b":"a"}',
        '{"a":1,"b":"AB"}',
        '{"a":1,"c":6}',
        '{"a":1,"c":-1}',
        '{"a":1,"d":"z"}',
        '{"a":1,"e":[]}',
        '{"a":1,"e":[1,2]}',
        '{"a":1,"f":"zz"}',
        '{"a":1,"g":"zz"}',
        '{"a":1,"h":"zz"}',
        '{"a":1,"z":1}',
        '{"a":',
        "[1]",
        '{"a":1,"i":0}',
        '{"a":null}',
        '{"a":1,"f":3}',
        "{,}",
    ]
    out = []
    for body in bodies:
        try:
            msgspec.json.decode(body, type=Rich)
        except msgspec.DecodeError as exc:
            out.append(errors.validation_problem(exc, source="body")["message"])
    return out


@pytest.mark.parametrize("sentence", _decoder_sentences())
def test_decoder_sentences_have_vietnamese(sentence: str) -> None:
    vi = messages.validation_vi(sentence)
    assert vi != messages.FALLBACK_VI, f"no Vietnamese for {sentence!r}"
    assert VIETNAMESE.search(vi), vi


def test_framework_parameter_sentences() -> None:
    vi = messages.validation_vi("Missing required query parameter 'lat' for path /v1/areas/lookup")
    assert vi == "Thiếu tham số bắt buộc `lat` trên URL."
    assert messages.validation_vi("Ô nhiễm tiếng ồn") == "Ô nhiễm tiếng ồn"  # ours, already Vietnamese
