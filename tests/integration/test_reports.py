"""The monthly report as the manager and the accountant get it: page, CSV, API, CLI, email."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, time
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from pos import app_settings
from pos.domain.roles import Role
from pos.extensions import db
from pos.models import OutboxMessage, User
from pos.services import clock
from pos.services.reports import monthly_report, queue_monthly_report, report_csv
from pos.services.reports.rendering import TOTAL_ROWS
from pos.web.api.reports import report_json
from tests.report_history import History, clinic_instant

MARCH = "2026-03"

Figures = dict[tuple[str, str, str], int]


def clinic_history() -> History:
    """A March with a discount, cash and card, a package, a treatment and a write-off,
    sales of February and April around it, and refunds in April of March's sales."""
    h = History(db.session)
    feb = h.sale([("SERUM", 1)], paid_at=clinic_instant(date(2026, 2, 27), time(15, 0)))
    h.refund(feb, [(feb.lines[0], 1)], at=clinic_instant(date(2026, 3, 2), time(10, 0)))
    first = h.sale([("SERUM", 2), ("FACE3", 1)], method="card", discount_bp=1000,
                   paid_at=clinic_instant(date(2026, 3, 1), time(0, 0)))
    h.sale([("MIST", 3), ("BUNDLE", 1)], seller=1,
           paid_at=clinic_instant(date(2026, 3, 31), time(23, 30)))
    h.sale([("SCALP4", 1)], method="card", status="awaiting_payment", paid_at=None,
           created_at=clinic_instant(date(2026, 3, 15), time(12, 0)))
    purchase = h.purchases(first.lines[1])[0]
    h.treatment(purchase, at=clinic_instant(date(2026, 3, 10), time(11, 0)),
                supplies=[("CART", "C-1", 1), ("LIDO", "L-1", 2)])
    h.write_off("CART", "C-2", 2, "damaged", clinic_instant(date(2026, 3, 12), time(9, 0)))
    h.refund(first, [(first.lines[0], 1)], at=clinic_instant(date(2026, 4, 2), time(10, 0)))
    h.sale([("MIST", 1)], paid_at=clinic_instant(date(2026, 4, 1), time(0, 0)))
    db.session.commit()
    return h


# ---------------------------------------------------------------- parsing each form

def cents(text: str) -> int:
    text = text.strip()
    negative = text.startswith("-")
    digits = text.lstrip("-").lstrip("$").replace(",", "")
    if "." in digits:
        whole, frac = digits.split(".")
        value = int(whole) * 100 + int(frac)
    else:
        value = int(digits)
    return -value if negative else value


def page_figures(body: str) -> Figures:
    out: Figures = {}
    for name, cell in re.findall(r'<td[^>]*data-figure="([^"]+)"[^>]*>(.*?)</td>', body, re.S):
        text = html.unescape(re.sub(r"<span.*?</span>", "", cell, flags=re.S)).strip()
        parts = name.split(".")
        key = (parts[0], "", parts[1]) if len(parts) == 2 else (parts[0], parts[1], parts[2])
        out[key] = cents(text)
    return out


