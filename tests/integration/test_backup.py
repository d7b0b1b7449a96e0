"""`pos backup` under load, restored into a fresh database: every committed sale is there
and the ledger sums to the on-hand caches."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import ItemStock, LotStock, Sale, StockMovement
from pos.services import clients, staff
from tests.conftest import create_database, drop_database, make_app
from tests.factories import UserPool, make_item

WRITERS = 4
PER_WRITER = 25


class Till:
    """One front desk selling in its own thread: cash sales through the API, remembering
    when each was confirmed."""

    def __init__(self, app, token: str, client_id: int) -> None:  # type: ignore[no-untyped-def]
        self.http = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.client_id = client_id
        self.confirmed: list[tuple[float, int]] = []  # (monotonic time of the reply, sale id)
        self.failures: list[tuple[int, str]] = []

    def run(self, count: int) -> None:
        for _ in range(count):
            response = self.http.post("/api/v1/sales", headers=self.headers, json={
                "client_id": self.client_id, "payment": "cash",
                "lines": [{"sku": "SERUM", "quantity": 1}, {"sku": "MASK", "quantity": 2}]})
            if response.status_code == 201:
                self.confirmed.append((time.monotonic(), response.get_json()["id"]))
            elif response.status_code != 503:
                self.failures.append((response.status_code, response.get_data(as_text=True)))


def ledger_matches_caches() -> list[str]:
    problems = []
    ledger = dict(db.session.execute(select(StockMovement.item_id, func.sum(
        StockMovement.qty_delta)).group_by(StockMovement.item_id)).all())
    for row in db.session.scalars(select(ItemStock)):
        if ledger.get(row.item_id, 0) != row.on_hand:
            problems.append(f"item {row.item_id}: ledger {ledger.get(row.item_id)} "
                            f"!= cache {row.on_hand}")
    by_lot = dict(db.session.execute(select(StockMovement.lot_id, func.sum(
        StockMovement.qty_delta)).group_by(StockMovement.lot_id)).all())
    for lot_row in db.session.scalars(select(LotStock)):
        if by_lot.get(lot_row.lot_id, 0) != lot_row.on_hand:
            problems.append(f"lot {lot_row.lot_id}: ledger != cache")
    return problems


def take_backup_under_load(app, tmp_path):  # type: ignore[no-untyped-def]
    """Start the tills, back up half-way through, return (backup file, ids confirmed before)."""
    make_item("SERUM", lots=[("S-1", 5000, 300)])
    make_item("MASK", lots=[("M-1", 5000, 300)])
    client_id = clients.create_client(first_name="Ada", last_name="Backup", email=None,
                                      phone=None, user_id=None).id
    manager = UserPool().get("manager")
    token = staff.create_token(manager.email)
    db.session.remove()
    tills = [Till(app, token, client_id) for _ in range(WRITERS)]
    threads = [threading.Thread(target=t.run, args=(PER_WRITER,)) for t in tills]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while (sum(len(t.confirmed) for t in tills) < WRITERS * PER_WRITER // 3
           and any(thread.is_alive() for thread in threads) and time.monotonic() < deadline):
        time.sleep(0.01)
    backup_file = tmp_path / "backup.dump"
    started = time.monotonic()
    result = app.test_cli_runner().invoke(args=["pos", "backup", str(backup_file)])
    for thread in threads:
        thread.join()
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output
    assert [f for t in tills for f in t.failures] == []
    before = {i for t in tills for at, i in t.confirmed if at < started}
    assert before, "some sales were confirmed before the backup began"
    assert any(at >= started for t in tills for at, _ in t.confirmed), \
        "the tills kept selling while the backup ran"
    return backup_file, before


def restore(restored_app, backup_file):  # type: ignore[no-untyped-def]
    # The CLI runs in the current app context: the restored app's, not the fixture's.
    with restored_app.app_context():
        return restored_app.test_cli_runner().invoke(
            args=["pos", "restore", str(backup_file), "--yes"])


def check_restored(restored_app, before: set[int]) -> None:  # type: ignore[no-untyped-def]
    with restored_app.app_context():
        found = set(db.session.scalars(select(Sale.id).where(Sale.id.in_(before),
                                                             Sale.status == "paid")))
        assert found == before
        assert ledger_matches_caches() == []
        serum = db.session.scalar(select(ItemStock.on_hand).join(ItemStock.item)
                                  .where(ItemStock.item.has(sku="SERUM")))
        assert 0 <= serum <= 5000 - len(before)
        db.session.remove()
        db.engine.dispose()


def test_a_sqlite_backup_taken_while_selling_restores_every_sale_and_a_ledger_that_sums(
        sqlite_app, tmp_path):
    backup_file, before = take_backup_under_load(sqlite_app, tmp_path)
    restored_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    restored = make_app(restored_url)
    result = restore(restored, backup_file)
    assert result.exit_code == 0, result.output
    check_restored(restored, before)


@pytest.mark.postgres
@pytest.mark.xdist_group("pg_backup")
def test_a_postgresql_backup_taken_while_selling_restores_into_a_new_database(
        pg_app, tmp_path, pg_server_url):
    backup_file, before = take_backup_under_load(pg_app, tmp_path)
    name = f"pos_restore_{uuid.uuid4().hex[:8]}"
    restored_url = create_database(pg_server_url, name)
    try:
        restored = make_app(restored_url)
        result = restore(restored, backup_file)
        assert result.exit_code == 0, result.output
        check_restored(restored, before)
    finally:
        drop_database(pg_server_url, name)


def test_a_backup_of_a_missing_sqlite_file_fails_with_a_clear_message(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'never-created.sqlite3'}")
    result = app.test_cli_runner().invoke(args=["pos", "backup", str(tmp_path / "b.db")])
    assert result.exit_code != 0
    assert "No SQLite database" in result.output
