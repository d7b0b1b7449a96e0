"""Gift cards (issue 14, part 5): codes, issue, balance, redeem in visits, reversal,
refund of the unspent balance, the balance look-up (API and page). Both databases."""
from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from pos.domain.gift_cards import ALPHABET, grouped, masked, new_code, normalise_code
from pos.extensions import db
from pos.models import GiftCard, GiftCardEntry, OutboxMessage, Payment, Sale, SaleLine
from pos.services import clock, gift_cards
from pos.services.clock import travel_to
from pos.services.gift_cards import GiftCardBalanceTooLow, UnknownGiftCard
from pos.services.ledger import default_location
from pos.services.sales.records import lock_sale, mark_paid
from pos.services.transaction import write_transaction
from tests.factories import make_item
from tests.fixtures_payments import csrf_token_of, deliver
from tests.report_history import clinic_instant


def _cash_sale(api) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """A paid cash sale: (sale id, its tender's payment id, its line id)."""
    response = api("front_desk").post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"sku": "SERUM", "quantity": 1}]})
    assert response.status_code == 201, response.get_json()
    sale_id = response.get_json()["id"]
    payment_id = db.session.scalar(select(Payment.id).where(Payment.sale_id == sale_id))
    line_id = db.session.scalar(select(SaleLine.id).where(SaleLine.sale_id == sale_id))
    assert payment_id is not None and line_id is not None
    return sale_id, payment_id, line_id


def _issue(amount_cents: int, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with write_transaction() as session:
        card = gift_cards.issue(session, amount_cents, sale_line_id=kwargs.get("line_id"),
                                sale_id=kwargs.get("sale_id"), user_id=None,
                                recipient_email=kwargs.get("recipient_email"))
        return card.code


def _redeem(code: str, cents: int, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with write_transaction() as session:
        return gift_cards.redeem(session, code, cents, sale_id=kwargs.get("sale_id"),
                                 payment_id=kwargs.get("payment_id"), user_id=None)


def _ledger_sum(code: str) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(GiftCardEntry.amount_cents), 0))
        .join(GiftCard, GiftCard.id == GiftCardEntry.gift_card_id)
        .where(GiftCard.code == code)) or 0


def test_codes_are_16_unambiguous_characters_accepted_with_or_without_dashes():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 16 and set(code) <= set(ALPHABET)
        assert not set(code) & set("0O1I")
    code = "ABCD2345EFGH6789"
    assert grouped(code) == "ABCD-2345-EFGH-6789"
    assert masked(code) == "****-****-****-6789"
    assert normalise_code("abcd-2345-efgh-6789") == code
    assert normalise_code(" ABCD 2345 efgh6789 ") == code
    assert normalise_code("ABCD-2345-EFGH-678O") is None  # O is not in the alphabet
    assert normalise_code("ABCD2345") is None


def test_a_gift_card_sold_redeemed_in_two_visits_reaches_0_and_a_third_redemption_is_422(app):
    code = _issue(5000)
    assert _redeem(code, 3000) == 2000
    # The second visit types the code as printed, in lower case.
    assert _redeem(grouped(code).lower(), 2000) == 0
    with pytest.raises(GiftCardBalanceTooLow) as refused:
        _redeem(code, 1)
    assert refused.value.status == 422 and refused.value.code == "gift_card_balance_too_low"
    view = gift_cards.balance(db.session, code)
    assert view.balance_cents == 0
    assert [(e.kind, e.amount_cents) for e in view.history] == [
        ("issue", 5000), ("redeem", -3000), ("redeem", -2000)]
    assert _ledger_sum(code) == 0


def test_more_than_the_balance_is_refused_and_nothing_is_taken(app):
    code = _issue(2500)
    with pytest.raises(GiftCardBalanceTooLow) as refused:
        _redeem(code, 2501)
    assert refused.value.details["balance_cents"] == 2500
    assert gift_cards.balance(db.session, code).balance_cents == 2500
    assert _ledger_sum(code) == 2500


