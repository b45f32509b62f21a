"""API keys: created once and shown once, kept hashed, checked on every request but health."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.storage.tables import ApiKeyRow

Role = Literal["platform", "reviewer", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("platform", "reviewer", "supervisor", "admin")


@dataclass(frozen=True)
class Caller:
    """The holder of a valid key."""

    key_id: int
    name: str
    role: Role
    teams: frozenset[str] = field(default_factory=frozenset)

    def sees_team(self, team_id: str | None) -> bool:
        """Supervisors read their own teams only; every other role reads all."""
        return self.role != "supervisor" or (team_id is not None and team_id in self.teams)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str, role: Role, teams: list[str] | None = None) -> str:
    """A new key, returned in clear this once; only its hash is stored."""
    if role not in ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if role == "supervisor" and not teams:
        raise ValueError("teams: a supervisor key needs at least one team")
    key = "ice_" + secrets.token_urlsafe(32)
    session.add(ApiKeyRow(name=name, role=role, teams=sorted(set(teams or [])), key_hash=_digest(key),
                          prefix=key[:10]))
    return key


def authenticate(session: Session, key: str) -> Caller | None:
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == _digest(key), ApiKeyRow.revoked_at.is_(None)))
    if row is None:
        return None
    return Caller(key_id=row.id, name=row.name, role=row.role, teams=frozenset(row.teams or []))  # type: ignore[arg-type]


def count_keys(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ApiKeyRow)) or 0


def list_keys(session: Session) -> list[ApiKeyRow]:
    return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))


def revoke(session: Session, key_id: int) -> bool:
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(timezone.utc)
    return True


def first_admin_key(session: Session) -> str | None:
    """On an empty key table, an admin key to start with (shown once); None when keys exist."""
    if count_keys(session):
        return None
    return create_key(session, "first admin (created on first start)", "admin")
