"""The schema as the models say it is: every model of the app and of each capability in one MetaData.

Alembic's `target_metadata` (migrations/env.py), and what tests/core/test_schema_drift.py compares with a
migrated database.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import geo.models
import media.models
import push.models
from api.access import models as access_models
from api.accounts import models as accounts_models
from api.casework import models as casework_models
from api.catalogue import models as catalogue_models
from api.core import models as core_models
from api.core.base import Base
from api.core.migrate import merge_metadata
from api.notifications import models as notifications_models
from api.open311 import models as open311_models
from api.reports import models as reports_models
from api.review import models as review_models
from api.webhooks import models as webhooks_models

# the app's model modules register their tables on api.core.base.Base when imported
_APP_MODELS = (
    core_models,
    access_models,
    accounts_models,
    casework_models,
    catalogue_models,
    open311_models,
    notifications_models,
    reports_models,
    review_models,
    webhooks_models,
)


def schema_metadata() -> MetaData:
    return merge_metadata(
        [Base.metadata, geo.models.Base.metadata, media.models.Base.metadata, push.models.Base.metadata]
    )