def csv_sections_of(text: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """{title: (header row, rows)}: sections are separated by a blank row."""
    sections: dict[str, tuple[list[str], list[list[str]]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            current = None
        elif current is None:
            current = []
            sections[row[0]] = (row, current)
        else:
            current.append(row)
    return sections


def csv_figures(text: str, report: Any) -> Figures:
    """The CSV's figures under the keys of page_figures and api_figures (amounts in cents)."""
    out: Figures = {}
    sections = csv_sections_of(text)
    fields = {label: (field, money) for field, label, money in TOTAL_ROWS}
    for label, *cells in sections["Totals"][1]:
        field, money = fields[label]
        value = cents if money else int
        out[("totals", "", field)] = value(cells[0])
        for section, (before, change, percent) in (("previous_month", cells[1:4]),
                                                   ("same_month_last_year", cells[4:7])):
            out[(section, "", field)] = value(before)
            out[(section, "", f"{field}_change")] = value(change)
            if percent:
                out[(section, "", f"{field}_change_bp")] = cents(percent)
    metrics = ("quantity", "gross_cents", "discount_cents", "refund_cents", "net_cents",
               "tax_cents", "sales_count")

    def figures(section: str, key: str, cells: list[str]) -> None:
        for metric, cell in zip(metrics, cells, strict=True):
            out[(section, key, metric)] = int(cell) if metric in ("quantity", "sales_count") \
                else cents(cell)

    for _name, code, _category, *cells in sections["By item and package"][1]:
        figures("by_item", code, cells)
    for title, section, groups in (("By category", "by_category", report.by_category),
                                   ("By payment method", "by_payment_method",
                                    report.by_payment_method),
                                   ("By staff member who sold", "by_staff", report.by_staff)):
        keys = {g.label: g.key for g in groups}
        for label, *cells in sections[title][1]:
            figures(section, keys[label], cells)
    for label, value in sections["Packages"][1]:
        out[("packages", "", label.lower().replace(" ", "_"))] = int(value)
    for label, value in sections["Package liability"][1]:
        metric = label.split(",")[0].lower() + "_cents"
        out[("package_liability", "", metric)] = cents(value)
    for name, code, quantity, cost in sections["Supplies"][1]:
        if code:
            out[("supplies_consumed", code, "quantity")] = int(quantity)
            out[("supplies_consumed", code, "cost_cents")] = cents(cost)
        elif name == "Total":
            out[("supplies", "", "cost_cents")] = cents(cost)
        else:
            out[("supplies", "", "cost_per_treatment_cents")] = cents(cost)
    for name, code, quantity, cost in sections["Write-offs"][1]:
        key = f"{name.split(':')[0]}:{code}" if code else name.lower()
        out[("write_offs", key, "quantity")] = int(quantity)
        out[("write_offs", key, "cost_cents")] = cents(cost)
    for day, sales, refunds, net in sections["By day"][1]:
        out[("by_day", day, "sales_cents")] = cents(sales)
        out[("by_day", day, "refund_cents")] = cents(refunds)
        out[("by_day", day, "net_cents")] = cents(net)
    return out


def api_figures(body: dict[str, Any]) -> Figures:
    out: Figures = {}
    for field, value in body["totals"].items():
        out[("totals", "", field)] = value
    assert {k: body[k] for k in body["totals"]} == body["totals"]

    def figures(section: str, key: str, row: dict[str, Any]) -> None:
        for metric in ("quantity", "gross_cents", "discount_cents", "tax_cents", "refund_cents",
                       "refund_tax_cents", "refunded_quantity", "net_cents", "sales_count"):
            out[(section, key, metric)] = row[metric]

    for row in body["by_item"]:
        figures("by_item", row.get("sku") or row["package_code"], row)
    for row in body["by_category"]:
        figures("by_category", row["category"], row)
    for row in body["by_payment_method"]:
        figures("by_payment_method", row["payment_method"], row)
    for row in body["by_staff"]:
        figures("by_staff", str(row["user_id"]), row)
    for row in body["by_day"]:
        for metric in ("sales_cents", "refund_cents", "net_cents"):
            out[("by_day", row["date"], metric)] = row[metric]
    for metric in ("sessions_sold", "sessions_performed", "sessions_refunded"):
        out[("packages", "", metric)] = body[metric]
    for metric, value in body["package_liability"].items():
        out[("package_liability", "", metric)] = value
    assert body["package_liability_cents"] == body["package_liability"]["closing_cents"]
    for row in body["supplies_consumed"]:
        out[("supplies_consumed", row["sku"], "quantity")] = row["quantity"]
        out[("supplies_consumed", row["sku"], "cost_cents")] = row["cost_cents"]
    out[("supplies", "", "cost_cents")] = body["supplies_cost_cents"]
    out[("supplies", "", "cost_per_treatment_cents")] = body["supply_cost_per_treatment_cents"]
    for reason, row in body["write_offs_by_reason"].items():
        out[("write_offs", reason, "quantity")] = row["quantity"]
        out[("write_offs", reason, "cost_cents")] = row["cost_cents"]
    for row in body["write_offs"]:
        key = f"{row['reason']}:{row['sku']}"
        out[("write_offs", key, "quantity")] = row["quantity"]
        out[("write_offs", key, "cost_cents")] = row["cost_cents"]
    for section in ("previous_month", "same_month_last_year"):
        for field, change in body[section]["change"].items():
            out[(section, "", field)] = body[section][field]
            out[(section, "", f"{field}_change")] = change.get("cents", change.get("count"))
            if change["bp"] is not None:
                out[(section, "", f"{field}_change_bp")] = change["bp"]
    return out


# ---------------------------------------------------------------- tests

def test_the_csv_the_api_and_the_page_show_the_same_numbers(app, client, login_as, api):
    clinic_history()
    login_as("manager")
    page = client.get(f"/reports/monthly?month={MARCH}")
    download = client.get(f"/reports/monthly.csv?month={MARCH}")
    response = api("manager").get(f"/api/v1/reports/monthly?month={MARCH}")
    assert page.status_code == download.status_code == response.status_code == 200
    assert download.mimetype == "text/csv"
    assert 'filename="report-2026-03.csv"' in download.headers["Content-Disposition"]

    on_page = page_figures(page.get_data(as_text=True))
    in_csv = csv_figures(download.get_data(as_text=True), monthly_report(db.session, 2026, 3))
    in_api = api_figures(response.get_json())
    assert len(in_csv) > 100
    assert {key: in_api[key] for key in in_csv} == in_csv
    assert len(on_page) > 100
    assert {key: in_csv[key] for key in on_page} == on_page
    # The figures themselves: SERUM x2 + FACE3 with 10 % off, MIST x3 + BUNDLE on 31 March
    # at 23:30 (1 April in UTC); February's serum refunded on 2 March.
    gross = 2 * 6500 + 90001 + 3 * 3850 + 9900
    discount = 1300 + 9000
    assert in_api[("totals", "", "gross_cents")] == gross
    assert in_api[("totals", "", "discount_cents")] == discount
    assert in_api[("totals", "", "refund_cents")] == 6500
    assert in_api[("totals", "", "net_cents")] == gross - discount - 6500
    assert in_api[("totals", "", "sales_count")] == 2
    assert in_api[("packages", "", "sessions_sold")] == 3
    assert in_api[("package_liability", "", "performed_cents")] == 81001 // 3
    assert in_api[("supplies_consumed", "LIDO", "cost_cents")] == 2 * 1999
    assert in_api[("write_offs", "damaged", "cost_cents")] == 2 * 310
    assert in_api[("previous_month", "", "gross_cents")] == 6500


def test_the_page_draws_its_charts_as_inline_svg_with_a_print_stylesheet(app, client,
                                                                         login_as):
    clinic_history()
    login_as("manager")
    body = client.get(f"/reports/monthly?month={MARCH}").get_data(as_text=True)
    assert body.count("<svg") == 4
    assert "Net revenue per day" in body and "by payment method" in body
    assert "Top items and packages" in body
    # 31 days, 31 bars; the last day's bar carries the 23:30 sale.
    assert len(re.findall(r'<rect class="bar', body)) == 31
    assert "2026-03-31: $214.50" in body
    css = client.get("/static/app.css").get_data(as_text=True)
    assert "@media print" in css and ".chart-svg" in css


def test_a_refund_counts_in_the_month_it_was_made_not_the_month_of_the_sale(app, api):
    clinic_history()
    manager = api("manager")
    march = manager.get(f"/api/v1/reports/monthly?month={MARCH}").get_json()
    april = manager.get("/api/v1/reports/monthly?month=2026-04").get_json()
    serum_march = next(r for r in march["by_item"] if r.get("sku") == "SERUM")
    serum_april = next(r for r in april["by_item"] if r.get("sku") == "SERUM")
    # March: 2 sold (5850 each after discount), February's one refunded (6500).
    assert (serum_march["quantity"], serum_march["refund_cents"]) == (2, 6500)
    assert serum_march["net_cents"] == 11700 - 6500
    # April: nothing sold, one of March's refunded at its discounted price.
    assert (serum_april["quantity"], serum_april["refund_cents"]) == (0, 5850)
    assert serum_april["net_cents"] == -5850
    assert april["refund_cents"] == 5850 and april["refund_tax_cents"] == 468


def test_a_sale_counts_in_the_month_it_was_paid_not_the_month_it_was_started(app, api):
    h = History(db.session)
    h.sale([("SERUM", 1)], method="card",
           created_at=clinic_instant(date(2026, 3, 31), time(23, 50)),
           paid_at=clinic_instant(date(2026, 4, 1), time(0, 10)))
    db.session.commit()
    manager = api("manager")
    assert manager.get(f"/api/v1/reports/monthly?month={MARCH}").get_json()["sales_count"] == 0
    april = manager.get("/api/v1/reports/monthly?month=2026-04").get_json()
    assert (april["sales_count"], april["gross_cents"]) == (1, 6500)
    assert april["by_day"][0] == {"date": "2026-04-01", "sales_cents": 6500,
                                  "refund_cents": 0, "net_cents": 6500}


def test_re_running_a_month_gives_identical_figures(app):
    h = clinic_history()
    first = monthly_report(db.session, 2026, 3)
    again = monthly_report(db.session, 2026, 3)
    assert again == first
    assert report_csv(again) == report_csv(first)
    # Business in later months changes nothing in March (except the later months).
    h.sale([("FACE1", 2)], paid_at=clinic_instant(date(2026, 5, 5), time(12, 0)))
    db.session.commit()
    later = monthly_report(db.session, 2026, 3)
    assert report_json(later) == report_json(first)


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "26-03", "2026-3", "march",
                                   "2026-03-01", "0000-01", "2026-03\n"])
def test_a_month_that_is_not_yyyy_mm_is_a_422_validation_error(app, api, client, login_as,
                                                              month):
    response = api("manager").get("/api/v1/reports/monthly", query_string={"month": month})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    login_as("manager")
    assert client.get("/reports/monthly", query_string={"month": month}).status_code == 422
    assert client.get("/reports/monthly.csv",
                      query_string={"month": month}).status_code == 422


def test_the_api_needs_the_month(app, api):
    response = api("manager").get("/api/v1/reports/monthly")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {"month": "must be YYYY-MM"}


@pytest.mark.parametrize("role, status", [("front_desk", 403), ("provider", 403),
                                          ("manager", 200), ("admin", 200)])
def test_only_managers_and_admins_read_the_report_through_the_api(app, api, role, status):
    response = api(role).get(f"/api/v1/reports/monthly?month={MARCH}")
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"


def test_the_report_api_without_a_token_is_401(app, client):
    response = client.get(f"/api/v1/reports/monthly?month={MARCH}")
    assert response.status_code == 401


@pytest.mark.parametrize("path", [f"/reports/monthly?month={MARCH}",
                                  f"/reports/monthly.csv?month={MARCH}"])
@pytest.mark.parametrize("role, status", [(None, 302), ("front_desk", 403),
                                          ("provider", 403), ("manager", 200),
                                          ("admin", 200)])
def test_only_managers_and_admins_open_the_report_page_and_csv(app, client, login_as, path,
                                                              role, status):
    if role:
        login_as(role)
    response = client.get(path)
    assert response.status_code == status
    if role is None:
        assert "/login" in response.headers["Location"]


def test_the_reports_link_is_in_the_top_bar_for_managers_only(app, client, login_as):
    login_as("manager")
    assert 'href="/reports/monthly"' in client.get("/stock/").get_data(as_text=True)
    login_as("front_desk")
    assert 'href="/reports/monthly"' not in client.get("/stock/").get_data(as_text=True)


def test_the_report_path_is_described_in_the_openapi_document(app, client):
    document = client.get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/v1/reports/monthly"]["get"]
    assert operation["parameters"][0]["name"] == "month"
    assert "422" in operation["responses"]


def test_the_cli_prints_the_summary_and_writes_the_csv(app, tmp_path):
    clinic_history()
    target = tmp_path / "march.csv"
    result = app.test_cli_runner().invoke(args=["pos", "report", "--month", MARCH,
                                                "--csv", str(target)])
    assert result.exit_code == 0, result.output
    assert "Net sales" in result.output and "$1,076.51" in result.output
    assert target.read_bytes().decode() == report_csv(monthly_report(db.session, 2026, 3))
    bad = app.test_cli_runner().invoke(args=["pos", "report", "--month", "2026-3"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output


def test_the_monthly_email_is_queued_once_with_the_csv_attached(app, users):
    clinic_history()
    manager = users.get("manager")
    users.get("front_desk")
    db.session.add(User(email="gone@test.example", name="Former", roles=frozenset({Role.MANAGER}),
                        password_hash="x", active=False))
    db.session.commit()
    # DIGEST_HOUR is 7, clinic time: 1 April 06:59 in New York is too early.
    with freeze_time("2026-04-01 10:59:00"):
        assert queue_monthly_report(app_settings(app)) is None
    with freeze_time("2026-04-01 11:00:00"):
        assert queue_monthly_report(app_settings(app)) is not None
        assert queue_monthly_report(app_settings(app)) is None
    with freeze_time("2026-04-02 09:00:00"):
        assert queue_monthly_report(app_settings(app)) is None
    messages = db.session.scalars(select(OutboxMessage)
                                  .where(OutboxMessage.topic == "report")).all()
    assert len(messages) == 1
    message = messages[0]
    assert message.dedupe_key == "report:2026-03" and message.channel == "email"
    recipients = [r.strip() for r in message.recipients.split(",")]
    assert manager.email in recipients and "boss@test.example" in recipients
    assert "gone@test.example" not in recipients
    assert "front_desk@test.example" not in recipients
    assert "2026-03" in message.subject
    assert "Net sales" in message.body and "$1,076.51" in message.body
    [attachment] = message.attachments
    assert attachment["filename"] == "report-2026-03.csv"
    assert attachment["content_type"] == "text/csv"
    assert attachment["text"] == report_csv(monthly_report(db.session, 2026, 3))


def test_an_empty_month_shows_zeros_on_the_page_and_in_the_api(app, client, login_as, api):
    login_as("manager")
    page = client.get("/reports/monthly?month=2019-07")
    assert page.status_code == 200
    figures = page_figures(page.get_data(as_text=True))
    assert figures[("totals", "", "net_cents")] == 0
    assert figures[("package_liability", "", "closing_cents")] == 0
    body = api("manager").get("/api/v1/reports/monthly?month=2019-07").get_json()
    assert (body["sales_count"], body["average_sale_cents"], body["by_item"]) == (0, 0, [])
    assert len(body["by_day"]) == 31


def test_the_page_without_a_month_shows_the_current_clinic_month(app, client, login_as):
    login_as("manager")
    body = client.get("/reports/monthly").get_data(as_text=True)
    assert f"Monthly report · {clock.today():%B %Y}" in body


def test_managers_receive_last_months_report_by_email_once_with_the_csv(mail_app, smtp_server,
                                                                        users):
    from pos.notify.outbox import deliver_pending

    clinic_history()
    manager = users.get("manager")
    with freeze_time("2026-04-01 11:30:00"):  # 07:30 in New York
        queue_monthly_report(app_settings(mail_app))
        queue_monthly_report(app_settings(mail_app))
    deliver_pending()
    deliver_pending()
    reports = [m for m in smtp_server.messages if "monthly report 2026-03" in str(m["Subject"])]
    assert len(reports) == 1
    [message] = reports
    envelope_to = smtp_server.envelopes[smtp_server.messages.index(message)][1]
    assert sorted(envelope_to) == sorted([manager.email, "boss@test.example"])
    assert "Net sales" in message.get_body(preferencelist=("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "report-2026-03.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_content().replace("\r\n", "\n") == \
        report_csv(monthly_report(db.session, 2026, 3)).replace("\r\n", "\n")


def test_the_csv_has_one_section_per_table_of_the_page_with_dollar_amounts(
        app, client, login_as):
    clinic_history()
    login_as("manager")
    text = client.get(f"/reports/monthly.csv?month={MARCH}").get_data(as_text=True)
    sections = csv_sections_of(text)
    assert list(sections) == ["Totals", "By item and package", "By category",
                              "By payment method", "By staff member who sold", "By tender",
                              "Tips by staff", "Packages", "Package liability",
                              "Account credit", "Supplies", "Write-offs", "By day"]
    head, totals = sections["Totals"]
    assert head == ["Totals", "2026-03", "Previous month 2026-02", "Change", "Change %",
                    "Same month last year 2025-03", "Change", "Change %"]
    assert totals[0] == ["Gross sales", "1244.51", "65.00", "1179.51", "1814.63", "0.00",
                         "1244.51", ""]
    assert totals[5][:2] == ["Number of sales", "2"]
    head, items = sections["By item and package"]
    assert head == ["By item and package", "Code", "Category", "Qty sold", "Gross",
                    "Discounts", "Refunds", "Net", "Tax", "Sales"]
    assert ["Face, series of 3", "FACE3", "package", "1", "900.01", "90.00", "0.00",
            "810.01", "0.00", "1"] in items
    assert ["Cash", "4", "214.50", "0.00", "65.00", "149.50", "17.16", "1"] in \
        sections["By payment method"][1]
    assert sections["Package liability"][1][-1] == ["Closing, 2026-04-01", "540.01"]
    assert sections["Account credit"][1][-1] == ["Held by clients, 2026-04-01", "0.00"]
    assert ["Total", "", "", "42.73"] in sections["Supplies"][1]
    assert ["2026-03-02", "0.00", "65.00", "-65.00"] in sections["By day"][1]
    assert len(sections["By day"][1]) == 31
    assert "$" not in text and '"1,244' not in text  # no currency sign, no thousands commas
