"""Choice questions carry labels in both languages; residents still answer by value."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import centre, make_city, resident, staff

NIGHT = {"value": "dem", "label": {"vi": "Ban đêm", "en": "Night"}}


async def test_seeded_noise_question_is_labelled(client: httpx.AsyncClient) -> None:
    public = (await client.get("/v1/categories", headers={"Accept-Language": "vi"})).json()["items"]
    noise = next(c for c in public if c["code"] == "tieng-on")
    (question,) = noise["questions"]
    assert question["label"] == "Thời điểm"
    assert question["options"] == ["sang", "chieu", "toi", "dem"]
    assert question["choices"][0] == {"value": "sang", "label": {"vi": "Buổi sáng", "en": "Morning"}}
    assert question["choices"][-1] == NIGHT


async def test_admin_sets_labels_and_residents_answer_by_value(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, admin = await staff(db_conn, "admin")
    question = {
        "key": "when",
        "type": "choice",
        "label_vi": "Khi nào",
        "label_en": "When",
        "choices": [{"value": "ngay", "label": {"vi": "Ban ngày", "en": "Daytime"}}, NIGHT],
    }
    cat = {
        "code": "on-dem",
        "name_vi": "Ồn ban đêm",
        "name_en": "Night noise",
        "ack_hours": 2,
        "resolve_value": 1,
    }
    r = await client.post("/v1/admin/categories", json={**cat, "questions": [question]}, headers=admin)
    assert r.status_code == 201, r.text
    (saved,) = r.json()["questions"]
    assert saved["options"] == ["ngay", "dem"] and saved["choices"] == question["choices"]
    # values given alone: each is its own label
    bare = {**question, "choices": None, "options": ["a1"]}
    r = await client.patch("/v1/admin/categories/on-dem", json={"questions": [bare]}, headers=admin)
    assert r.json()["questions"][0]["choices"] == [{"value": "a1", "label": {"vi": "a1", "en": "a1"}}]
    # given both ways, they must agree
    mixed = {**question, "options": ["ngay"]}
    r = await client.patch("/v1/admin/categories/on-dem", json={"questions": [mixed]}, headers=admin)
    assert_error_shape(r, 422, "invalid_questions")
    r = await client.patch("/v1/admin/categories/on-dem", json={"questions": [question]}, headers=admin)
    assert r.status_code == 200, r.text

    _, me = await resident(client)
    lat, lng = centre("W1")
    body = {"category": "on-dem", "description": "Karaoke đến 2 giờ sáng", "lat": lat, "lng": lng}
    ok = await client.post("/v1/reports", json={**body, "answers": {"when": "dem"}}, headers=me)
    assert ok.status_code == 201, ok.text
    by_label = await client.post("/v1/reports", json={**body, "answers": {"when": "Ban đêm"}}, headers=me)
    assert_error_shape(by_label, 422, "invalid_answers")
