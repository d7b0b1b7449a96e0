"""Roles are a set: business rights nest, clinical rights belong to `provider` alone."""
from __future__ import annotations

import pytest

from pos.domain.roles import (
    Role,
    UnknownRole,
    all_role_sets,
    parse_roles,
    role_sets_allowing,
    roles_allow,
    roles_from_text,
    roles_text,
)

FD, PR, MG, AD = Role.FRONT_DESK, Role.PROVIDER, Role.MANAGER, Role.ADMIN


@pytest.mark.parametrize("held, requirement, allowed", [
    ({FD}, "front_desk", True), ({FD}, "manager", False), ({FD}, "provider", False),
    ({PR}, "front_desk", True), ({PR}, "provider", True), ({PR}, "manager", False),
    ({MG}, "front_desk", True), ({MG}, "manager", True), ({MG}, "admin", False),
    ({MG}, "provider", False),
    ({AD}, "manager", True), ({AD}, "admin", True), ({AD}, "provider", False),
    ({PR, MG}, "provider", True), ({PR, MG}, "manager", True), ({PR, MG}, "admin", False),
    ({FD, AD}, "admin", True), ({FD, AD}, "provider", False),
    ({PR, MG}, "provider+manager", True), ({PR, AD}, "provider+manager", True),
    ({MG}, "provider+manager", False), ({PR}, "provider+manager", False),
])
def test_who_may_do_what(held, requirement, allowed):
    assert roles_allow(held, requirement) is allowed


def test_an_admin_without_provider_never_reaches_clinical_data():
    clinical = role_sets_allowing("provider")
    assert all(PR in s for s in clinical)
    assert frozenset({FD, MG, AD}) not in clinical


def test_the_stored_text_is_canonical_and_reads_back():
    assert roles_text({AD, FD}) == "front_desk,admin"
    assert roles_text([MG, PR]) == "provider,manager"
    for held in all_role_sets():
        assert roles_from_text(roles_text(held)) == held
    assert len(all_role_sets()) == 15


@pytest.mark.parametrize("names", [[], ["root"], ["manager", "owner"], [""]])
def test_unknown_roles_and_the_empty_set_are_refused(names):
    with pytest.raises(UnknownRole):
        parse_roles(names)


def test_a_refusal_says_what_is_needed_without_calling_provider_a_rung():
    from pos.domain.roles import requirement_text

    assert "providers only" in requirement_text("provider")
    assert "or above" not in requirement_text("provider")
    assert requirement_text("manager") == "This needs the manager role or above."
    assert "provider, manager" in requirement_text("provider+manager")
