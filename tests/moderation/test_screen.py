"""The screener: Vietnamese and English abuse however it is written; ordinary words that look like it
once folded do not hold a complaint; personal data never holds anything."""

from __future__ import annotations

import pytest

from moderation import ABUSIVE, screen_text

ABUSE = [
    "đồ chó má",
    "dm",
    "đm",
    "đkm",
    "dkm",
    "vcl",
    "vl",
    "clgt",
    "djt me",
    "đéo",
    "lồn",
    "con đĩ",
    "Đ.M.M",
    "d.m.m",
    "đ-m",
    "d m m",
    "c*t",
    "f**k",
    "fucking",
    "bullshit",
    "dit me may",
    "Ditme",
    "Đmmmmm",
    "vcllll",
    "fuuuuck",
    "sh1t",
    "l0n",
    "đ!t mẹ",
    "f u c k",
    "аsshole",  # a Cyrillic а
    "fu\u200bck",  # an invisible space
    "ＦＵＣＫ",  # full-width letters
    "ngu như bò",
    "thằng ngu",
    "cmm",
]
ORDINARY = [
    "Tôi chờ chết ở đây",
    "Toi cho chet o day",
    "Đường ngập lớn quá",
    "Các hộ dân mất nước",
    "Cái lon bia vứt đầy đường",
    "vut vai lon bia xuong kenh",
    "Con chó nhà bên sủa cả đêm",
    "Có con chó chết giữa đường",
    "khong ngu duoc vi karaoke",
    "Ngủ không được",
    "Người dân đeo khẩu trang",
    "deo khau trang",
    "Ngõ cụt cuối hẻm",
    "Cư dân cc Bàu Cát",
    "Ngập 40 cm, dài 5 dm",
    "Đường D1 Bình Thạnh",
    "Trộm cắt mất dây điện",
    "tram mat day dien",
    "Đó cho mà biết",
    "Quả óc chó",
    "Đĩa CD",
    "*Quan trọng*: 5* dịch vụ",
    "4G yếu ở Q.1",
    "the shiitake stall",
    "Gọi tôi 0903 123 456, email a@b.vn",
]


@pytest.mark.parametrize("text", ABUSE)
def test_abuse_is_held(text: str) -> None:
    screening = screen_text(f"Đường ngập mãi, {text}.")
    assert screening.visibility == "pending_review" and screening.reasons == [ABUSIVE], screening
    assert screening.terms


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_words_are_not(text: str) -> None:
    assert screen_text(text).visibility == "public", screen_text(text)


def test_several_texts_and_none() -> None:
    assert screen_text(None, "", "Đèn hỏng").visibility == "public"
    assert screen_text("Đèn hỏng", None, "vcl").reasons == [ABUSIVE]
