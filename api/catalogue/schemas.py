"""Bodies for the admin catalogue: categories (with deadlines and routes), agencies, holidays."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec

from api.core.inputs import Int4

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ChoiceLabel(msgspec.Struct, forbid_unknown_fields=True):
    vi: Name
    en: Name


class Choice(msgspec.Struct, forbid_unknown_fields=True):
    """One answer of a choice question: residents send `value`, apps show `label` in their language."""

    value: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    label: ChoiceLabel


class Question(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One extra question residents answer when reporting in the category."""

    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    type: Literal["text", "number", "choice", "boolean"]
    label_vi: Name
    label_en: Name
    required: bool = False
    min: float | None = None  # number
    max: float | None = None  # number
    max_length: Annotated[int, msgspec.Meta(ge=1, le=4000)] | None = None  # text
    options: (
        Annotated[
            list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]],
            msgspec.Meta(min_length=1, max_length=50),
        ]
        | None
    ) = None  # choice: the accepted values (given alone, each is its own label)
    choices: Annotated[list[Choice], msgspec.Meta(min_length=1, max_length=50)] | None = (
        None  # choice, labelled
    )


Questions = Annotated[list[Question], msgspec.Meta(max_length=30)]
AckHours = Annotated[int, msgspec.Meta(ge=1, le=24 * 30)]
ResolveValue = Annotated[int, msgspec.Meta(ge=1, le=365)]
ResolveUnit = Literal["hours", "days"]  # days are working days (weekends and holidays skipped)
# office_hours: deadlines count working time (office periods of working days); around_the_clock:
# wall-clock time, every day (urgent categories)
Clock = Literal["office_hours", "around_the_clock"]
Radius = Annotated[float, msgspec.Meta(ge=0, le=5000)]


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name_vi: Name
    name_en: Name
    ack_hours: AckHours
    resolve_value: ResolveValue
    resolve_unit: ResolveUnit = "days"
    clock: Clock = "office_hours"
    group_code: Code | None = None
    icon: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    photo_required: bool = False
    questions: Questions = []
    nearby_radius_m: Radius | None = None
    active: bool = True
    sort: Int4 = 0


class CategoryPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change."""

    name_vi: Name | None = None
    name_en: Name | None = None
    ack_hours: AckHours | None = None
    resolve_value: ResolveValue | None = None
    resolve_unit: ResolveUnit | None = None
    clock: Clock | None = None
    group_code: Code | None = None
    icon: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    photo_required: bool | None = None
    questions: Questions | None = None
    nearby_radius_m: Radius | None = None
    active: bool | None = None
    sort: Int4 | None = None


class RouteIn(msgspec.Struct, forbid_unknown_fields=True):
    """Reports of the category in any ward under `area` go to `agency`'s queue."""

    area: Code
    agency: Code


class RoutesIn(msgspec.Struct, forbid_unknown_fields=True):
    routes: Annotated[list[RouteIn], msgspec.Meta(max_length=500)]


class RouteOut(msgspec.Struct):
    area: str
    agency: str


class CategoryOut(msgspec.Struct):
    code: str
    name_vi: str
    name_en: str
    group_code: str | None
    icon: str | None
    photo_required: bool
    questions: list[dict[str, Any]]
    ack_hours: int
    resolve_value: int
    resolve_unit: str
    clock: str
    nearby_radius_m: float | None
    active: bool
    sort: int
    routes: list[RouteOut]


class CategoryList(msgspec.Struct):
    items: list[CategoryOut]


class AgencyIn(msgspec.Struct, forbid_unknown_fields=True):
    name_vi: Name
    name_en: Name


class AgencyOut(msgspec.Struct):
    code: str
    name_vi: str
    name_en: str


class AgencyList(msgspec.Struct):
    items: list[AgencyOut]


class HolidayIn(msgspec.Struct, forbid_unknown_fields=True):
    """An entry on the working calendar: a day off, or a working day (a make-up Saturday, "làm bù"),
    with why and the decision it comes from ("Quyết định số …")."""

    day: date
    name: Name
    kind: Literal["day_off", "working_day"] = "day_off"
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None
    decision: Name | None = None


class HolidayOut(msgspec.Struct):
    """A day of the effective calendar that differs from an ordinary week: `source` says whether it
    comes from the `holidays` package's Vietnam calendar or from an admin's entry."""

    day: date
    kind: str  # day_off | working_day
    name: str
    source: str  # holidays | admin
    reason: str | None = None
    decision: str | None = None


class HolidayList(msgspec.Struct):
    items: list[HolidayOut]
    next_cursor: str | None = None


class Deadlines(msgspec.Struct):
    acknowledge_hours: int
    resolve_value: int
    resolve_unit: str  # "hours" | "days" (working days)
    clock: str = "office_hours"  # "office_hours" | "around_the_clock"


class PublicCategory(msgspec.Struct):
    """A category as the residents' app shows it, in one language."""

    code: str
    name: str
    group: str | None
    icon: str | None
    photo_required: bool
    questions: list[dict[str, Any]]
    deadlines: Deadlines


class PublicCategoryList(msgspec.Struct):
    items: list[PublicCategory]
