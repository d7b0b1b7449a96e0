"""Screening answers and client contact data never reach the logs or outgoing messages.

A scripted clinic day with distinctive planted answers (refusals included), through the API
and the pages, with stock alerts raised and delivered to a real SMTP server and webhook;
then every captured log record (all loggers, DEBUG and up), everything written to stderr,
every outbox row and every message actually received is searched for the planted values.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

from sqlalchemy import select

from pos import update_settings
from pos.extensions import db
from pos.models import AuditEntry, Item, OutboxMessage
from pos.notify.outbox import deliver_pending
from pos.services import clock
from pos.services.transaction import write_transaction
from tests.fixtures_clinical import (
    all_clear,
    make_client,
    make_clinic_stock,
    make_series_purchase,
    treatment_body,
)

BOTOX_LONG_AGO = "2023-11-17"
TREATMENTS = "/api/v1/treatments"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match
    return match.group(1)


def form(html: str, purchase_id: int, yes: tuple[str, ...] = (),
         acknowledged: tuple[str, ...] = ()) -> dict:
    from pos.domain.screening import DEFAULT_QUESTIONNAIRE

    data: dict = {"csrf_token": csrf_of(html), "purchase_id": str(purchase_id),
                  "area": "face", "q_last_botox_on": "", "acknowledged": list(acknowledged)}
    data.update({f"q_{k}": "yes" if k in yes else "no"
                 for k in DEFAULT_QUESTIONNAIRE.boolean_keys})
    return data


def test_a_clinic_day_leaves_no_screening_answer_or_contact_data_in_logs_or_mail(
        mail_app, smtp_server, webhook_receiver, api, client, login_as, caplog, capsys):
    update_settings(mail_app, ALERT_WEBHOOK_URL=webhook_receiver.url)
    caplog.set_level(logging.DEBUG)  # every logger, every level
    caplog.set_level(logging.DEBUG, logger="pos")
    stock = make_clinic_stock()
    with write_transaction() as session:  # masks run low during the day: an alert goes out
        session.get(Item, stock.id_of("MASK")).reorder_point = 8
    zeb = make_client("Zebediah", "Quillfeather", email="zeb.quillfeather@planted.example",
                      phone="555-867-5309")
    phil = make_client("Philomena", "Brackenridge", email="philo.bracken@planted.example",
                       phone="555-314-1592")
    zeb_series = make_series_purchase(zeb, "FACE-3")
    phil_series = make_series_purchase(phil, "FACE-3")
    recent_botox = (clock.today() - timedelta(days=5)).isoformat()
    provider = api("provider")

    # Zebediah: keloid history and warts, both acknowledged; Botox long ago. Treated.
    treated = provider.post(TREATMENTS, json=treatment_body(
        zeb.id, zeb_series.id,
        screening=all_clear(keloid_history=True, warts=True, last_botox_on=BOTOX_LONG_AGO),
        acknowledged=["keloid_history", "warts"]))
    assert treated.status_code == 201
    # Philomena: refused three times (pregnant, recent Botox, diabetes not acknowledged)...
    for screening, code in (
            (all_clear(pregnant_or_nursing=True), "contraindicated"),
            (all_clear(last_botox_on=recent_botox), "botox_wait"),
            (all_clear(diabetes=True), "caution_not_acknowledged")):
        refused = provider.post(TREATMENTS, json=treatment_body(
            phil.id, phil_series.id, screening=screening))
        assert refused.get_json()["error"]["code"] == code
    # ...refused on the page for a recent scar, then treated with diabetes acknowledged.
    login_as("provider")
    page = f"/clients/{phil.id}/treatments"
    html = client.get(page).get_data(as_text=True)
    assert client.post(page, data=form(html, phil_series.id, yes=("scar_under_6_months",))) \
        .status_code == 422
    html = client.get(page).get_data(as_text=True)
    assert client.post(page, data=form(html, phil_series.id, yes=("diabetes",),
                                       acknowledged=("diabetes",))).status_code == 302
    # The provider who is also the manager looks at both screenings, runs a recall, voids
    # Zebediah's by mistake.
    login_as("provider+manager")
    zeb_treatment = treated.get_json()["id"]
    assert "Yes" in client.get(f"/clients/{zeb.id}/treatments/{zeb_treatment}/screening")\
        .get_data(as_text=True)
    assert client.get("/recall?lot=C-SOON").status_code == 200
    assert client.get("/recall.csv?lot=C-SOON").status_code == 200
    assert api("provider+manager").post(f"/api/v1/treatments/{zeb_treatment}/void",
                                           json={"reason": "Wrong client"}) \
        .status_code == 200
    # A malformed request too: the error handler must not echo what it was sent.
    assert provider.post(TREATMENTS, json={"client_id": zeb.id, "screening": {
        "warts": "Quillfeather has warts"}}).status_code == 422

    delivery = deliver_pending()
    db.session.expire_all()
    outbox = db.session.scalars(select(OutboxMessage)).all()
    assert outbox, "the day should have raised a stock alert"
    assert smtp_server.wait_for(1)
    assert webhook_receiver.bodies
    assert delivery is not None

    planted = [
        "Zebediah", "Quillfeather", "zeb.quillfeather", "Philomena", "Brackenridge",
        "philo.bracken", "867-5309", "8675309", "314-1592", BOTOX_LONG_AGO, recent_botox,
        "keloid", "Keloid", "wart", "Wart", "pregnant", "Pregnant", "scar_under", "Scar less",
        "diabetes", "Diabetes",
    ]
    # "mail.log" is the test's own SMTP server (aiosmtpd) in this process, saying whom it
    # received the client's aftercare email for: not the app's logs.
    logged = [f"{r.name} {r.levelname} {r.getMessage()} {r.args!r} {r.exc_text or ''}"
              for r in caplog.records if r.name != "mail.log"]
    assert logged, "logging should have been captured"
    places = {
        "log records": "\n".join(logged),
        "stderr": "\n".join(line for line in capsys.readouterr().err.splitlines()
                            if '"logger": "mail.log"' not in line),
        # The aftercare email goes to the client's own address (its only contact data).
        "outbox": "\n".join(
            f"{'' if m.topic == 'aftercare' else m.recipients}\n{m.subject}\n{m.body}\n"
            f"{m.attachments}" for m in outbox),
        "mail received": "\n".join(
            m.as_string() if "aftercare" not in str(m["Subject"]) else
            f"{m['Subject']}\n{m.get_payload()}" for m in smtp_server.messages),
        "webhook received": json.dumps(webhook_receiver.bodies),
        "audit log": "\n".join(f"{a.action} {a.entity} {a.entity_id} {a.details}" for a in
                               db.session.scalars(select(AuditEntry))),
    }
    leaks = [(where, word) for where, text in places.items() for word in planted
             if word in text]
    assert not leaks, leaks
    aftercare = [m for m in outbox if m.topic == "aftercare"]
    assert {m.recipients for m in aftercare} == {"zeb.quillfeather@planted.example",
                                                 "philo.bracken@planted.example"}
