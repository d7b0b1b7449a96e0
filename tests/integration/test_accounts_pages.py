"""The admin's pages: Users (invite, roles, deactivate, reset, tokens) and Audit trail."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from pos.domain.roles import Role
from pos.extensions import db
from pos.models import ApiToken, AuditEntry, User
from pos.notify.outbox import deliver_pending
from pos.services import clock
from tests.integration.test_accounts_api import LINK


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def fresh(user_id: int) -> User:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def test_the_admin_sees_users_and_audit_in_the_top_bar_and_others_do_not(client, login_as):
    login_as("admin")
    html = client.get("/stock/").get_data(as_text=True)
    assert ">Users</a>" in html and ">Audit</a>" in html
    login_as("provider+manager")
    html = client.get("/stock/").get_data(as_text=True)
    assert ">Users</a>" not in html and "provider, manager" in html


def test_an_admin_invites_a_user_from_the_users_page_and_the_email_arrives(
        mail_app, smtp_server, client, login_as):
    login_as("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    done = client.post("/admin/users", data={
        "email": "Nina@Test.example", "name": "Nina Nurse", "roles": ["provider", "manager"],
        "csrf_token": csrf_of(page)}, follow_redirects=True)
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "nina@test.example is invited" in html
    assert re.search(r"Nina Nurse</a></td>\s*<td>nina@test.example</td><td>provider, manager",
                     html)
    deliver_pending()
    assert smtp_server.envelopes[-1][1] == ["nina@test.example"]
    assert LINK.search(smtp_server.body(len(smtp_server.messages) - 1))


def test_the_invite_form_names_what_is_missing(client, login_as):
    login_as("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    refused = client.post("/admin/users", data={"email": "x@test.example", "name": "X",
                                                "csrf_token": csrf_of(page)})
    assert refused.status_code == 422
    assert "Choose at least one role." in refused.get_data(as_text=True)


def test_an_admin_edits_roles_deactivates_and_reactivates_from_the_users_page(
        client, login_as, users, api):
    target = users.get("front_desk")
    desk = api("front_desk")
    login_as("admin")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    token = csrf_of(page)
    saved = client.post(f"/admin/users/{target.id}/roles",
                        data={"roles": ["front_desk", "manager"], "csrf_token": token},
                        follow_redirects=True)
    assert "Roles saved." in saved.get_data(as_text=True)
    assert fresh(target.id).roles == {Role.FRONT_DESK, Role.MANAGER}

    off = client.post(f"/admin/users/{target.id}/deactivate", data={"csrf_token": token},
                      follow_redirects=True)
    assert 'id="user-status">deactivated<' in off.get_data(as_text=True)
    assert desk.get("/api/v1/items").status_code == 401
    on = client.post(f"/admin/users/{target.id}/reactivate", data={"csrf_token": token},
                     follow_redirects=True)
    assert 'id="user-status">active<' in on.get_data(as_text=True)
    assert desk.get("/api/v1/items").status_code == 200


def test_the_admin_page_offers_no_self_deactivation_and_refuses_it(client, login_as):
    admin = login_as("admin")
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "Deactivate" not in page
    refused = client.post(f"/admin/users/{admin.id}/deactivate",
                          data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "You cannot deactivate your own account." in refused.get_data(as_text=True)
    assert fresh(admin.id).active is True


def test_a_token_made_on_the_page_is_shown_once_and_revoked_there(app, client, login_as,
                                                                  users):
    target = users.get("provider")
    login_as("admin")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    expiry = (clock.today() + timedelta(days=30)).isoformat()
    made = client.post(f"/admin/users/{target.id}/tokens",
                       data={"expires_on": expiry, "csrf_token": csrf_of(page)})
    assert made.status_code == 201
    text = re.search(r'id="new-token">(pos_[^<]+)<', made.get_data(as_text=True)).group(1)
    headers = {"Authorization": f"Bearer {text}"}
    assert app.test_client().get("/api/v1/items", headers=headers).status_code == 200

    again = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert text not in again and "active" in again
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == target.id)).one()
    assert token.expires_at is not None
    revoked = client.post(f"/admin/tokens/{token.id}/revoke",
                          data={"csrf_token": csrf_of(again)}, follow_redirects=True)
    assert f"Token {token.id} is revoked." in revoked.get_data(as_text=True)
    assert app.test_client().get("/api/v1/items", headers=headers).status_code == 401


def test_the_reset_button_emails_a_link(mail_app, smtp_server, client, login_as, users):
    target = users.get("manager")
    login_as("admin")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    done = client.post(f"/admin/users/{target.id}/password-reset",
                       data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "A set-password link is on its way" in done.get_data(as_text=True)
    deliver_pending()
    assert smtp_server.envelopes[-1][1] == [target.email]


def test_the_audit_page_filters_and_pages(client, login_as, users):
    manager = users.get("manager")
    now = clock.now()
    db.session.add_all([AuditEntry(user_id=manager.id, action="stock.adjust", entity="item",
                                   entity_id=str(i), at=now - timedelta(seconds=i),
                                   details={"qty_delta": -i}) for i in range(60)])
    db.session.commit()
    login_as("admin")
    first = client.get(f"/admin/audit?user_id={manager.id}").get_data(as_text=True)
    assert 'id="audit-total">60 entries' in first
    assert "Page 1 of 2" in first and "qty_delta=0" in first
    second = client.get(f"/admin/audit?user_id={manager.id}&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and "qty_delta=-59" in second
    assert "qty_delta=0<" not in second
    none = client.get("/admin/audit?action=no.such").get_data(as_text=True)
    assert 'id="audit-total">0 entries' in none
    bad = client.get("/admin/audit?from_=2026-02-31")
    assert bad.status_code == 422
