"""Test data, made in one place: through the real code paths where that is practical, otherwise by
one documented SQL statement per thing. Import from here, not from the modules:

    from tests.factories import make_city, make_report, resident, staff

- the synthetic city (`city`): province T1 with wards W1, W2, W3; `make_city`, `centre`;
- people (`people`): `resident` (POST /v1/auth/device, or the accounts service it calls), `staff`
  of any role with areas and agencies (one insert), both a `Person` (id, headers); `bearer`;
- reports (`reports`): `make_report` in any status through the submission and casework services,
  `submit_report` / `seed_reports` through HTTP, `insert_report` (one insert, any columns),
  `update_report`, `set_state`, `report_event` (an event through `append_event`), `any_category`;
- media (`media`): `declare`, `upload` (the local upload flow), `photo_report` (a small photo on a
  new report). The sample files themselves are `tests/media/files.py`.
"""

from tests.factories.city import ORIGIN_LAT, ORIGIN_LNG, SIZE, WARDS, centre, make_city
from tests.factories.media import declare, photo_report, upload
from tests.factories.people import (
    TEST_JWT_SECRET,
    Person,
    bearer,
    factory_settings,
    resident,
    session_on,
    staff,
)
from tests.factories.reports import (
    STEPS,
    Report,
    any_category,
    insert_report,
    make_report,
    report_event,
    seed_reports,
    set_state,
    submit_report,
    update_report,
)

__all__ = [
    "ORIGIN_LAT",
    "ORIGIN_LNG",
    "SIZE",
    "STEPS",
    "TEST_JWT_SECRET",
    "WARDS",
    "Person",
    "Report",
    "any_category",
    "bearer",
    "centre",
    "declare",
    "factory_settings",
    "insert_report",
    "make_city",
    "make_report",
    "photo_report",
    "report_event",
    "resident",
    "seed_reports",
    "session_on",
    "set_state",
    "staff",
    "submit_report",
    "update_report",
    "upload",
]