def test_an_unknown_code_is_422_unknown_gift_card(app):
    _issue(1000)
    for typed in ("ABCD-2345-EFGH-6789", "not a code", ""):
        with pytest.raises(UnknownGiftCard) as refused:
            _redeem(typed, 100)
        assert refused.value.status == 422 and refused.value.code == "unknown_gift_card"


def test_an_amount_outside_1_to_1000_dollars_is_not_sold(app):
    for cents in (99, 100_001, 0, -5):
        with pytest.raises(Exception) as refused:
            _issue(cents)
        assert getattr(refused.value, "code", None) == "validation_error"
    assert db.session.scalar(select(func.count(GiftCard.id))) == 0


def test_a_reversed_redemption_gives_the_tender_back_to_the_card_once(app, api):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 10, 300)])
    sale_id, payment_id, _ = _cash_sale(api)
    code = _issue(4000)
    assert _redeem(code, 3000, sale_id=sale_id, payment_id=payment_id) == 1000
    with write_transaction() as session:
        assert gift_cards.reverse_redemption(session, payment_id) == 3000
    with write_transaction() as session:
        assert gift_cards.reverse_redemption(session, payment_id) == 0
    view = gift_cards.balance(db.session, code)
    assert view.balance_cents == 4000
    assert [e.kind for e in view.history] == ["issue", "redeem", "reverse"]
    assert _ledger_sum(code) == 4000


def test_refunding_a_partly_spent_card_refunds_what_is_left_and_empties_it(app, api):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 10, 300)])
    sale_id, _, line_id = _cash_sale(api)
    code = _issue(5000, line_id=line_id, sale_id=sale_id)
    _redeem(code, 1200)
    with write_transaction() as session:
        assert gift_cards.refund_unspent(session, line_id, sale_id=sale_id, user_id=None) == 3800
    with write_transaction() as session:
        assert gift_cards.refund_unspent(session, line_id, sale_id=sale_id, user_id=None) == 0
    view = gift_cards.balance(db.session, code)
    assert view.balance_cents == 0
    assert [(e.kind, e.amount_cents) for e in view.history][-1] == ("refund", -3800)
    with pytest.raises(GiftCardBalanceTooLow):
        _redeem(code, 1)
    with write_transaction() as session:
        assert gift_cards.code_for_receipt(session, line_id) == grouped(code)


def test_the_recipient_is_mailed_the_code_and_amount_and_nothing_of_the_buyer(app):
    code = _issue(7500, recipient_email="friend@example.com")
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "gift_card"))
    assert message is not None and message.recipients == "friend@example.com"
    assert grouped(code) in message.body and "$75.00" in message.body
    assert _issue(1000) and db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.topic == "gift_card")) == 1


