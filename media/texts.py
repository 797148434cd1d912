"""Why a file was refused, in English and Vietnamese.

The decoder (media/process) refuses a file with a machine `reason`, an English message for logs and
staff, and the figures it compared (`params`: the video's length and the limit…). The row keeps all
three; what a resident reads is built here from the reason and the figures, in their language.
"""

from __future__ import annotations

from typing import Any

# reason → (English, Vietnamese) with the figures; (English, Vietnamese) without them follow below
WITH_FIGURES: dict[str, tuple[str, str]] = {
    "too_large": (
        "The file is {size_mb} MB; the limit is {limit_mb} MB.",
        "Tệp có dung lượng {size_mb} MB; giới hạn là {limit_mb} MB.",
    ),
    "too_long": (
        "The video is {seconds} s long; the limit is {limit_s} s.",
        "Video dài {seconds} giây; giới hạn là {limit_s} giây.",
    ),
    "too_many_pixels": (
        "The video is {width}×{height}; the limit is {limit_px} pixels per frame.",
        "Video có kích thước {width}×{height}; giới hạn là {limit_px} điểm ảnh mỗi khung hình.",
    ),
    "decompression_bomb": (
        "The image has too many pixels (limit {limit_px}).",
        "Ảnh có quá nhiều điểm ảnh (giới hạn {limit_px}).",
    ),
    "timeout": (
        "Processing took longer than {limit_s} s.",
        "Xử lý tệp mất quá {limit_s} giây.",
    ),
    "memory_limit": (
        "Decoding needed more than {limit_mb} MB.",
        "Giải mã tệp cần hơn {limit_mb} MB bộ nhớ.",
    ),
    "processing_failed": (
        "Processing failed {attempts} times.",
        "Xử lý tệp thất bại {attempts} lần.",
    ),
}

PLAIN: dict[str, tuple[str, str]] = {
    "too_large": ("The file is too large.", "Tệp quá lớn."),
    "too_long": ("The video is too long.", "Video quá dài."),
    "too_many_pixels": ("The video's picture is too large.", "Khung hình video quá lớn."),
    "decompression_bomb": ("The image has too many pixels.", "Ảnh có quá nhiều điểm ảnh."),
    "timeout": ("Processing took too long.", "Xử lý tệp mất quá nhiều thời gian."),
    "memory_limit": ("Decoding needed too much memory.", "Giải mã tệp cần quá nhiều bộ nhớ."),
    "processing_failed": ("Processing failed repeatedly.", "Xử lý tệp thất bại nhiều lần."),
    "unreadable": ("The file is not an image we can read.", "Không đọc được ảnh này."),
    "truncated": (
        "The image file is truncated (the upload may have been cut off).",
        "Tệp ảnh bị thiếu dữ liệu (có thể việc tải lên bị gián đoạn).",
    ),
    "unsupported_format": (
        "This image format is not accepted (JPEG, PNG, WebP, HEIC).",
        "Định dạng ảnh này không được chấp nhận (JPEG, PNG, WebP, HEIC).",
    ),
    "polyglot": (
        "The image carries another file inside it; it is refused.",
        "Ảnh có chứa một tệp khác bên trong nên bị từ chối.",
    ),
    "unsupported_kind": ("Unknown media kind.", "Loại tệp không xác định."),
    "unplayable": ("The video could not be read.", "Không đọc được video này."),
    "unsupported_container": (
        "This video format is not accepted (MP4, MOV, 3GP).",
        "Định dạng video này không được chấp nhận (MP4, MOV, 3GP).",
    ),
    "unsupported_codec": (
        "The video's encoding is not accepted (H.264, HEVC, MPEG-4 with AAC, AMR, MP3 or Opus sound).",
        "Chuẩn mã hoá của video không được chấp nhận (H.264, HEVC, MPEG-4; âm thanh AAC, AMR, MP3, Opus).",
    ),
    "decoder_crashed": ("The file could not be processed.", "Không xử lý được tệp này."),
    "unprocessable": ("The file could not be processed.", "Không xử lý được tệp này."),
    "size_mismatch": (
        "The file received is not of the declared size.",
        "Kích thước tệp nhận được khác với kích thước đã khai báo.",
    ),
    "hash_mismatch": (
        "The file received does not match the declared SHA-256.",
        "Tệp nhận được không khớp mã SHA-256 đã khai báo.",
    ),
    "type_mismatch": (
        "The file's bytes are not of the declared type.",
        "Nội dung tệp không đúng kiểu đã khai báo.",
    ),
    "unrecognised_type": (
        "The file is not a photo or video format we accept.",
        "Tệp không phải định dạng ảnh hoặc video được hỗ trợ.",
    ),
}

UNKNOWN = ("The file was refused.", "Tệp đã bị từ chối.")


def refusal_text(reason: str | None, params: dict[str, Any] | None, *, english: bool) -> str:
    """Why the file was refused, with the figures when they were kept."""
    which = 0 if english else 1
    template = WITH_FIGURES.get(reason or "")
    if template and params:
        try:
            return template[which].format(**params)
        except (KeyError, IndexError, ValueError):
            pass
    return PLAIN.get(reason or "", UNKNOWN)[which]
