"""Staff roles. Each role can do everything the roles below it can."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    PROVIDER = "provider"
    MANAGER = "manager"
    ADMIN = "admin"


_RANK = {Role.FRONT_DESK: 1, Role.PROVIDER: 2, Role.MANAGER: 3, Role.ADMIN: 4}


def role_allows(held: Role, minimum: Role) -> bool:
    return _RANK[held] >= _RANK[minimum]
