"""Every controller the app serves. Add a feature's controllers here."""

from __future__ import annotations

from typing import Any

from api.accounts.http import AuthController, MeController
from api.areas.http import AreasController
from api.casework.http import CaseActionsController, FiguresController, OfficerQueueController
from api.catalogue.http import (
    AgenciesAdminController,
    CategoriesAdminController,
    HolidaysAdminController,
)
from api.catalogue.public_http import CategoriesController
from api.health.http import HealthController
from api.notifications.http import DevicesController, NotificationsController
from api.open311.http import Open311Controller
from api.reports.http import ReportsController
from api.review.http import ModerationController
from api.staff.http import StaffLoginController, UsersController
from api.uploads.http import LocalMediaController, MediaController, UploadsController

ROUTES: list[Any] = [
    HealthController,
    AuthController,
    MeController,
    DevicesController,
    NotificationsController,
    StaffLoginController,
    UsersController,
    CategoriesAdminController,
    AgenciesAdminController,
    HolidaysAdminController,
    ModerationController,
    AreasController,
    CaseActionsController,
    OfficerQueueController,
    FiguresController,
    ReportsController,
    CategoriesController,
    Open311Controller,
    UploadsController,
    MediaController,
    LocalMediaController,
]
