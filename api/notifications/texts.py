"""What a notification says, in Vietnamese and English. Short: a lock screen shows ~40 characters
of title and ~120 of body."""

from __future__ import annotations

from datetime import datetime

from api.core import clock
from push import Text

TITLE_MAX = 50
BODY_MAX = 140
QUOTE_MAX = 100


def clip(s: str | None, n: int) -> str:
    s = " ".join((s or "").split())
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


# (vi title, vi body, en title, en body); {code} {message} {reason} {into} {ward} {category} {when}
# {waiting}
RESIDENT: dict[str, tuple[str, str, str, str]] = {
    "acknowledged": (
        "Đã tiếp nhận phản ánh",
        "{code}: phản ánh của bạn đã được tiếp nhận.",
        "Report received",
        "{code}: your report has been taken up.",
    ),
    "started": (
        "Đang xử lý",
        "{code}: cán bộ đang xử lý phản ánh.",
        "In progress",
        "{code}: officers are working on it.",
    ),
    "resolved": (
        "Đã xử lý xong",
        "{code}: {message}",
        "Resolved",
        "{code}: {message}",
    ),
    "rejected": (
        "Phản ánh không được xử lý",
        "{code}: {reason}",
        "Report declined",
        "{code}: {reason}",
    ),
    "merged": (
        "Đã gộp phản ánh",
        "{code} được gộp vào {into}.",
        "Report merged",
        "{code} was merged into {into}.",
    ),
    "transferred": (
        "Đã chuyển nơi xử lý",
        "{code} được chuyển cho {ward}.",
        "Passed on",
        "{code} was passed to {ward}.",
    ),
    "commented": (
        "Phản hồi mới",
        "{code}: {message}",
        "New reply",
        "{code}: {message}",
    ),
    "reopened": (
        "Phản ánh được mở lại",
        "{code} đã được mở lại.",
        "Report reopened",
        "{code} has been reopened.",
    ),
    "closed": (
        "Đã đóng phản ánh",
        "{code} đã hoàn tất. Cảm ơn bạn!",
        "Report closed",
        "{code} is closed. Thank you!",
    ),
    "on_hold": (
        "Tạm dừng chờ xử lý",
        "{code}: đang chờ {waiting}. {message}",
        "On hold",
        "{code}: waiting for {waiting}. {message}",
    ),
    "resumed": (
        "Tiếp tục xử lý",
        "{code}: cán bộ tiếp tục xử lý phản ánh.",
        "Work resumed",
        "{code}: officers are working on it again.",
    ),
}

# What a case on hold waits for (api.casework.states.HOLD_REASONS), in each language.
WAITING: dict[str, tuple[str, str]] = {
    "waiting_agency": ("cơ quan khác phối hợp", "another agency"),
    "waiting_resident": ("thông tin bổ sung từ bạn", "more information from you"),
}

# Fallbacks when the event carries no message / reason.
DEFAULT_MESSAGE = ("Vấn đề đã được xử lý. Hãy xác nhận giúp chúng tôi.", "Fixed. Please confirm it.")
DEFAULT_REASON = ("Xem chi tiết trong ứng dụng.", "See the app for details.")

OFFICER: dict[str, tuple[str, str, str, str]] = {
    "created": (
        "Phản ánh mới",
        "{code}: {category}, {ward}",
        "New report",
        "{code}: {category}, {ward}",
    ),
    "transferred": (
        "Phản ánh chuyển đến",
        "{code}: {category}, chuyển đến {ward}",
        "Report passed to you",
        "{code}: {category}, now with {ward}",
    ),
    "reopened": (
        "Phản ánh bị mở lại",
        "{code}: người dân chưa hài lòng, cần xử lý lại.",
        "Report reopened",
        "{code}: the resident is not satisfied.",
    ),
    "ack_near": (
        "Sắp quá hạn tiếp nhận",
        "{code}: hạn tiếp nhận {when}.",
        "Acknowledge soon",
        "{code}: acknowledge by {when}.",
    ),
    "ack_passed": (
        "Quá hạn tiếp nhận",
        "{code}: đã quá hạn tiếp nhận ({when}).",
        "Acknowledgement overdue",
        "{code}: was due {when}.",
    ),
    "resolve_near": (
        "Sắp quá hạn xử lý",
        "{code}: hạn xử lý {when}.",
        "Resolve soon",
        "{code}: resolve by {when}.",
    ),
    "resolve_passed": (
        "Quá hạn xử lý",
        "{code}: đã quá hạn xử lý ({when}).",
        "Resolution overdue",
        "{code}: was due {when}.",
    ),
}


# To leaders, about a case in their area past a deadline; {code}, {ward}, {category}, {when}.
LEADER: dict[str, tuple[str, str, str, str]] = {
    "ack_overdue": (
        "Phản ánh quá hạn tiếp nhận",
        "{code} ({ward}, {category}): chưa được tiếp nhận, hạn {when}.",
        "Report not acknowledged in time",
        "{code} ({ward}, {category}): was to be acknowledged by {when}.",
    ),
    "resolve_overdue": (
        "Phản ánh quá hạn xử lý",
        "{code} ({ward}, {category}): chưa xử lý xong, hạn {when}.",
        "Report not resolved in time",
        "{code} ({ward}, {category}): was to be resolved by {when}.",
    ),
}


# To moderators, about text waiting for review longer than PHANANH_REVIEW_ALERT_MIN; {minutes}.
MODERATOR: dict[str, tuple[str, str, str, str]] = {
    "review_report": (
        "Phản ánh chờ duyệt",
        "{code}: chờ kiểm duyệt đã hơn {minutes} phút.",
        "Report awaiting review",
        "{code}: waiting for review for over {minutes} min.",
    ),
    "review_message": (
        "Nội dung chờ duyệt",
        "{code}: một nội dung của người dân chờ kiểm duyệt đã hơn {minutes} phút.",
        "Message awaiting review",
        "{code}: a resident's message has waited for review for over {minutes} min.",
    ),
}


def render(template: tuple[str, str, str, str], vi: dict[str, str], en: dict[str, str]) -> dict[str, Text]:
    """Fill a template; `vi` / `en` hold the parameters in each language."""
    tv, bv, te, be = template
    return {
        "vi": Text(clip(tv.format(**vi), TITLE_MAX), clip(bv.format(**vi), BODY_MAX)),
        "en": Text(clip(te.format(**en), TITLE_MAX), clip(be.format(**en), BODY_MAX)),
    }


def local_time(when: datetime) -> str:
    """'14:30 23/11' in local time."""
    return clock.to_local(when).strftime("%H:%M %d/%m")
