"""Every controller the app serves. Add a feature's controllers here."""

from __future__ import annotations

from typing import Any

from api.areas.controller import AreasController
from api.auth.controller import AuthController, MeController
from api.categories.controller import CategoriesController
from api.health import HealthController
from api.media.controller import LocalMediaController, MediaController, UploadsController
from api.notifications.controller import DevicesController, NotificationsController
from api.open311.controller import Open311Controller
from api.reports.controller import ReportsController
from api.staff.catalog_controller import (
    AgenciesAdminController,
    CategoriesAdminController,
    HolidaysAdminController,
)
from api.staff.controller import StaffLoginController, UsersController
from api.staff.review_controller import ModerationController
from api.workflow.controller import CaseActionsController, FiguresController, OfficerQueueController

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
