"""The `flask pos ...` commands of API.md: create-user, create-token, seed-demo."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from pos.domain.roles import Role
from pos.extensions import db
from pos.models import (
    Alert,
    ApiToken,
    AuditEntry,
    Client,
    Item,
    Lot,
    OutboxMessage,
    Refund,
    Sale,
    StockMovement,
    Treatment,
    User,
)
from pos.services import signin, staff, stock
from tests import factories
from tests.factories import PASSWORD

DEMO_SKUS = {"CART-36", "LIDO-23", "HA-CLIN", "GF-MASK", "MIST-CLIN", "CLEANSE", "BUNDLE-FV",
             "SERUM-1OZ", "MIST-RET"}
ROLES = ["front_desk", "provider", "manager", "admin"]


@pytest.fixture
def cli(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]  # noqa: A002
        result = runner.invoke(args=["pos", *args], input=input)
        db.session.rollback()  # see what the command committed
        return result

    return run


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def demo_logins(output: str) -> dict[str, tuple[str, str]]:
    """{role: (email, password)} from the printed demo logins."""
    logins = {}
    for role, email, password in re.findall(r"^\s+([\w+]+)\s+(\S+@\S+)\s+(\S+)\s*$", output,
                                            re.M):
        logins[role] = (email, password)
    return logins


def signs_in(email: str, password: str) -> bool:
    return signin.sign_in_with_password(email, password, "cli-test", desk_key=None,
                                        settings=factories.settings()) is not None


def test_create_user_reads_the_password_from_stdin_and_stores_only_its_argon2id_hash(cli):
    result = cli("create-user", "Nurse@Clinic.example", "--role", "provider",
                 "--password-stdin", input="a-long-enough-password\n")
    assert result.exit_code == 0, result.output
    assert "nurse@clinic.example" in result.output and "provider" in result.output
    user = db.session.scalar(select(User).where(User.email == "nurse@clinic.example"))
    assert user.roles == {Role.PROVIDER}
    assert user.password_hash.startswith("$argon2id$")
    assert "a-long-enough-password" not in user.password_hash
    assert signs_in("nurse@clinic.example", "a-long-enough-password")


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["x@clinic.example", "--role", "manager", "--password-stdin"], "short\n", "at least 10"),
    (["x@clinic.example", "--role", "owner", "--password-stdin"], PASSWORD + "\n", "owner"),
])
def test_create_user_refuses_bad_input_with_a_message_and_creates_nobody(cli, args, stdin,
                                                                         message):
    result = cli("create-user", *args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert count(User) == 0


def test_create_user_refuses_an_email_already_taken(cli):
    cli("create-user", "a@clinic.example", "--role", "admin", "--password-stdin",
        input=PASSWORD + "\n")
    result = cli("create-user", "A@clinic.example", "--role", "front_desk", "--password-stdin",
                 input=PASSWORD + "\n")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert count(User) == 1


def test_create_token_prints_a_token_that_works_on_the_api(app, cli):
    cli("create-user", "boss@clinic.example", "--role", "manager", "--password-stdin",
        input=PASSWORD + "\n")
    result = cli("create-token", "boss@clinic.example")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert re.fullmatch(r"pos_[A-Za-z0-9_-]{40,}", token)
    client = app.test_client()
    response = client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    second = cli("create-token", "boss@clinic.example").output.strip()
    assert second != token
    assert client.get("/api/v1/items", headers={"Authorization": f"Bearer {second}"}) \
        .status_code == 200


def test_create_token_for_an_unknown_email_fails_with_a_message(cli):
    result = cli("create-token", "ghost@clinic.example")
    assert result.exit_code != 0
    assert "No user" in result.output


def test_seed_demo_if_empty_twice_keeps_the_data_and_does_not_seed_again(cli):
    first = cli("seed-demo", "--if-empty")
    assert first.exit_code == 0, first.output
    seeded_cartridges = stock.item_row(db.session, "CART-36").on_hand
    stock.receive_stock(sku="CART-36", quantity=10, lot_code="C-NEW",
                        expires_on=date(2199, 1, 1), unit_cost_cents=None, user_id=None)
    every = (User, Item, Lot, StockMovement, Client, Sale, Treatment, Refund, Alert,
             OutboxMessage, AuditEntry)
    counts = [count(model) for model in every]
    assert counts[every.index(Sale)] > 100 and counts[every.index(Treatment)] > 50
    passwords = set(db.session.scalars(select(User.password_hash)))
    second = cli("seed-demo", "--if-empty")
    assert second.exit_code == 0, second.output
    assert "not loaded again" in second.output
    assert [count(model) for model in every] == counts
    assert set(db.session.scalars(select(User.password_hash))) == passwords
    assert stock.item_row(db.session, "CART-36").on_hand == seeded_cartridges + 10


def test_seed_demo_without_if_empty_refuses_a_database_that_has_users(cli):
    cli("create-user", "a@clinic.example", "--role", "admin", "--password-stdin",
        input=PASSWORD + "\n")
    result = cli("seed-demo")
    assert result.exit_code != 0
    assert "already has users" in result.output
    assert count(Item) == 0


def test_create_user_takes_several_roles(cli):
    result = cli("create-user", "lead@clinic.example", "--role", "provider", "--role",
                 "manager", "--password-stdin", input="a-long-enough-password\n")
    assert result.exit_code == 0, result.output
    assert "provider, manager" in result.output
    user = db.session.scalar(select(User).where(User.email == "lead@clinic.example"))
    assert user.roles == {Role.PROVIDER, Role.MANAGER}
    assert user.has_role("provider") and user.has_role("manager")
    assert not user.has_role("admin")


def test_deactivate_user_stops_the_users_token_at_once(cli, api, users):
    front_desk = api("front_desk")
    assert front_desk.get("/api/v1/items").status_code == 200
    result = cli("deactivate-user", "FRONT_DESK@test.example")
    assert result.exit_code == 0, result.output
    assert db.session.get(User, users.get("front_desk").id).active is False
    assert front_desk.get("/api/v1/items").status_code == 401
    unknown = cli("deactivate-user", "nobody@test.example")
    assert unknown.exit_code != 0 and "No user" in unknown.output


def test_revoke_token_by_id_refuses_the_token_from_then_on(cli, users):
    user = users.get("manager")
    text = staff.create_token(user.email)
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert staff.user_for_token(db.session, text) is not None
    result = cli("revoke-token", str(token.id))
    assert result.exit_code == 0, result.output
    assert staff.user_for_token(db.session, text) is None
    assert cli("revoke-token", "999999").exit_code != 0
