"""Signing in: Argon2id, throttling, safe redirects, inactive users, hashed API tokens."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pos.extensions import db
from pos.models import ApiToken, User
from pos.services import clock, staff
from tests.factories import PASSWORD


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, email: str, password: str = PASSWORD, *, next_url: str | None = None,
            address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/login", environ_base=environ).get_data(as_text=True))
    return client.post("/login", query_string={"next": next_url} if next_url else None,
                       data={"email": email, "password": password, "csrf_token": token},
                       environ_base=environ)


def error_text(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(re.findall(r'<p class="error"[^>]*>([^<]*)</p>', response.get_data(
        as_text=True)))


def test_passwords_are_stored_as_argon2id_hashes(app, users):
    user = users.get("manager")
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_user_signs_in_through_the_form_and_lands_on_checkout(app, client, users):
    user = users.get("front_desk")
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/checkout"
    page = client.get("/stock/")
    assert page.status_code == 200
    assert b"Sign out" in page.data


def test_the_email_is_matched_whatever_its_case_and_spaces(app, client, users):
    user = users.get("front_desk")
    assert sign_in(client, "  " + user.email.upper()).status_code == 302


def test_a_wrong_password_is_401_with_a_message_that_does_not_say_which_part_was_wrong(
        app, client, users):
    user = users.get("manager")
    response = sign_in(client, user.email, "not-the-password")
    assert response.status_code == 401
    assert error_text(response) == "Email or password is not right."
    unknown = sign_in(app.test_client(), "nobody@test.example", "not-the-password",
                      address="10.9.9.9")
    assert unknown.status_code == 401
    assert error_text(unknown) == "Email or password is not right."
    assert client.get("/stock/").status_code == 302


def test_after_five_failures_even_the_right_password_is_refused_with_429(app, client, users):
    user = users.get("manager")
    for _ in range(5):
        assert sign_in(client, user.email, "wrong-password-1").status_code == 401
    response = sign_in(client, user.email)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in error_text(response)
    # From another address too: the limit is on the account as well as on the address.
    assert sign_in(app.test_client(), user.email, address="10.1.1.1").status_code == 429


def test_four_failures_then_the_right_password_signs_in_and_clears_the_count(app, client,
                                                                             users):
    user = users.get("manager")
    for _ in range(4):
        sign_in(client, user.email, "wrong-password-1")
    assert sign_in(client, user.email).status_code == 302
    other = app.test_client()
    for _ in range(4):
        assert sign_in(other, user.email, "wrong-password-1", address="10.2.2.2").status_code \
            == 401
    assert sign_in(other, user.email, address="10.2.2.2").status_code == 302


def test_one_address_guessing_many_accounts_is_throttled_at_fifty(app, users):
    target = users.get("admin")
    client = app.test_client()
    for n in range(50):
        assert sign_in(client, f"guess{n}@test.example", "wrong-password-1",
                       address="10.6.6.6").status_code == 401
    assert sign_in(client, target.email, address="10.6.6.6").status_code == 429
    # Someone else, at another address, is not locked out of that account.
    assert sign_in(app.test_client(), target.email, address="10.7.7.7").status_code == 302


def test_failures_older_than_the_window_no_longer_count(app, client, users, monkeypatch):
    user = users.get("manager")
    for _ in range(4):
        sign_in(client, user.email, "wrong-password-1")
    later = clock.now() + timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 5)
    monkeypatch.setattr(clock, "now", lambda: later)
    # Four old failures are forgotten: five new ones are allowed before the wait.
    for _ in range(4):
        assert sign_in(client, user.email, "wrong-password-1").status_code == 401
    assert sign_in(client, user.email).status_code == 302


def test_two_browsers_sign_in_one_after_the_other(app, users):
    """Each client has its own session and CSRF token, even within one test."""
    first, second = app.test_client(), app.test_client()
    assert sign_in(first, users.get("front_desk").email).status_code == 302
    assert sign_in(second, users.get("manager").email).status_code == 302
    assert b"front desk" in first.get("/stock/").data.lower()
    assert b"manager" in second.get("/stock/").data.lower()


def test_signing_out_takes_a_post_with_the_csrf_token(app, client, users):
    sign_in(client, users.get("provider").email)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/stock/").status_code == 200
    token = csrf_token(client.get("/stock/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/stock/").status_code == 302


@pytest.mark.parametrize("target", [
    "//evil.example/x", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", " //evil.example", "javascript:alert(1)", "http:/evil.example",
])
def test_next_never_redirects_to_another_site(app, client, users, target):
    response = sign_in(client, users.get("manager").email, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/alerts/"


def test_next_may_return_to_a_page_of_this_site(app, client, users):
    response = sign_in(client, users.get("manager").email, next_url="/stock/items/X?q=1")
    assert response.headers["Location"] == "/stock/items/X?q=1"


def test_an_inactive_user_cannot_sign_in_and_is_signed_out(app, client, users):
    user = users.get("manager")
    assert sign_in(client, user.email).status_code == 302
    db.session.execute(update(User).where(User.id == user.id).values(active=False))
    db.session.commit()
    assert client.get("/stock/").status_code == 302
    response = sign_in(app.test_client(), user.email, address="10.3.3.3")
    assert response.status_code == 401


def test_api_tokens_are_stored_only_as_hashes(app, users):
    user = users.get("manager")
    token = staff.create_token(user.email)
    assert token.startswith("pos_") and len(token) > 40
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert len(stored) == 1
    assert token not in stored[0] and token[4:] not in stored[0]
    assert re.fullmatch(r"[0-9a-f]{64}", stored[0])


def test_a_token_works_until_it_is_revoked(app, users):
    token = staff.create_token(users.get("manager").email)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/items", headers=headers).status_code == 200
    db.session.execute(update(ApiToken).values(revoked_at=clock.now()))
    db.session.commit()
    response = client.get("/api/v1/items", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_deactivated_users_token_stops_working(app, users):
    user = users.get("manager")
    token = staff.create_token(user.email)
    db.session.execute(update(User).where(User.id == user.id).values(active=False))
    db.session.commit()
    response = app.test_client().get("/api/v1/items",
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_create_user_refuses_short_passwords_unknown_roles_and_duplicates(app):
    from pos.domain.errors import Conflict, ValidationFailed

    with pytest.raises(ValidationFailed):
        staff.create_user("a@test.example", "manager", "short")
    with pytest.raises(ValidationFailed):
        staff.create_user("a@test.example", "owner", PASSWORD)
    staff.create_user("a@test.example", "manager", PASSWORD)
    with pytest.raises(Conflict):
        staff.create_user("A@Test.example ", "admin", PASSWORD)