def test_the_balance_api_shows_the_code_masked_with_its_history(app, api):
    code = _issue(5000)
    _redeem(code, 1250)
    desk = api("front_desk")
    response = desk.get(f"/api/v1/gift-cards/{grouped(code).lower()}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == masked(code) and code not in response.get_data(as_text=True)
    assert body["balance_cents"] == 3750
    assert [(h["kind"], h["amount_cents"]) for h in body["history"]] == [
        ("issue", 5000), ("redeem", -1250)]
    missing = desk.get("/api/v1/gift-cards/ABCD-2345-EFGH-6789")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "unknown_gift_card"
    assert desk.get("/api/v1/gift-cards/" + "x" * 300).status_code == 404


def test_the_balance_page_shows_the_masked_code_and_balance(app, client, login_as):
    code = _issue(5000)
    _redeem(code, 500)
    login_as("front_desk")
    page = client.get("/desk/gift-cards")
    assert page.status_code == 200 and "Gift card balance" in page.get_data(as_text=True)
    token = csrf_token_of(page.get_data(as_text=True))
    found = client.post("/desk/gift-cards", data={"csrf_token": token,
                                                  "code": grouped(code).lower()})
    text = found.get_data(as_text=True)
    assert found.status_code == 200
    assert masked(code) in text and "$45.00" in text and "-$5.00" in text
    assert code not in text and grouped(code) not in text and grouped(code).lower() not in text
    missing = client.post("/desk/gift-cards", data={"csrf_token": token,
                                                    "code": "ABCD-2345-EFGH-6789"})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "No gift card has this code." in text
    assert 'role="alert"' in text and re.search(r'aria-invalid="true"', text)
    empty = client.post("/desk/gift-cards", data={"csrf_token": token, "code": ""})
    assert empty.status_code == 422 and "Type the code on the card." in empty.get_data(
        as_text=True)


def test_the_monthly_report_rolls_the_gift_card_liability_forward_exactly(app, api, client,
                                                                          login_as):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 10, 300)])
    sale_id, payment_id, line_id = _cash_sale(api)  # today: outside the months below

    def at(day: date, hour: int = 12, minute: int = 0):  # type: ignore[no-untyped-def]
        return travel_to(clinic_instant(day, time(hour, minute)))

    with at(date(2026, 2, 20)):
        card_a = _issue(10000)
    with at(date(2026, 3, 3)):
        _redeem(card_a, 3000)
    with at(date(2026, 3, 10)):
        card_b = _issue(5000, line_id=line_id, sale_id=sale_id)
    with at(date(2026, 3, 15)):
        _redeem(card_b, 1000, sale_id=sale_id, payment_id=payment_id)
    with at(date(2026, 3, 20)), write_transaction() as session:
        gift_cards.reverse_redemption(session, payment_id)
    with at(date(2026, 3, 25)), write_transaction() as session:
        gift_cards.refund_unspent(session, line_id, sale_id=sale_id, user_id=None)
    with at(date(2026, 3, 31), 23, 59):
        _redeem(card_a, 500)
    with at(date(2026, 4, 1), 0, 0):
        _redeem(card_a, 700)

    manager = api("manager")
    march = manager.get("/api/v1/reports/monthly?month=2026-03").get_json()
    assert march["gift_card_liability"] == {
        "opening_cents": 10000, "sold_cents": 5000, "redeemed_cents": 3000 + 1000 - 1000 + 500,
        "refunded_cents": 5000, "closing_cents": 6500}
    assert march["gift_card_liability_cents"] == 6500
    # Not sales, not revenue, not tax.
    assert march["totals"]["gross_cents"] == 0 and march["totals"]["tax_cents"] == 0
    april = manager.get("/api/v1/reports/monthly?month=2026-04").get_json()
    assert april["gift_card_liability"] == {
        "opening_cents": 6500, "sold_cents": 0, "redeemed_cents": 700, "refunded_cents": 0,
        "closing_cents": 5800}
    assert april["gift_card_liability_cents"] == sum(
        gift_cards.balance(db.session, c).balance_cents for c in (card_a, card_b))

    login_as("manager")
    page = client.get("/reports/monthly?month=2026-03").get_data(as_text=True)
    shown = dict(re.findall(r'data-gift-card-figure="([a-z_]+)">([^<]+)<', page))
    assert shown == {"opening_cents": "$100.00", "sold_cents": "$50.00",
                     "redeemed_cents": "$35.00", "refunded_cents": "$50.00",
                     "closing_cents": "$65.00"}


