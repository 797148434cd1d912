"""The public pages' HTML: small, no script, one inline style sheet, every value escaped.

`fill` is the one way a value enters a page: it escapes whatever it is given unless it is `Markup`
(HTML this module made). Templates are constants here; nothing a resident wrote is ever a template.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from api.core import clock
from api.core.status import WORDS as STATUS_WORDS
from api.pages.schemas import WardFigures, WardTable
from api.pages.service import SORTS
from api.reports.views import ReportView, TimelineEntry


class Markup(str):
    """HTML made by this module: `fill` puts it in as is."""


def esc(value: Any) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def fill(template: str, **values: Any) -> Markup:
    """`template` (a constant of this module) with `{name}` replaced by each value, escaped."""
    return Markup(template.format_map({k: esc(v) for k, v in values.items()}))


def join(parts: Iterable[Markup]) -> Markup:
    return Markup("".join(esc(p) for p in parts))


# (vi, en)
STATUS: dict[str, tuple[str, str]] = {str(k): v for k, v in STATUS_WORDS.items()}
EVENT: dict[str, tuple[str, str]] = {
    "created": ("Người dân gửi phản ánh", "Reported by a resident"),
    "edited": ("Người gửi sửa nội dung", "Edited by the reporter"),
    "acknowledged": ("Đã tiếp nhận", "Acknowledged"),
    "started": ("Bắt đầu xử lý", "Work started"),
    "resolved": ("Đã xử lý xong", "Resolved"),
    "rejected": ("Không được xử lý", "Declined"),
    "transferred": ("Chuyển nơi xử lý", "Passed on"),
    "merged": ("Gộp phản ánh", "Merged"),
    "assigned": ("Giao cán bộ xử lý", "Assigned"),
    "commented": ("Phản hồi", "Reply"),
    "reopened": ("Mở lại", "Reopened"),
    "confirmed": ("Người gửi xác nhận đã xử lý", "Fix confirmed by the reporter"),
    "closed": ("Đã hoàn tất", "Closed"),
    "rated": ("Người gửi đánh giá", "Rated by the reporter"),
}
# why a case was rejected or passed on (api/casework/states.py); a resident's reason is free text
REASON: dict[str, tuple[str, str]] = {
    "not_actionable": ("Không có việc cần xử lý", "Nothing to act on"),
    "not_our_competence": (
        "Ngoài thẩm quyền của chính quyền địa phương",
        "Outside the local authority's remit",
    ),
    "insufficient_information": ("Thiếu thông tin", "Not enough information"),
    "already_handled": ("Đã được xử lý trước đó", "Already handled"),
    "false_report": ("Phản ánh không đúng sự thật", "Not a true report"),
    "inappropriate_content": ("Nội dung không phù hợp", "Inappropriate content"),
    "wrong_location": ("Sai vị trí", "Wrong location"),
    "wrong_ward": ("Không thuộc phường/xã này", "Another ward's"),
    "boundary": ("Khu vực giáp ranh", "On a boundary"),
    "agency": ("Thuộc đơn vị chuyên trách", "A utility's or agency's"),
    "other": ("Lý do khác", "Other reason"),
}
WORDS: dict[str, tuple[str, str]] = {
    "site": ("Phản Ánh", "Phản Ánh"),
    "report": ("Phản ánh", "Report"),
    "ward": ("Phường/xã", "Ward"),
    "status": ("Trạng thái", "Status"),
    "sent": ("Gửi lúc", "Sent"),
    "where": ("Địa chỉ", "Address"),
    "followers": ("người quan tâm", "following"),
    "timeline": ("Diễn biến", "Timeline"),
    "rating": ("Người gửi đánh giá", "The reporter's rating"),
    "photos": ("Hình ảnh", "Photos"),
    "photo": ("Ảnh hiện trường (đã làm mờ mặt người và biển số)", "Photo (faces and plates blurred)"),
    "overdue": ("Quá hạn xử lý", "Overdue"),
    "from_report": ("từ phản ánh", "from report"),
    "table": ("Bảng xếp hạng phường/xã", "Wards league table"),
    "switch": ("English", "Tiếng Việt"),
    "not_found": ("Không tìm thấy phản ánh", "Report not found"),
    "not_found_text": (
        "Mã phản ánh không đúng, hoặc phản ánh chưa được công khai.",
        "The code is wrong, or the report is not public.",
    ),
    "bad_request": ("Yêu cầu không hợp lệ", "Bad request"),
    "area_not_found": ("Không tìm thấy địa bàn", "Area not found"),
    "period": ("Thời gian", "Period"),
    "area": ("Địa bàn", "Area"),
    "show": ("Xem", "Show"),
    "from": ("Từ ngày", "From"),
    "to": ("Đến ngày", "To"),
    "name": ("Phường/xã", "Ward"),
    "received": ("Tiếp nhận", "Received"),
    "open": ("Đang mở", "Open"),
    "on_time_pct": ("Đúng hạn (%)", "On time (%)"),
    "median_days_to_resolve": ("Số ngày xử lý (trung vị)", "Median days to resolve"),
    "reopen_rate": ("Mở lại (%)", "Reopened (%)"),
    "mean_rating": ("Đánh giá (1–5)", "Rating (1–5)"),
    "table_note": (
        "Tính trên các phản ánh công khai gửi trong khoảng thời gian. Đúng hạn: trong số phản ánh đã xử lý, "
        "tỷ lệ xử lý trước hạn. Mở lại: trong số phản ánh đã xử lý, tỷ lệ bị mở lại. “–”: chưa có số liệu.",
        "Over the public reports received in the period. On time: of the reports resolved, the share "
        "resolved by their deadline. Reopened: of the reports resolved, the share reopened. “–”: no data.",
    ),
    "json": ("Dữ liệu JSON", "JSON data"),
}

CSS = (
    "body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}"
    "header,main,footer{max-width:52rem;margin:0 auto;padding:.6rem .9rem}"
    "header{display:flex;justify-content:space-between;border-bottom:1px solid #ddd}"
    "a{color:#0b57a4}h1{font-size:1.35rem;margin:.4rem 0}h2{font-size:1.1rem;margin:1rem 0 .3rem}"
    ".st{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;background:#e3eefa}"
    ".od{background:#fde2e1}.mu{color:#555;font-size:.9rem}.ds{white-space:pre-wrap}"
    "ol{padding-left:1.2rem}li{margin:.3rem 0}img{max-width:100%;height:auto;border-radius:.3rem}"
    ".ph{display:flex;flex-wrap:wrap;gap:.4rem}.ph a{flex:0 1 10rem}"
    ".tw{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.92rem}"
    "th,td{padding:.3rem .4rem;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}th a{text-decoration:none}"
    "form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}label{display:flex;flex-direction:column}"
)

PAGE = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">'
    "<title>{title}</title>{head}<style>{css}</style></head><body>"
    '<header><a href="/transparency{lang_q}">{site}</a><a href="{switch_href}" hreflang="{other}">{switch}</a>'
    "</header><main>{main}</main></body></html>"
)


def word(key: str, english: bool) -> str:
    vi, en = WORDS[key]
    return en if english else vi


def _lang_q(english: bool) -> str:
    return "?lang=en" if english else ""


def page(
    *, title: str, main: Markup, english: bool, path: str, query: dict[str, str], head: Markup | None = None
) -> bytes:
    """A whole page; `path` and `query` make the link to the same page in the other language."""
    other = {**query, "lang": "vi" if english else "en"}
    return fill(
        PAGE,
        lang="en" if english else "vi",
        title=title,
        head=head or Markup(""),
        css=Markup(CSS),
        lang_q=_lang_q(english),
        site=word("site", english),
        switch_href=f"{path}?{urlencode(other)}",
        other="vi" if english else "en",
        switch=word("switch", english),
        main=main,
    ).encode()


def _when(at: datetime, english: bool) -> str:
    local = clock.to_local(at)
    return local.strftime("%Y-%m-%d %H:%M") if english else local.strftime("%H:%M %d/%m/%Y")


def _day(d: date, english: bool) -> str:
    return d.isoformat() if english else d.strftime("%d/%m/%Y")


def _pick(table: dict[str, tuple[str, str]], key: str, english: bool) -> str:
    pair = table.get(key)
    return key if pair is None else (pair[1] if english else pair[0])


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# --- a report -------------------------------------------------------------------------------------------


def photo_path(code: str, m: dict[str, Any], size: str) -> str:
    """The photo's lasting address (GET /r/{code}/photo/{id}/{size}): its rendition's own link expires."""
    return f"/r/{code}/photo/{m['id']}/{size if size in m['renditions'] else next(iter(m['renditions']))}"


def report_page(view: ReportView, *, english: bool, url: str, base_url: str) -> bytes:
    title = f"{view.category.name} · {view.ward.name} · {view.code}"
    photos = [m for m in view.media if m.get("kind") == "photo" and m.get("renditions")]
    image = base_url + photo_path(view.code, photos[0], "large") if photos else None
    head = join(
        [
            fill('<meta property="og:type" content="article">'),
            fill('<meta property="og:title" content="{v}">', v=title),
            fill('<meta property="og:description" content="{v}">', v=_clip(view.description, 200)),
            fill('<meta name="description" content="{v}">', v=_clip(view.description, 200)),
            fill('<meta property="og:url" content="{v}">', v=url),
            fill('<meta property="og:locale" content="{v}">', v="en_US" if english else "vi_VN"),
            fill('<meta property="og:image" content="{v}">', v=image) if image else Markup(""),
            fill('<link rel="canonical" href="{v}">', v=url),
        ]
    )
    status = fill(
        '<span class="st{od}">{s}</span>',
        od=" od" if view.due.overdue else "",
        s=_pick(STATUS, view.status, english)
        + (f" · {word('overdue', english)}" if view.due.overdue else ""),
    )
    parts = [
        fill(
            '<p class="mu">{report} {code}</p><h1>{cat}</h1><p>{status}</p>',
            report=word("report", english),
            code=view.code,
            cat=view.category.name,
            status=status,
        ),
        fill('<p class="ds">{d}</p>', d=view.description),
    ]
    facts = [
        fill("<li>{k}: {v}</li>", k=word("ward", english), v=view.ward.name),
        fill("<li>{k}: {v}</li>", k=word("sent", english), v=_when(view.created_at, english)),
    ]
    if view.address:
        facts.insert(0, fill("<li>{k}: {v}</li>", k=word("where", english), v=view.address))
    facts.append(fill("<li>{n} {w}</li>", n=view.follower_count, w=word("followers", english)))
    if view.rating:
        facts.append(fill("<li>{k}: {n}/5</li>", k=word("rating", english), n=view.rating))
        if view.rating_comment:  # the public's reading (masked; none while held)
            facts.append(fill('<li class="ds">“{c}”</li>', c=view.rating_comment))
    parts.append(fill('<ul class="mu">{f}</ul>', f=join(facts)))
    if photos:
        parts.append(fill("<h2>{h}</h2>", h=word("photos", english)))
        parts.append(fill('<div class="ph">{p}</div>', p=join(_photo(view.code, m, english) for m in photos)))
    parts.append(
        fill(
            "<h2>{h}</h2><ol>{items}</ol>",
            h=word("timeline", english),
            items=join(_event(e, english) for e in view.timeline),
        )
    )
    return page(
        title=title,
        main=join(parts),
        english=english,
        path=f"/r/{view.code}",
        query={},
        head=head,
    )


def _photo(code: str, m: dict[str, Any], english: bool) -> Markup:
    alt = word("photo", english)
    if m.get("from_report"):
        alt += f" ({word('from_report', english)} {m['from_report']})"
    return fill(
        '<a href="{large}"><img src="{small}" alt="{alt}" loading="lazy"></a>',
        large=photo_path(code, m, "large"),
        small=photo_path(code, m, "thumb"),
        alt=alt,
    )


def _event(e: TimelineEntry, english: bool) -> Markup:
    text = [fill("<b>{what}</b>", what=_pick(EVENT, e.kind, english))]
    if e.message:
        text.append(fill('<br><span class="ds">{m}</span>', m=e.message))
    if e.reason:
        text.append(fill('<br><span class="mu">{r}</span>', r=_pick(REASON, e.reason, english)))
    return fill(
        '<li><span class="mu">{when}</span> · {text}</li>', when=_when(e.created_at, english), text=join(text)
    )


def message_page(key: str, text_key: str | None, *, english: bool, path: str) -> bytes:
    """A plain page saying what went wrong (404, 400)."""
    main = fill("<h1>{h}</h1><p>{t}</p>", h=word(key, english), t=word(text_key, english) if text_key else "")
    return page(title=word(key, english), main=main, english=english, path=path, query={})


def error_page(title: str, message: str, *, english: bool, path: str, query: dict[str, str]) -> bytes:
    main = fill(
        '<h1>{h}</h1><p>{t}</p><p><a href="{back}">{table}</a></p>',
        h=title,
        t=message,
        back="/transparency" + _lang_q(english),
        table=word("table", english),
    )
    return page(title=title, main=main, english=english, path=path, query=query)


# --- the league table -------------------------------------------------------------------------------------


def _cell(f: WardFigures, column: str) -> str:
    value = getattr(f, column)
    if value is None:
        return "–"
    if column == "reopen_rate":
        return f"{value * 100:.1f}"
    if isinstance(value, float):
        return f"{value:.1f}" if column != "mean_rating" else f"{value:.2f}"
    return str(value)


def table_page(t: WardTable, *, english: bool, query: dict[str, str]) -> bytes:
    base = {k: v for k, v in query.items() if k in ("area", "from", "to", "lang") and v}
    title = f"{word('table', english)} · {t.area.name}"
    heads = []
    for col in SORTS:
        flip = "desc" if (t.sort == col and t.dir == "asc") or (t.sort != col and col != "name") else "asc"
        mark = ("▲" if t.dir == "asc" else "▼") if t.sort == col else ""
        href = "/transparency?" + urlencode({**base, "sort": col, "dir": flip})
        heads.append(
            fill(
                '<th scope="col"{aria}><a href="{href}">{label}{mark}</a></th>',
                aria=Markup(
                    f' aria-sort="{"ascending" if t.dir == "asc" else "descending"}"' if t.sort == col else ""
                ),
                href=href,
                label=word(col, english),
                mark=mark,
            )
        )
    # a row per ward: end tags HTML lets one leave out are left out (a city has hundreds of wards)
    rows = [
        fill(
            "<tr><th>{name}</th>{cells}",
            name=f.name,
            cells=join(fill("<td>{v}", v=_cell(f, c)) for c in SORTS[1:]),
        )
        for f in t.wards
    ]
    form = fill(
        '<form method="get" action="/transparency">{hidden}'
        '<label>{from_l}<input type="date" name="from" value="{from_v}"></label>'
        '<label>{to_l}<input type="date" name="to" value="{to_v}"></label>'
        "<button>{show}</button></form>",
        hidden=join(
            fill('<input type="hidden" name="{k}" value="{v}">', k=k, v=v)
            for k, v in {
                **{k: v for k, v in base.items() if k in ("area", "lang")},
                "sort": t.sort,
                "dir": t.dir,
            }.items()
        ),
        from_l=word("from", english),
        to_l=word("to", english),
        from_v=t.date_from.isoformat(),
        to_v=t.date_to.isoformat(),
        show=word("show", english),
    )
    json_q = urlencode(
        {
            k: v
            for k, v in {
                "area": t.area.code or "",
                "from": t.date_from.isoformat(),
                "to": t.date_to.isoformat(),
            }.items()
            if v
        }
    )
    main = join(
        [
            fill(
                "<h1>{h}</h1><p>{area}: <b>{a}</b> · {period}: {f} – {to}</p>",
                h=word("table", english),
                area=word("area", english),
                a=t.area.name,
                period=word("period", english),
                f=_day(t.date_from, english),
                to=_day(t.date_to, english),
            ),
            form,
            fill(
                '<div class="tw"><table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table></div>',
                heads=join(heads),
                rows=join(rows),
            ),
            fill(
                '<p class="mu">{note} <a href="/v1/public/wards?{q}">{json}</a></p>',
                note=word("table_note", english),
                q=json_q,
                json=word("json", english),
            ),
        ]
    )
    return page(title=title, main=main, english=english, path="/transparency", query=query)
