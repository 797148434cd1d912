"""Areas (any-depth tree of provinces, districts, wards) and point-to-ward assignment."""

from geo import tree
from geo.lookup import (
    ASSIGN_SQL,
    AreaRef,
    Assignment,
    LineageCache,
    assign,
    assign_fast,
    assign_params,
    assignment_from,
    lineage,
)
from geo.models import Area, AreaPart
from geo.store import AreaIn, ascii_name, rebuild_parts, upsert_area
from geo.tree import AreaDetail, AreaNode

__all__ = [
    "ASSIGN_SQL",
    "Area",
    "AreaDetail",
    "AreaIn",
    "AreaNode",
    "AreaPart",
    "AreaRef",
    "Assignment",
    "LineageCache",
    "ascii_name",
    "assign",
    "assign_fast",
    "assign_params",
    "assignment_from",
    "lineage",
    "rebuild_parts",
    "tree",
    "upsert_area",
]
