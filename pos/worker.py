"""`flask --app wsgi pos worker`: the background work of the clinic, in its own process.

Each round it delivers the outbox, raises expiring-lot alerts, queues the daily digest and
the monthly report email, and (at most once a minute) sweeps abandoned card checkouts,
purges Idempotency-Key records older than 24 h and carts untouched for 7 days. Several
workers, on one machine or several, may run at once: the outbox is claimed with
`SKIP LOCKED`, the digests have unique dedupe keys, the sweep settles each sale under its
row lock.

Between rounds it waits `interval` seconds. On PostgreSQL it also LISTENs on the outbox's
channel: a trigger on the outbox sends NOTIFY with the COMMIT of a transaction that queued
a message (see `pos.notify.outbox`), so an alert leaves within moments, not at the next poll,
and the poll stays as the safety net (a notification lost while reconnecting, a retry that
became due, the scheduled jobs). SQLite has no such signal; there the worker polls.

SIGTERM or SIGINT ends it cleanly: a round in progress finishes (a message being sent is
recorded), then the process exits 0.
"""
from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url

from pos import app_settings
from pos.extensions import db
from pos.notify.outbox import WAKE_CHANNEL, deliver_pending

log = logging.getLogger("pos.worker")

DEFAULT_INTERVAL_SECONDS = 5.0
# Sweeping asks the payment gateway about each abandoned checkout: not on every round.
SWEEP_EVERY_SECONDS = 60.0
# Waits are cut into slices this long, so a stop request is honoured promptly.
_SLICE_SECONDS = 0.5


class _Listener:
    """A connection of its own, in autocommit, LISTENing for the outbox's NOTIFY."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: Any = None

    def _connect(self) -> Any:
        import psycopg

        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
            self._connection.execute(f"LISTEN {WAKE_CHANNEL}")
        return self._connection

    def wait(self, seconds: float) -> bool:
        """Block up to `seconds`; True if a notification came. Any pending ones are drained
        (one round serves them all)."""
        try:
            connection = self._connect()
            woke = any(True for _ in connection.notifies(timeout=seconds, stop_after=1))
            if woke:
                for _ in connection.notifies(timeout=0):
                    pass
            return woke
        except Exception:  # noqa: BLE001 - the database restarting must not end the worker
            log.warning("worker: lost the LISTEN connection; polling until it is back")
            self.close()
            time.sleep(seconds)
            return False

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._connection.close()
            self._connection = None


def listen_url(sqlalchemy_url: str) -> str | None:
    """The libpq address of a PostgreSQL database URL, or None for other databases."""
    url = make_url(sqlalchemy_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Worker:
    def __init__(self, app: Flask, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._next_sweep_at = 0.0  # time.monotonic(): the first round sweeps
        url = listen_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
        self._listener = _Listener(url) if url else None

    def stop(self, *_args: Any) -> None:
        self._stop.set()

    @property
    def listens(self) -> bool:
        return self._listener is not None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, once: bool = False,
            on_round: Callable[[dict[str, int]], None] | None = None) -> int:
        """Run rounds until stopped (or one round with `once`); returns how many ran."""
        restore = self._install_signal_handlers()
        rounds = 0
        try:
            if self._listener is not None and not once:
                self._listener.wait(0)  # LISTEN before the first round: no commit is missed
            while True:
                counts = self.round()
                rounds += 1
                if on_round is not None:
                    on_round(counts)
                if once or self.stopping:
                    break
                self._wait()
                if self.stopping:
                    break
        finally:
            if self._listener is not None:
                self._listener.close()
            restore()
        return rounds

    def _wait(self) -> None:
        deadline = time.monotonic() + self.interval
        while not self.stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            step = min(left, _SLICE_SECONDS)
            if self._listener is not None:
                if self._listener.wait(step):
                    return
            else:
                self._stop.wait(step)

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None  # only the main thread may set handlers (tests use stop())
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("worker: %s received; stopping after this round",
                     signal.Signals(signum).name)
            self.stop()

        for sig in previous:
            signal.signal(sig, on_signal)

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def round(self, now: datetime | None = None) -> dict[str, int]:
        """One round of every job; each on its own, so one failing does not hold back the
        others (it is logged and tried again next round)."""
        from pos.services import sessions, throttle
        from pos.services.alerts import check_expiring_lots, queue_daily_digest
        from pos.services.carts import purge_stale
        from pos.services.reports import queue_monthly_report
        from pos.services.sales import sweep_checkouts
        from pos.web.api.idempotency import purge_expired

        counts: dict[str, int] = {}
        settings = app_settings(self.app)
        with self.app.app_context():
            try:
                self._deliver(counts)
                counts["expiring_lot_alerts"] = self._step(
                    lambda: check_expiring_lots(settings), "check_expiring_lots") or 0
                queued = [self._step(lambda: queue_daily_digest(settings), "queue_daily_digest"),
                          self._step(lambda: queue_monthly_report(settings),
                                     "queue_monthly_report") is not None]
                if time.monotonic() >= self._next_sweep_at:
                    self._next_sweep_at = time.monotonic() + SWEEP_EVERY_SECONDS
                    swept = self._step(sweep_checkouts) or {}
                    counts.update({f"checkouts_{k}": v for k, v in swept.items()})
                    counts["idempotency_purged"] = self._step(purge_expired) or 0
                    counts["carts_purged"] = self._step(purge_stale) or 0
                    counts["sessions_purged"] = self._step(sessions.purge_stale) or 0
                    counts["throttles_purged"] = self._step(throttle.purge_stale) or 0
                if counts["expiring_lot_alerts"] or any(queued):
                    self._deliver(counts)  # what this round queued leaves in this round
            finally:
                db.session.remove()
        done = {k: v for k, v in counts.items() if v}
        if done:  # counts only: no names, addresses or subjects
            log.info("worker round: %s", " ".join(f"{k}={v}" for k, v in done.items()))
        return counts

    def _deliver(self, counts: dict[str, int]) -> None:
        settings = app_settings(self.app)
        report = self._step(lambda: deliver_pending(settings=settings), "deliver_pending")
        if report is not None:
            counts["delivered"] = counts.get("delivered", 0) + report.delivered
            counts["failed"] = counts.get("failed", 0) + report.failed

    def _step(self, job: Callable[[], Any], name: str | None = None) -> Any:
        try:
            return job()
        except Exception:  # noqa: BLE001 - the worker must survive a bad moment
            db.session.rollback()
            log.exception("worker: %s failed; it runs again next round",
                          name or getattr(job, "__name__", job))
            return None
