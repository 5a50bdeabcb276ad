"""Accounts, teams and API tokens of the triage service.

Roles: ``viewer`` reads; ``triager`` also works cases; ``admin`` also manages users, teams
and settings. Passwords are hashed with argon2 (argon2-cffi); API tokens are random, shown
once, and stored as their sha256.

>>> from voiceminer.storage import Store
>>> store = Store.open("sqlite://")
>>> ana = add_user(store, "ana", "triager", "correct horse battery")
>>> authenticate(store, "ana", "correct horse battery").role, authenticate(store, "ana", "wrong")
('triager', None)
>>> token = create_token(store, "ana")
>>> user_for_token(store, token).name
'ana'
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from ..errors import MissingDependencyError, NotFoundError, TriageError
from ..storage import Store
from ..storage import schema as t
from ..storage.store import utcnow

ROLES = ("viewer", "triager", "admin")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    active: bool = True

    def can(self, role: str) -> bool:
        """Whether this user's role is at least ``role`` (viewer < triager < admin)."""
        return self.active and ROLES.index(self.role) >= ROLES.index(role)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError:  # pragma: no cover - the web extra brings it
        raise MissingDependencyError("argon2-cffi is needed for accounts: pip install 'voiceminer[web]'") from None
    return PasswordHasher()


def _user(row: Any) -> User:
    return User(id=int(row["id"]), name=row["name"], role=row["role"], active=bool(row["active"]))


def add_user(store: Store, name: str, role: str, password: str) -> User:
    """Create an account; the name must be new, the role one of :data:`ROLES`."""
    name = name.strip()
    if not name or len(name) > 100:
        raise TriageError("a user name must have 1 to 100 characters")
    if role not in ROLES:
        raise TriageError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise TriageError(f"a password needs at least {MIN_PASSWORD} characters")
    with store.engine.begin() as conn:
        if conn.execute(sa.select(t.users.c.id).where(t.users.c.name == name)).first():
            raise TriageError(f"user {name!r} exists already")
        uid = conn.execute(t.users.insert().values(name=name, role=role, password_hash=_hasher().hash(password),
                                                   active=True, created_at=utcnow())).inserted_primary_key[0]
    return User(int(uid), name, role)


