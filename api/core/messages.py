"""Vietnamese for the sentences that come from libraries rather than from our own raises.

The body decoder (msgspec) and the framework (Litestar) explain a refused field in English; a
resident's app shows `details[].message` as it is, so each such sentence is turned into Vietnamese
here, in one table. Our own errors carry their Vietnamese text where they are raised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# JSON / Python type names as msgspec writes them → what a resident understands
_TYPES = {
    "int": "số nguyên",
    "float": "số",
    "str": "chuỗi ký tự",
    "bool": "true hoặc false",
    "null": "null",
    "array": "danh sách",
    "object": "đối tượng JSON",
    "uuid": "mã UUID",
    "datetime": "thời điểm (RFC 3339)",
    "date": "ngày (YYYY-MM-DD)",
    "bytes": "dữ liệu nhị phân",
}


def _type(name: str) -> str:
    return " hoặc ".join(_TYPES.get(part.strip(), part.strip()) for part in name.split("|"))


def _length(kind: str, op: str, n: str) -> str:
    unit = "ký tự" if kind == "str" else "phần tử"
    bound = "tối đa" if op == "<=" else "ít nhất"
    return f"Cần {bound} {n} {unit}."


_BOUND = {"<=": "không lớn hơn", ">=": "không nhỏ hơn", "<": "nhỏ hơn", ">": "lớn hơn"}

# (pattern on the English sentence, Vietnamese built from its groups); first match wins
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^Object missing required field `(.+)`$"),
        lambda m: f"Thiếu trường bắt buộc `{m[1]}`.",
    ),
    (
        re.compile(r"^Object contains unknown field `(.+)`$"),
        lambda m: f"Trường `{m[1]}` không được hỗ trợ.",
    ),
    (
        re.compile(r"^Expected `(\w+)` of length (<=|>=) (\d+)$"),
        lambda m: _length(m[1], m[2], m[3]),
    ),
    (
        re.compile(r"^Expected `str` matching regex (.+)$"),
        lambda m: f"Giá trị không đúng định dạng (mẫu {m[1]}).",
    ),
    (
        re.compile(r"^Expected `(int|float)` (<=|>=|<|>) (\S+)$"),
        lambda m: f"Giá trị phải {_BOUND[m[2]]} {m[3]}.",
    ),
    (
        re.compile(r"^Expected `(.+)`, got `(.+)`$"),
        lambda m: f"Cần {_type(m[1])}, nhận được {_type(m[2])}.",
    ),
    (
        re.compile(r"^Invalid enum value (.+)$"),
        lambda m: f"Giá trị {m[1]} không nằm trong danh sách cho phép.",
    ),
    (re.compile(r"^Invalid UUID$"), lambda m: "Mã UUID không hợp lệ."),
    (
        re.compile(r"^Invalid RFC3339 encoded (date|datetime|time)$"),
        lambda m: {
            "date": "Ngày không hợp lệ (YYYY-MM-DD).",
            "datetime": "Thời điểm không hợp lệ (RFC 3339).",
            "time": "Giờ không hợp lệ.",
        }[m[1]],
    ),
    (re.compile(r"^Input data was truncated$"), lambda m: "Dữ liệu JSON bị cắt cụt."),
    (re.compile(r"^JSON is malformed"), lambda m: "Dữ liệu JSON sai cú pháp."),
    (re.compile(r"^Invalid base64 encoded string$"), lambda m: "Chuỗi base64 không hợp lệ."),
    (
        re.compile(r"^Missing required (header|query|path|cookie) parameter '?([^' ]+)'?"),
        lambda m: (
            f"Thiếu tham số bắt buộc `{m[2]}`"
            + {"header": " trong tiêu đề", "query": " trên URL", "path": " trong đường dẫn", "cookie": ""}[
                m[1]
            ]
            + "."
        ),
    ),
    (re.compile(r"^Missing required"), lambda m: "Thiếu dữ liệu bắt buộc."),
]

FALLBACK_VI = "Giá trị không hợp lệ."


def validation_vi(message: str) -> str:
    """The Vietnamese for one decoder/framework sentence (a general one when it is not known)."""
    text = message.strip().rstrip(".")
    for pattern, build in _RULES:
        m = pattern.match(text)
        if m:
            return build(m)
    # a sentence of our own, already written in Vietnamese, stays
    return message if not message.isascii() else FALLBACK_VI


def localise_problems(problems: Any) -> Any:
    """`validation_error` details (`[{"message", "key", "source"}]`) with the messages in Vietnamese."""
    if not isinstance(problems, list):
        return problems
    return [
        {**p, "message": validation_vi(p["message"])}
        if isinstance(p, dict) and isinstance(p.get("message"), str)
        else p
        for p in problems
    ]
