"""Query parameters shared by the routers: language, a date window, pagination."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Query

from service.placement.window import DateRange

Lang = Literal["zh", "en"]


def date_range(
    since: date | None = Query(None, description="Only calls on or after this date (YYYY-MM-DD)."),
    until: date | None = Query(None, description="Only calls on or before this date (YYYY-MM-DD)."),
) -> DateRange | None:
    """A date window asked for in the query; none means the model's own window over the whole record."""
    if since is None and until is None:
        return None
    try:
        return DateRange(since, until)
    except ValueError as error:
        raise HTTPException(422, f"since/until: {error}") from None


Dates = Annotated[DateRange | None, Depends(date_range)]


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("\x1f".join(parts).encode()).decode()


def decode_cursor(cursor: str | None, parts: int) -> list[str] | None:
    """The cursor's parts; a cursor we did not issue is a 422 naming the parameter."""
    if cursor is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode().split("\x1f")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = []
    if len(decoded) != parts:
        raise HTTPException(422, "cursor: not a cursor this service issued; use next_cursor from the previous page")
    return decoded


Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
