"""Open311's two formats, chosen by the URL's suffix: JSON, and the XML the spec requires."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import msgspec

JSON, XML = "application/json", "text/xml"
MEDIA_TYPES = {"json": JSON, "xml": XML}


def split_suffix(name: str) -> tuple[str, str] | None:
    """("services", "json") from "services.json"; None without a known suffix."""
    stem, dot, fmt = name.rpartition(".")
    return (stem, fmt) if dot and stem and fmt in MEDIA_TYPES else None


def render(fmt: str, root: str, item: str, body: Any) -> bytes:
    """JSON as is; XML as <root><item>…</item>…</root> for a list, <root>fields…</root> for a dict."""
    if fmt == "json":
        return msgspec.json.encode(body)
    inner = (
        _element(root, body)
        if isinstance(body, dict)
        else f"<{root}>{''.join(_element(item, v) for v in body)}</{root}>"
    )
    return ('<?xml version="1.0" encoding="utf-8"?>' + inner).encode()


def _element(tag: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_element(k, v) for k, v in value.items()) + f"</{tag}>"
    if isinstance(value, list):
        # the spec's nesting: <attributes><attribute>…</attribute></attributes>, <values><value>…
        child = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
        return f"<{tag}>" + "".join(_element(child.get(tag, "item"), v) for v in value) + f"</{tag}>"
    if isinstance(value, bool):
        return f"<{tag}>{'true' if value else 'false'}</{tag}>"
    return f"<{tag}>{escape('' if value is None else str(value))}</{tag}>"
