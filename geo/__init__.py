"""Areas (any-depth tree of provinces, districts, wards) and point-to-ward assignment."""

from geo import sql, tree
from geo.lookup import (
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
    "sql",
    "tree",
    "upsert_area",
]
