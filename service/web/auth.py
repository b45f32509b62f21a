"""Every request but health carries a key: ``Authorization: Bearer <key>``, or the pages' sign-in cookie.

``allow(ctx, *roles)`` is the dependency a route declares; admins may do everything. Supervisors are further
limited to their own teams where a route reads a team's or an agent's data (``Caller.sees_team``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Depends, HTTPException, Request

from service.access.keys import Caller, Role, authenticate

if TYPE_CHECKING:
    from service.context import ServiceContext

COOKIE = "iceberg_key"


def key_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE)


class SignInRequired(Exception):
    """A page asked for without a valid key: the app answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def allow(ctx: ServiceContext, *roles: Role, page: bool = False) -> Any:
    """A dependency admitting callers with one of ``roles`` (or admin); 403 for another role. Without a valid key:
    401 for the API, or (``page``) a redirect to the sign-in page so a browser can get one."""

    def caller(request: Request) -> Caller:
        key = key_of(request)
        found = None
        if key:
            with ctx.sessions() as session:
                found = authenticate(session, key)
        if found is None:
            if page:
                raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            raise HTTPException(401, "unknown or revoked API key" if key else
                                "no API key: send `Authorization: Bearer <key>` (an admin creates keys with "
                                "`iceberg keys create`)", headers={"WWW-Authenticate": "Bearer"})
        if found.role != "admin" and found.role not in roles:
            raise HTTPException(403, f"a {found.role} key may not do this; it needs one of: "
                                     f"{', '.join(sorted({*roles, 'admin'}))}")
        request.state.caller = found
        return found

    return Depends(caller)


def check_team(caller: Caller, team_id: str | None) -> None:
    if not caller.sees_team(team_id):
        raise HTTPException(403, f"a supervisor key reads its own teams only ({', '.join(sorted(caller.teams))}); "
                                 f"this is team {team_id or '(none)'}")
