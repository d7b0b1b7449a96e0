"""Figures the monthly report keeps so it does not re-read all history: liability snapshots.

`package_liability_snapshots` holds the package liability (value of sessions paid for and
neither performed nor refunded) at an instant: the sum over every event strictly before
`at`. The report stores it at its month boundaries once they are in the past, and reads
the one at a month's start as that month's opening.

A stored figure is only worth keeping while it equals what the history says, so the
database itself removes it: a trigger on every table the figure is computed from
(sales, sale_lines, package_purchases, treatments, refunds, refund_lines) deletes, in the
writing transaction, every snapshot later than the changed row's own date (a treatment's
performed_at, a sale's paid_at, a refund's created_at; for a purchase, a line or a refund
line, that of its sale or refund). A backdated treatment, a void, a refund that fails, a
late payment dated in the past: whatever writes them (the ORM, Core, psql), the snapshots
after that date are gone when it commits. The trigger fires on the columns the figure
reads only, and changes that leave them equal do nothing.

Race: a report computing a snapshot cannot see a write that has not committed yet. On
PostgreSQL each trigger takes a SHARED transaction advisory lock (SNAPSHOT_LOCK_KEY) and a
report stores snapshots only under the EXCLUSIVE one: it waits for the writers in flight
to commit (so its statements see their rows), and writers arriving meanwhile wait for it
to commit (so their DELETE sees its rows). On SQLite the report computes and stores in a
BEGIN IMMEDIATE transaction, which no writer can interleave with.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, event
from sqlalchemy.orm import Mapped, mapped_column

from pos.extensions import db
from pos.models.sales import SaleLine
from pos.models.types import UTCDateTime, utcnow

# Any constant bigint no other code uses for pg_advisory_*: "liability" on a phone keypad.
SNAPSHOT_LOCK_KEY = 545_422_489


class PackageLiabilitySnapshot(db.Model):
    __tablename__ = "package_liability_snapshots"

    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    liability_cents: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The liability reads the purchases of a window's sales through their package lines: this
# index answers "the package lines of sale N" from the index alone, a probe per sale that
# costs the same whatever the length of the history.
Index("ix_sale_lines_package_sale", SaleLine.sale_id, SaleLine.id,
      postgresql_where=SaleLine.package_id.is_not(None),
      sqlite_where=SaleLine.package_id.is_not(None))


# table -> (the date of a row as SQL over {row} = OLD or NEW, the columns that matter)
_WATCHED: dict[str, tuple[str, tuple[str, ...]]] = {
    "sales": ("{row}.paid_at", ("status", "paid_at")),
    "sale_lines": ("(SELECT paid_at FROM sales WHERE sales.id = {row}.sale_id)",
                   ("sale_id", "package_id")),
    "package_purchases": (
        "(SELECT s.paid_at FROM sale_lines l JOIN sales s ON s.id = l.sale_id"
        " WHERE l.id = {row}.sale_line_id)",
        ("sale_line_id", "value_cents", "sessions_total")),
    "treatments": ("{row}.performed_at", ("purchase_id", "performed_at", "voided_at")),
    "refunds": ("{row}.created_at", ("status", "created_at")),
    "refund_lines": ("(SELECT created_at FROM refunds WHERE refunds.id = {row}.refund_id)",
                     ("refund_id", "sale_line_id", "net_cents")),
}
# Inserting a sale line changes nothing by itself (its purchase carries the value).
_NO_INSERT_TRIGGER = {"sale_lines"}


def _changed(columns: tuple[str, ...], dialect: str) -> str:
    op = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    return " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in columns)


def _postgresql_ddl() -> list[str]:
    out = []
    for table, (date_of, columns) in _WATCHED.items():
        function = f"pos_liability_{table}"
        out += [f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    since timestamptz;
BEGIN
    IF TG_OP <> 'INSERT' THEN since := {date_of.format(row="OLD")}; END IF;
    IF TG_OP <> 'DELETE' THEN since := LEAST(since, {date_of.format(row="NEW")}); END IF;
    IF since IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock_shared({SNAPSHOT_LOCK_KEY});
        DELETE FROM package_liability_snapshots WHERE at > since;
    END IF;
    RETURN NULL;
END $$""",
                f"DROP TRIGGER IF EXISTS {function}_write ON {table}",
                f"CREATE TRIGGER {function}_write AFTER "
                f"{'DELETE' if table in _NO_INSERT_TRIGGER else 'INSERT OR DELETE'} "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
                f"DROP TRIGGER IF EXISTS {function}_update ON {table}",
                f"CREATE TRIGGER {function}_update AFTER UPDATE OF {', '.join(columns)} "
                f"ON {table} FOR EACH ROW WHEN ({_changed(columns, 'postgresql')}) "
                f"EXECUTE FUNCTION {function}()"]
    return out


def _sqlite_ddl() -> list[str]:
    out = []
    delete = "DELETE FROM package_liability_snapshots WHERE {where};"
    for table, (date_of, columns) in _WATCHED.items():
        name = f"pos_liability_{table}"
        old, new = date_of.format(row="OLD"), date_of.format(row="NEW")
        # `at > NULL` is NULL: an unpaid sale's NULL date deletes nothing, as intended.
        triggers = {
            "delete": f"AFTER DELETE ON {table} BEGIN "
                      + delete.format(where=f"at > {old}") + " END",
            "update": f"AFTER UPDATE OF {', '.join(columns)} ON {table} "
                      f"WHEN {_changed(columns, 'sqlite')} BEGIN "
                      + delete.format(where=f"at > {old} OR at > {new}") + " END",
        }
        if table not in _NO_INSERT_TRIGGER:
            triggers["insert"] = (f"AFTER INSERT ON {table} BEGIN "
                                  + delete.format(where=f"at > {new}") + " END")
        for kind, body in triggers.items():
            out += [f"DROP TRIGGER IF EXISTS {name}_{kind}",
                    f"CREATE TRIGGER {name}_{kind} {body}"]
    return out


def snapshot_trigger_ddl(dialect: str) -> list[str]:
    """The statements that (re)create the invalidation triggers on this database."""
    if dialect == "postgresql":
        return _postgresql_ddl()
    if dialect == "sqlite":
        return _sqlite_ddl()
    raise NotImplementedError(f"no liability snapshot triggers for {dialect}")


def drop_snapshot_trigger_ddl(dialect: str) -> list[str]:
    out = []
    for table in _WATCHED:
        name = f"pos_liability_{table}"
        if dialect == "postgresql":
            out += [f"DROP TRIGGER IF EXISTS {name}_write ON {table}",
                    f"DROP TRIGGER IF EXISTS {name}_update ON {table}",
                    f"DROP FUNCTION IF EXISTS {name}()"]
        else:
            out += [f"DROP TRIGGER IF EXISTS {name}_{kind}"
                    for kind in ("insert", "update", "delete")]
    return out


@event.listens_for(db.metadata, "after_create")
def _create_triggers(target: Any, connection: Any, **_: Any) -> None:
    # create_all() (tests, the benchmark) gets the same triggers as the migration.
    for statement in snapshot_trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)
