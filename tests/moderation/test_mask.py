"""The masker: personal data in every usual writing is masked with its kind; ordinary numbers stay."""

from __future__ import annotations

import pytest

from moderation import LABELS, mask


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("0903 123 456", "phone"),
        ("0903.123.456", "phone"),
        ("0903-123-456", "phone"),
        ("0903123456", "phone"),
        ("090 312 3456", "phone"),
        ("0 9 0 3 1 2 3 4 5 6", "phone"),
        ("+84 903 123 456", "phone"),
        ("+84903123456", "phone"),
        ("84903123456", "phone"),
        ("(+84) 903 123 456", "phone"),
        ("+84 (0) 903 123 456", "phone"),
        ("(028) 3823 4567", "phone"),
        ("028.3823.4567", "phone"),
        ("02838234567", "phone"),
        ("+84 28 3823 4567", "phone"),
        ("0123 456 7890", "phone"),  # an 11-digit mobile number from before 2018
        ("nguyen.van.a@gmail.com", "email"),
        ("Le.Thi_B+phananh@company.com.vn", "email"),
        ("phananh.dan (at) gmail.com", "email"),
        ("079203001234", "citizen_id"),
        ("079 203 001 234", "citizen_id"),
        ("025123456", "citizen_id"),
        ("51F-123.45", "plate"),
        ("59-X1 234.56", "plate"),
        ("30A 12345", "plate"),
        ("29LD-012.34", "plate"),
        ("59X1-23456", "plate"),
        ("51f12345", "plate"),
    ],
)
def test_each_writing_is_masked(value: str, kind: str) -> None:
    masked = mask(f"Ngập đường, liên hệ {value} nhé.")
    assert masked.text == f"Ngập đường, liên hệ {LABELS[kind]} nhé."
    (span,) = masked.spans
    assert span.kind == kind


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("STK 0071000123456 Vietcombank", "STK [số tài khoản] Vietcombank"),
        ("số tài khoản: 1903 4567 8901 23 Techcombank", "số tài khoản: [số tài khoản] Techcombank"),
        ("CMND số 023 456 789 của tôi", "CMND số [số giấy tờ] của tôi"),
        ("0903 123 456 0912 345 678", "[số điện thoại] [số điện thoại]"),
        ("sdt0903123456", "sdt[số điện thoại]"),
        (
            "gọi 0903123456 k ai nghe, 84903123456 k nghe",
            "gọi [số điện thoại] k ai nghe, [số điện thoại] k nghe",
        ),
        ("số 5 0903123456", "số 5 [số điện thoại]"),
    ],
)
def test_context_and_runs(text: str, masked: str) -> None:
    assert mask(text).text == masked


@pytest.mark.parametrize(
    "text",
    [
        "Nhà 123/45 Lê Lợi, Phường 12, Quận 3",
        "Ngày 12/05/2024, ngày 12.05.2024, ngày 15-06-2024, năm 2024",
        "Phí 50.000đ, 1.500.000 đồng, 84.500.000.000đ, 150000 đồng, 2000000000 đồng",
        "Gọi 1022, 115, 113 hoặc tổng đài 1900 545454, 1800 1091",
        "Km 12+500, QL1A, đường D1, block A1, cao 12m 2024, lúc 23h 1234",
        "Vị trí 10.7725, 106.6981",
        "Công văn số 123/2024/UBND-ĐT, hóa đơn số 0001234",
    ],
)
def test_ordinary_numbers_stay(text: str) -> None:
    assert mask(text).text == text and mask(text).spans == ()


def test_spans_point_into_the_original() -> None:
    text = "A 0903 123 456 B x@y.vn C"
    assert [(text[s.start : s.end], s.kind) for s in mask(text).spans] == [
        ("0903 123 456", "phone"),
        ("x@y.vn", "email"),
    ]


def test_a_bracket_around_a_number_stays_with_the_sentence() -> None:
    assert mask("Anh A (0901234567) chỉ chỗ").text == "Anh A ([số điện thoại]) chỉ chỗ"
    assert mask("gọi (028) 3823 4567 nhé").text == "gọi [số điện thoại] nhé"
