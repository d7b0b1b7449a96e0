"""Staff roles and who may do what. Pure rules: no Flask, no database.

A user holds a SET of roles. Two kinds of right live side by side:
- business rights nest: front_desk < manager < admin, and `provider` has front_desk's;
- clinical rights (screening answers, consents, treatment notes, photos, recording or
  voiding a treatment) belong to `provider` alone: a manager or an admin without
  `provider` has none, whatever else they hold (need-to-know).

A requirement is a role name, or names joined by "+" that must all hold
(`"provider+manager"` publishes the clinical templates).
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from itertools import combinations


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    PROVIDER = "provider"
    MANAGER = "manager"
    ADMIN = "admin"


# The order roles are written in, in the database and on screen.
ROLE_ORDER: tuple[Role, ...] = (Role.FRONT_DESK, Role.PROVIDER, Role.MANAGER, Role.ADMIN)
_BUSINESS_RANK = {Role.FRONT_DESK: 1, Role.PROVIDER: 1, Role.MANAGER: 2, Role.ADMIN: 3}
CLINICAL_ROLE = Role.PROVIDER

RoleSet = frozenset[Role]


class UnknownRole(ValueError):
    pass


def parse_roles(names: Iterable[str]) -> RoleSet:
    """The set of roles named; an unknown name or an empty set raises UnknownRole."""
    held = set()
    for name in names:
        try:
            held.add(Role(name))
        except ValueError:
            raise UnknownRole(name) from None
    if not held:
        raise UnknownRole("a user needs at least one role")
    return frozenset(held)


def roles_text(roles: Iterable[Role | str]) -> str:
    """The stored form: the names in ROLE_ORDER joined by commas ("provider,manager")."""
    held = {Role(r) for r in roles}
    return ",".join(r.value for r in ROLE_ORDER if r in held)


def roles_from_text(text: str) -> RoleSet:
    return parse_roles(part for part in text.split(",") if part)


def sorted_roles(roles: Iterable[Role]) -> list[Role]:
    held = set(roles)
    return [r for r in ROLE_ORDER if r in held]


def _single_allows(held: RoleSet, needed: Role) -> bool:
    if needed is CLINICAL_ROLE:
        return CLINICAL_ROLE in held
    return max((_BUSINESS_RANK[r] for r in held), default=0) >= _BUSINESS_RANK[needed]


def requirement_roles(requirement: str | Role) -> tuple[Role, ...]:
    """The roles a requirement names ("provider+manager" -> provider, manager)."""
    return tuple(Role(part) for part in str(requirement).split("+"))


def roles_allow(held: Iterable[Role], requirement: str | Role) -> bool:
    """Whether a user holding `held` meets `requirement` (see the module's docstring)."""
    held_set = frozenset(held)
    return all(_single_allows(held_set, needed) for needed in requirement_roles(requirement))


def all_role_sets() -> list[RoleSet]:
    """Every non-empty set of roles (15 of them), smallest first."""
    return [frozenset(combo) for size in range(1, len(ROLE_ORDER) + 1)
            for combo in combinations(ROLE_ORDER, size)]


def role_sets_allowing(requirement: str | Role) -> list[RoleSet]:
    """The role sets that meet a requirement: for `WHERE roles IN (...)` queries."""
    return [s for s in all_role_sets() if roles_allow(s, requirement)]


def role_sets_holding(role: Role | str) -> list[RoleSet]:
    """The role sets that include this very role (not merely a higher one)."""
    return [s for s in all_role_sets() if Role(role) in s]


def is_admin(held: Iterable[Role]) -> bool:
    return Role.ADMIN in frozenset(held)


def requirement_text(requirement: str | Role) -> str:
    """What a refusal says is needed: clinical rights are no rung of the business ladder."""
    needed = requirement_roles(requirement)
    if needed == (CLINICAL_ROLE,):
        return "This needs the provider role: clinical records are for providers only."
    if len(needed) > 1:
        return f"This needs all of these roles: {', '.join(r.value for r in needed)}."
    return f"This needs the {needed[0].value} role or above."