def test_a_gift_card_line_issues_its_card_when_the_sale_is_paid_and_shows_the_code(app, api):
    with write_transaction() as session:
        sale = Sale(location_id=default_location(session).id, status="awaiting_payment",
                    payment_method="cash", subtotal_cents=5000, total_cents=5000)
        line = SaleLine(name="Gift card", category="gift_card", quantity=1,
                        unit_price_cents=5000, subtotal_cents=5000, total_cents=5000)
        sale.lines.append(line)
        session.add(sale)
        session.flush()
        code = gift_cards.prepare(session, 5000, sale_line_id=line.id,
                                  recipient_email="friend@example.com").code
        sale_id = sale.id
    desk = api("front_desk")
    unpaid = desk.get(f"/api/v1/sales/{sale_id}").get_json()
    assert unpaid["lines"][0]["gift_card_code"] is None
    with pytest.raises(GiftCardBalanceTooLow):  # worth nothing until paid
        _redeem(code, 100)
    for _ in range(2):  # paid once; a second issue changes nothing
        with write_transaction() as session:
            paid = lock_sale(session, sale_id)
            assert paid is not None
            if paid.status != "paid":
                mark_paid(session, paid)
            else:
                assert gift_cards.issue_for_paid_sale(session, paid) == 0
    body = desk.get(f"/api/v1/sales/{sale_id}").get_json()
    assert body["status"] == "paid" and body["tax_cents"] == 0
    assert body["lines"][0]["gift_card_code"] == grouped(code)
    assert gift_cards.balance(db.session, code).balance_cents == 5000
    assert [e.kind for e in gift_cards.balance(db.session, code).history] == ["issue"]
    mails = db.session.scalars(select(OutboxMessage)
                               .where(OutboxMessage.topic == "gift_card")).all()
    assert len(mails) == 1 and grouped(code) in mails[0].body


def test_a_gift_card_sold_in_a_cash_sale_is_not_taxed_not_discounted_and_not_revenue(app, api):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 10, 300)])
    manager, desk = api("manager"), api("front_desk")
    assert manager.post("/api/v1/discount-codes", json={
        "code": "TENOFF", "kind": "percent", "value": 10}).status_code == 201
    response = desk.post("/api/v1/sales", json={
        "payment": "cash", "discount_code": "TENOFF",
        "lines": [{"sku": "SERUM", "quantity": 1},
                  {"gift_card": {"amount_cents": 5000,
                                 "recipient_email": "friend@example.com"}}]})
    assert response.status_code == 201, response.get_json()
    sale = response.get_json()
    serum, gift = sale["lines"]
    assert serum["discount_cents"] == 650 and serum["tax_cents"] > 0
    assert (gift["category"], gift["subtotal_cents"], gift["discount_cents"],
            gift["tax_cents"], gift["total_cents"]) == ("gift_card", 5000, 0, 0, 5000)
    assert sale["total_cents"] == serum["total_cents"] + 5000
    code = gift["gift_card_code"]
    assert code is not None and re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    assert gift_cards.balance(db.session, code).balance_cents == 5000
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "gift_card"))
    assert mail is not None and code in mail.body
    assert "SERUM" not in mail.body and "Serum" not in mail.body

    today = clock.clinic_date(clock.now())
    report = manager.get(f"/api/v1/reports/monthly?month={today:%Y-%m}").get_json()
    assert report["gross_cents"] == 6500 and report["discount_cents"] == 650
    assert report["tax_cents"] == serum["tax_cents"]
    assert report["gift_card_liability"]["sold_cents"] == 5000
    assert report["gift_card_liability_cents"] == 5000
    assert [r["category"] for r in report["by_category"] if r["gross_cents"]] == ["retail"]


def test_a_gift_card_line_is_checked_and_a_discount_on_gift_cards_alone_is_refused(app, api):
    manager, desk = api("manager"), api("front_desk")
    assert manager.post("/api/v1/discount-codes", json={
        "code": "TENOFF", "kind": "percent", "value": 10}).status_code == 201
    for line in ({"gift_card": {"amount_cents": 99}},
                 {"gift_card": {"amount_cents": 100_001}},
                 {"gift_card": {"amount_cents": 5000, "recipient_email": "nobody"}},
                 {"gift_card": {"amount_cents": 5000}, "quantity": 2}):
        refused = desk.post("/api/v1/sales", json={"payment": "cash", "lines": [line]})
        assert refused.status_code == 422, line
        assert refused.get_json()["error"]["code"] == "validation_error"
    only_gifts = desk.post("/api/v1/sales", json={
        "payment": "cash", "discount_code": "TENOFF",
        "lines": [{"gift_card": {"amount_cents": 5000}}]})
    assert only_gifts.status_code == 422
    assert only_gifts.get_json()["error"]["details"]["reason"] == "gift_cards_only"
    assert db.session.scalar(select(func.count(GiftCard.id))) == 0
    plain = desk.post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"gift_card": {"amount_cents": 2500}},
                                     {"gift_card": {"amount_cents": 2500}}]})
    assert plain.status_code == 201 and plain.get_json()["total_cents"] == 5000
    codes = [line["gift_card_code"] for line in plain.get_json()["lines"]]
    assert len(set(codes)) == 2  # two cards, never merged