def set_password(store: Store, name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise TriageError(f"a password needs at least {MIN_PASSWORD} characters")
    with store.engine.begin() as conn:
        done = conn.execute(t.users.update().where(t.users.c.name == name)
                            .values(password_hash=_hasher().hash(password))).rowcount
    if not done:
        raise NotFoundError(f"no user {name!r}")


def update_user(store: Store, name: str, *, role: str | None = None, active: bool | None = None) -> User:
    """Change a user's role or switch the account off (``active=False``: no login, no token)."""
    values: dict[str, Any] = {}
    if role is not None:
        if role not in ROLES:
            raise TriageError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
        values["role"] = role
    if active is not None:
        values["active"] = active
    with store.engine.begin() as conn:
        if values and not conn.execute(t.users.update().where(t.users.c.name == name).values(**values)).rowcount:
            raise NotFoundError(f"no user {name!r}")
    return get_user(store, name)


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (same work either way)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    with store.engine.connect() as conn:
        row = conn.execute(sa.select(t.users).where(t.users.c.name == name)).mappings().first()
    hasher = _hasher()
    stored = row["password_hash"] if row else _DUMMY_HASH.get(hasher)
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(row) if row and row["active"] else None


class _Dummy:
    """A hash to verify against when the user does not exist, so timing does not tell."""

    value: str | None = None

    def get(self, hasher: Any) -> str:
        if self.value is None:
            self.value = hasher.hash(secrets.token_hex(16))
        return self.value


_DUMMY_HASH = _Dummy()


def get_user(store: Store, name_or_id: str | int) -> User:
    col = t.users.c.id if isinstance(name_or_id, int) else t.users.c.name
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(t.users).where(col == name_or_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no user {name_or_id!r}")
    return _user(row)


def list_users(store: Store) -> list[User]:
    with store.engine.connect() as conn:
        return [_user(r) for r in conn.execute(sa.select(t.users).order_by(t.users.c.name)).mappings()]


def create_token(store: Store, name: str, label: str = "") -> str:
    """A new API token for user ``name`` (sent as ``Authorization: Bearer <token>``); shown only now."""
    user = get_user(store, name)
    token = "vm_" + secrets.token_urlsafe(32)
    with store.engine.begin() as conn:
        conn.execute(t.api_tokens.insert().values(token_hash=_token_hash(token), user_id=user.id, label=label[:100],
                                                  created_at=utcnow()))
    return token


def user_for_token(store: Store, token: str) -> User | None:
    """The active user a bearer token belongs to, else None."""
    query = (sa.select(t.users).join(t.api_tokens, t.api_tokens.c.user_id == t.users.c.id)
             .where(t.api_tokens.c.token_hash == _token_hash(token)))
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return _user(row) if row and row["active"] else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- teams ------------------------------------------------------------------
@dataclass(frozen=True)
class Team:
    id: int
    name: str
    lead: str | None
    members: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "lead": self.lead, "members": list(self.members)}


def add_team(store: Store, name: str, *, lead: str | None = None, members: list[str] | tuple[str, ...] = ()) -> Team:
    """Create a team (or update its lead and add members if it exists)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise TriageError("a team name must have 1 to 100 characters")
    lead_id = get_user(store, lead).id if lead else None
    member_ids = [get_user(store, m).id for m in members]
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(t.teams.c.id).where(t.teams.c.name == name)).first()
        if row is None:
            team_id = conn.execute(t.teams.insert().values(name=name, lead_id=lead_id, next_member=0)
                                   ).inserted_primary_key[0]
        else:
            team_id = row.id
            if lead_id is not None:
                conn.execute(t.teams.update().where(t.teams.c.id == team_id).values(lead_id=lead_id))
        have = {r.user_id for r in conn.execute(sa.select(t.team_members.c.user_id)
                                                .where(t.team_members.c.team_id == team_id))}
        new = [{"team_id": team_id, "user_id": u} for u in dict.fromkeys(member_ids) if u not in have]
        if new:
            conn.execute(t.team_members.insert(), new)
    return get_team(store, name)


def get_team(store: Store, name_or_id: str | int) -> Team:
    col = t.teams.c.id if isinstance(name_or_id, int) else t.teams.c.name
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(t.teams).where(col == name_or_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no team {name_or_id!r}")
        members = [r.name for r in conn.execute(
            sa.select(t.users.c.name).join(t.team_members, t.team_members.c.user_id == t.users.c.id)
            .where(t.team_members.c.team_id == row["id"]).order_by(t.users.c.name))]
        lead = conn.execute(sa.select(t.users.c.name).where(t.users.c.id == row["lead_id"])).scalar()
    return Team(int(row["id"]), row["name"], lead, tuple(members))


def list_teams(store: Store) -> list[Team]:
    """Every team with its lead and members, in two reads (the queue and case pages list them)."""
    lead = t.users.alias("lead")
    with store.engine.connect() as conn:
        teams = conn.execute(sa.select(t.teams.c.id, t.teams.c.name, lead.c.name.label("lead"))
                             .outerjoin(lead, lead.c.id == t.teams.c.lead_id).order_by(t.teams.c.name)).all()
        members: dict[int, list[str]] = {}
        for r in conn.execute(sa.select(t.team_members.c.team_id, t.users.c.name)
                              .join(t.users, t.users.c.id == t.team_members.c.user_id).order_by(t.users.c.name)):
            members.setdefault(int(r.team_id), []).append(r.name)
    return [Team(int(r.id), r.name, r.lead, tuple(members.get(int(r.id), ()))) for r in teams]
