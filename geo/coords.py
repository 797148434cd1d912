"""Coordinates as the API takes them (WGS 84 degrees): the bounds, once, for every input that has a point."""

from __future__ import annotations

from typing import Annotated

import msgspec

# msgspec refuses NaN and infinities here too: no comparison with them holds.
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90, description="latitude, WGS 84")]
Lng = Annotated[float, msgspec.Meta(ge=-180, le=180, description="longitude, WGS 84")]