def test_refunding_a_sold_gift_card_line_gives_back_only_its_unspent_balance(app, api):
    desk, manager = api("front_desk"), api("manager")
    sold = desk.post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"gift_card": {"amount_cents": 5000}}]}).get_json()
    line = sold["lines"][0]
    _redeem(line["gift_card_code"], 1200)
    response = manager.post(f"/api/v1/sales/{sold['id']}/refunds", json={
        "lines": [{"line_id": line["id"], "quantity": 1}], "restock": False,
        "reason": "changed their mind"})
    assert response.status_code == 201, response.get_json()
    refund = response.get_json()
    assert refund["amount_cents"] == 3800 and refund["tax_cents"] == 0
    view = gift_cards.balance(db.session, line["gift_card_code"])
    assert view.balance_cents == 0 and view.history[-1].kind == "refund"
    with pytest.raises(GiftCardBalanceTooLow):
        _redeem(line["gift_card_code"], 1)
    today = clock.clinic_date(clock.now())
    report = manager.get(f"/api/v1/reports/monthly?month={today:%Y-%m}").get_json()
    assert report["gift_card_liability"] == {
        "opening_cents": 0, "sold_cents": 5000, "redeemed_cents": 1200,
        "refunded_cents": 3800, "closing_cents": 0}
    assert report["refund_cents"] == 0 and report["gross_cents"] == 0


def test_the_receipt_of_the_sale_that_sold_it_shows_the_whole_code(app, api, client, login_as):
    desk = api("front_desk")
    client_id = desk.post("/api/v1/clients", json={
        "first_name": "Ada", "last_name": "Buyer", "email": "ada@example.com"}).get_json()["id"]
    sold = desk.post("/api/v1/sales", json={
        "payment": "cash", "client_id": client_id,
        "lines": [{"gift_card": {"amount_cents": 4000}}]}).get_json()
    code = sold["lines"][0]["gift_card_code"]
    login_as("front_desk")
    page = client.get(f"/sales/{sold['id']}/receipt").get_data(as_text=True)
    assert f"Gift card code: <span class=\"mono\">{code}</span>" in page
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "receipt"))
    assert mail is not None and f"gift card code: {code}" in mail.body
    # Everywhere else, masked.
    balance = desk.get(f"/api/v1/gift-cards/{code}").get_json()
    assert balance["code"] == masked(normalise_code(code) or "")
    assert balance["balance_cents"] == 4000


def test_a_gift_card_paid_by_card_is_issued_once_when_the_checkout_settles(
        stripe_app, standin, api, client):
    desk = api("front_desk")
    sale = desk.post("/api/v1/sales", json={
        "payment": "card", "lines": [{"gift_card": {"amount_cents": 3000}}]}).get_json()
    assert sale["status"] == "awaiting_payment"
    assert sale["lines"][0]["gift_card_code"] is None
    card = db.session.scalar(select(GiftCard))
    assert card is not None and card.balance_cents == 0  # nothing to spend yet
    standin.pay(sale["checkout_session_id"])
    for _ in range(3):
        assert deliver(client, standin, sale["checkout_session_id"],
                       "checkout.session.completed").status_code == 200
    paid = desk.get(f"/api/v1/sales/{sale['id']}").get_json()
    assert paid["status"] == "paid"
    code = paid["lines"][0]["gift_card_code"]
    view = gift_cards.balance(db.session, code)
    assert view.balance_cents == 3000 and [e.kind for e in view.history] == ["issue"]
