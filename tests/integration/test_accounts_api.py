"""Users and tokens run by an admin through the API: invite with an emailed set-password
link, roles and active, tokens (expiry, revocation), and the audit trail."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pos.domain.roles import Role
from pos.extensions import db
from pos.models import AuditEntry, StaffSession, User
from pos.notify.outbox import deliver_pending
from pos.services import clock, signin
from tests import factories

LINK = re.compile(r"https?://[^/\s]+(/set-password\?token=\S+)")


def signs_in(email: str, password: str) -> bool:
    return signin.sign_in_with_password(email, password, "t", desk_key=None,
                                        settings=factories.settings()) is not None


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def emailed_link(smtp_server, to: str) -> str:  # type: ignore[no-untyped-def]
    """The set-password path of the newest email delivered to `to`."""
    deliver_pending()
    for index in reversed(range(len(smtp_server.messages))):
        if to in str(smtp_server.messages[index]["To"]):
            match = LINK.search(smtp_server.body(index))
            assert match, smtp_server.body(index)
            return match.group(1)
    raise AssertionError(f"no email to {to}: {smtp_server.subjects()}")


def set_password(client, path: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get(path)
    if page.status_code != 200:
        return page
    html = page.get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    # The form posts to the page without the query string: the secret rides in the form.
    return client.post("/set-password", data={"password": password, "confirm": password,
                                              "token": token, "csrf_token": csrf_of(html)})


def later(monkeypatch, delta: timedelta) -> None:  # type: ignore[no-untyped-def]
    moved = clock.now() + delta
    monkeypatch.setattr(clock, "now", lambda: moved)


def invite(api, email: str = "nina@test.example", roles=("provider",)):  # type: ignore[no-untyped-def]
    response = api("admin").post("/api/v1/users", json={"email": email, "name": "Nina Nurse",
                                                        "roles": list(roles)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# -- invite and the set-password link ---------------------------------------------------------

def test_an_invited_user_sets_their_password_through_the_emailed_link_once(
        mail_app, smtp_server, api, client, caplog):
    caplog.set_level(logging.INFO)
    user = invite(api, roles=["provider", "manager"])
    assert user["roles"] == ["provider", "manager"] and user["active"] is True
    path = emailed_link(smtp_server, "nina@test.example")
    assert not signs_in("nina@test.example", "a-brand-new-password")

    done = set_password(client, path, "a-brand-new-password")
    assert done.status_code == 302 and "/login" in done.headers["Location"]
    assert signs_in("nina@test.example", "a-brand-new-password")
    again = client.get(path)
    assert again.status_code == 410
    assert "expired or was already used" in again.get_data(as_text=True)
    assert set_password(client, path, "another-password-1").status_code == 410
    # The link's secret is in the query string, which the access log leaves out.
    secret = path.split("token=", 1)[1]
    assert any("/set-password" in r.getMessage() for r in caplog.records)
    assert not any(secret in r.getMessage() for r in caplog.records)


def test_a_set_password_link_does_not_work_after_24_hours(mail_app, smtp_server, api, client,
                                                          monkeypatch):
    invite(api)
    path = emailed_link(smtp_server, "nina@test.example")
    later(monkeypatch, timedelta(hours=24, seconds=1))
    assert client.get(path).status_code == 410
    assert set_password(client, path, "a-brand-new-password").status_code == 410


def test_a_link_still_works_just_before_24_hours(mail_app, smtp_server, api, client,
                                                 monkeypatch):
    invite(api)
    path = emailed_link(smtp_server, "nina@test.example")
    later(monkeypatch, timedelta(hours=23, minutes=59))
    assert set_password(client, path, "a-brand-new-password").status_code == 302


def test_a_password_reset_emails_a_new_link(mail_app, smtp_server, api, users, client):
    target = users.get("front_desk")
    response = api("admin").post(f"/api/v1/users/{target.id}/password-reset")
    assert response.status_code == 202
    path = emailed_link(smtp_server, target.email)
    assert set_password(client, path, "the-reset-password").status_code == 302
    assert signs_in(target.email, "the-reset-password")


def test_an_invite_is_refused_for_a_taken_email_or_an_unknown_role(app, api, users):
    admin = api("admin")
    taken = admin.post("/api/v1/users", json={"email": users.get("manager").email,
                                             "name": "Dup", "roles": ["manager"]})
    assert taken.status_code == 409
    for roles in ([], ["owner"], "manager"):
        bad = admin.post("/api/v1/users", json={"email": "x@test.example", "name": "X",
                                                "roles": roles})
        assert bad.status_code == 422, roles
        assert any(f.startswith("roles") for f in bad.get_json()["error"]["details"]["fields"])


def test_only_an_admin_invites_even_with_a_valid_body(app, api):
    body = {"email": "x@test.example", "name": "X", "roles": ["admin"]}
    for role in ("front_desk", "provider", "manager", "provider+manager"):
        assert api(role).post("/api/v1/users", json=body).status_code == 403


# -- roles and active -------------------------------------------------------------------------

def test_patch_changes_roles_and_the_users_rights_follow_at_once(app, api, users):
    target = users.get("front_desk")
    desk = api("front_desk")
    assert desk.get("/api/v1/alerts").status_code == 403
    changed = api("admin").patch(f"/api/v1/users/{target.id}",
                                 json={"roles": ["provider", "manager"]})
    assert changed.status_code == 200
    assert changed.get_json()["roles"] == ["provider", "manager"]
    assert desk.get("/api/v1/alerts").status_code == 200
    listed = {u["email"]: u for u in api("admin").get("/api/v1/users").get_json()}
    assert listed[target.email]["roles"] == ["provider", "manager"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")
                               ).one()
    assert entry.details == {"roles": "provider,manager"}


def test_a_deactivated_users_token_and_cookie_session_are_refused_at_the_next_request(
        app, api, users, client, login_as):
    target = login_as("manager")
    token_client = api("manager")
    assert client.get("/stock/").status_code == 200
    assert token_client.get("/api/v1/items").status_code == 200

    off = api("admin").patch(f"/api/v1/users/{target.id}", json={"active": False})
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert token_client.get("/api/v1/items").status_code == 401
    page = client.get("/stock/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]

    api("admin").patch(f"/api/v1/users/{target.id}", json={"active": True})
    assert token_client.get("/api/v1/items").status_code == 200


def test_an_admin_cannot_deactivate_themself(app, api, users):
    admin = users.get("admin")
    response = api("admin").patch(f"/api/v1/users/{admin.id}", json={"active": False})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "cannot_deactivate_self"


def test_the_last_admin_cannot_be_removed_but_one_of_two_can(app, api, users):
    admin = users.get("admin")
    alone = api("admin").patch(f"/api/v1/users/{admin.id}", json={"roles": ["manager"]})
    assert alone.status_code == 409
    assert alone.get_json()["error"]["code"] == "last_admin"
    db.session.expire_all()
    assert Role.ADMIN in db.session.get(User, admin.id).roles

    second = users.get("front_desk+admin")
    assert api("front_desk+admin").patch(f"/api/v1/users/{admin.id}",
                                         json={"active": False}).status_code == 200
    last = api("front_desk+admin").patch(f"/api/v1/users/{second.id}",
                                         json={"roles": ["front_desk"]})
    assert last.status_code == 409 and last.get_json()["error"]["code"] == "last_admin"


def test_patching_an_unknown_user_is_404(app, api):
    assert api("admin").patch("/api/v1/users/99999", json={"active": True}).status_code == 404


# -- tokens -----------------------------------------------------------------------------------

def test_a_token_made_by_an_admin_works_is_listed_without_its_text_and_dies_when_revoked(
        app, api, users):
    target = users.get("provider")
    made = api("admin").post(f"/api/v1/users/{target.id}/tokens", json={})
    assert made.status_code == 201
    token_id, text = made.get_json()["id"], made.get_json()["token"]
    headers = {"Authorization": f"Bearer {text}"}
    assert app.test_client().get("/api/v1/items", headers=headers).status_code == 200

    listed = api("admin").get(f"/api/v1/users/{target.id}/tokens")
    assert [t["id"] for t in listed.get_json()] == [token_id]
    assert text not in listed.get_data(as_text=True) and "token" not in listed.get_json()[0]

    revoked = api("admin").delete(f"/api/v1/tokens/{token_id}")
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert app.test_client().get("/api/v1/items", headers=headers).status_code == 401


def test_an_expired_token_gets_401(app, api, users, monkeypatch):
    target = users.get("provider")
    today = clock.today()
    made = api("admin").post(f"/api/v1/users/{target.id}/tokens",
                             json={"expires_on": today.isoformat()})
    assert made.status_code == 201
    headers = {"Authorization": f"Bearer {made.get_json()['token']}"}
    assert app.test_client().get("/api/v1/items", headers=headers).status_code == 200
    later(monkeypatch, timedelta(days=1, hours=1))
    refused = app.test_client().get("/api/v1/items", headers=headers)
    assert refused.status_code == 401
    past = api("admin").post(f"/api/v1/users/{target.id}/tokens",
                             json={"expires_on": (today - timedelta(days=3)).isoformat()})
    assert past.status_code == 422


def test_the_owner_may_revoke_their_own_token_another_non_admin_may_not(app, api, users):
    desk_user = users.get("front_desk")
    made = api("admin").post(f"/api/v1/users/{desk_user.id}/tokens", json={}).get_json()
    headers = {"Authorization": f"Bearer {made['token']}"}

    other = api("manager").delete(f"/api/v1/tokens/{made['id']}")
    assert other.status_code == 403
    assert other.get_json()["error"]["code"] == "forbidden"
    assert app.test_client().get("/api/v1/items", headers=headers).status_code == 200

    own = app.test_client().delete(f"/api/v1/tokens/{made['id']}", headers=headers)
    assert own.status_code == 200
    assert app.test_client().get("/api/v1/items", headers=headers).status_code == 401


# -- the audit trail --------------------------------------------------------------------------

@pytest.fixture
def audit_rows(app, users):  # type: ignore[no-untyped-def]
    """Five entries by the manager on five days, three by the admin today."""
    manager, admin = users.get("manager"), users.get("admin")
    now = clock.now()
    rows = [AuditEntry(user_id=manager.id, action="stock.adjust", entity="item",
                       entity_id=str(i), at=now - timedelta(days=i), details={})
            for i in range(5)]
    rows += [AuditEntry(user_id=admin.id, action="settings.update", entity="settings",
                        at=now - timedelta(minutes=i), details={}) for i in range(3)]
    db.session.add_all(rows)
    db.session.commit()
    return manager, admin


def test_the_audit_trail_pages_newest_first(app, api, audit_rows):
    first = api("admin").get("/api/v1/audit?per_page=3").get_json()
    assert (first["page"], first["per_page"]) == (1, 3)
    assert first["total"] >= 8
    stamps = [item["at"] for item in first["items"]]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) == 3
    second = api("admin").get("/api/v1/audit?per_page=3&page=2").get_json()
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert api("admin").get("/api/v1/audit?per_page=201").status_code == 422
    assert api("admin").get("/api/v1/audit?page=0").status_code == 422


def test_the_audit_trail_filters_by_user_action_and_days(app, api, audit_rows):
    manager, _ = audit_rows
    mine = api("admin").get(f"/api/v1/audit?user_id={manager.id}").get_json()
    assert mine["total"] == 5 and {i["user_id"] for i in mine["items"]} == {manager.id}
    assert mine["items"][0]["user_name"] == manager.name
    settings = api("admin").get("/api/v1/audit?action=settings.update").get_json()
    assert settings["total"] == 3
    today = clock.today()
    window = (f"/api/v1/audit?action=stock.adjust&from={today - timedelta(days=3)}"
              f"&to={today - timedelta(days=1)}")
    assert api("admin").get(window).get_json()["total"] == 3
    assert api("admin").get("/api/v1/audit?from=2026-13-01").status_code == 422


@pytest.mark.parametrize("change", [{"active": False}, {"roles": ["front_desk"]}])
def test_deactivation_or_a_role_change_ends_the_users_sessions_at_once(
        app, api, users, client, login_as, change):  # type: ignore[no-untyped-def]
    """The session rows end in the same transaction as the change: reactivating the user
    or giving the role back does not bring the old cookie back to life."""
    target = login_as("manager")
    assert client.get("/stock/").status_code == 200

    assert api("admin").patch(f"/api/v1/users/{target.id}", json=change).status_code == 200
    ended = db.session.scalars(select(StaffSession.ended_at)
                               .where(StaffSession.user_id == target.id)).all()
    assert ended and all(at is not None for at in ended)

    undo = {"active": True} if "active" in change else {"roles": ["manager"]}
    assert api("admin").patch(f"/api/v1/users/{target.id}", json=undo).status_code == 200
    page = client.get("/stock/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
