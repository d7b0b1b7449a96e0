"""Idempotency-Key on creating POSTs (API.md "Conventions added").

- Scoped per user: the record's key is (user, endpoint, key); another user's same key is
  another record.
- Kept 24 h: `pos worker` purges older records, and one not yet purged no longer replays.
- Freed when the request fails: any answer >= 400 (or an exception) deletes the claim, so a
  retry runs again instead of replaying the failure.
- Freed when its worker dies: the claim carries `claimed_at`; a claim still unanswered
  after IDEMPOTENCY_LEASE_SECONDS (longer than gunicorn's 30 s timeout, so a living
  request is never overtaken) is taken over by the retry, atomically (one conditional
  UPDATE: of two retries racing, one wins and the other sees the claim in progress).

The claim is its own committed row, written before the work starts, so two requests with
the same key cannot both create: the second waits on the unique constraint, then replays
the answer (or gets 409 `request_in_progress` while the first is still running).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from pos.extensions import db
from pos.models import IdempotencyRecord
from pos.services import clock
from pos.services.transaction import write_transaction
from pos.web import error_response

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255
IN_PROGRESS = 0  # status_code of a claim whose request has not answered yet


@dataclass(frozen=True)
class Claim:
    user_id: int
    endpoint: str
    key: str
    request_hash: str
    claimed_at: datetime

    def where(self) -> tuple[Any, ...]:
        return (IdempotencyRecord.user_id == self.user_id,
                IdempotencyRecord.endpoint == self.endpoint,
                IdempotencyRecord.key == self.key)

    def mine(self) -> tuple[Any, ...]:
        """The record, as long as it is still this request's claim (not taken over)."""
        return (*self.where(), IdempotencyRecord.claimed_at == self.claimed_at)


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Honour an `Idempotency-Key` header on a creating POST (after authentication)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return error_response(422, "validation_error",
                                  f"Idempotency-Key must be at most {MAX_KEY_LENGTH} "
                                  "characters.")
        claim = Claim(user_id=g.api_user.id, endpoint=request.endpoint or request.path,
                      key=key, request_hash=hashlib.sha256(request.get_data()).hexdigest(),
                      claimed_at=clock.now())
        existing = _claim(claim)
        if existing is not None:
            return _replay(existing, claim)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            _release(claim)
            raise
        if response.status_code >= 400:
            _release(claim)  # a failure is not an answer to keep: the retry runs again
        else:
            _store(claim, response)
        return response

    return wrapped


def _lease() -> timedelta:
    return timedelta(seconds=int(current_app.config["IDEMPOTENCY_LEASE_SECONDS"]))


def _claim(claim: Claim) -> IdempotencyRecord | None:
    """Claim the key; None when this request now owns it, else the record that holds it."""
    for _ in range(3):  # the holder may free the key between our insert and our read
        try:
            with write_transaction() as session:
                session.add(IdempotencyRecord(
                    user_id=claim.user_id, endpoint=claim.endpoint, key=claim.key,
                    request_hash=claim.request_hash, status_code=IN_PROGRESS, response={},
                    claimed_at=claim.claimed_at, created_at=claim.claimed_at))
            return None
        except IntegrityError:
            pass
        record = db.session.scalar(select(IdempotencyRecord).where(*claim.where()))
        db.session.rollback()
        if record is None:
            continue  # freed meanwhile: claim it again
        if not _is_free(record, claim.claimed_at):
            return record  # the usual retry: replay it (a read, no write)
        if _take_over(claim):
            return None
    # Claimed and freed three times while we looked: answer "in progress", the retry wins.
    return IdempotencyRecord(request_hash=claim.request_hash, status_code=IN_PROGRESS,
                             claimed_at=claim.claimed_at)


def _is_free(record: IdempotencyRecord, now: datetime) -> bool:
    """A claim whose request died (no answer within the lease), or any record past 24 h."""
    dead = record.status_code == IN_PROGRESS and record.claimed_at < now - _lease()
    return dead or record.created_at < now - KEEP


def _take_over(claim: Claim) -> bool:
    """Take the key from a request that died (its lease ran out) or from a record past
    its 24 h; one conditional UPDATE, so only one retry can win."""
    now = claim.claimed_at
    dead_or_expired = or_(
        and_(IdempotencyRecord.status_code == IN_PROGRESS,
             IdempotencyRecord.claimed_at < now - _lease()),
        IdempotencyRecord.created_at < now - KEEP)
    with write_transaction() as session:
        taken = session.execute(
            update(IdempotencyRecord).where(*claim.where(), dead_or_expired).values(
                request_hash=claim.request_hash, status_code=IN_PROGRESS, response={},
                claimed_at=now, created_at=now),
            execution_options={"synchronize_session": False})
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def _replay(record: IdempotencyRecord, claim: Claim):  # type: ignore[no-untyped-def]
    if record.request_hash != claim.request_hash:
        return error_response(422, "idempotency_key_reused",
                              "This Idempotency-Key was used with a different request body.")
    if record.status_code == IN_PROGRESS:
        response, status = error_response(
            409, "request_in_progress",
            "A request with this Idempotency-Key is still being processed.")
        # By then its lease has run out: a retry takes the key over if the request died.
        left = record.claimed_at + _lease() - claim.claimed_at
        response.headers["Retry-After"] = str(max(1, int(left.total_seconds()) + 1))
        return response, status
    response = jsonify(record.response)
    response.status_code = record.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _store(claim: Claim, response: Response) -> None:
    body = json.loads(response.get_data() or b"{}")
    db.session.rollback()
    with write_transaction() as session:
        session.execute(update(IdempotencyRecord).where(*claim.mine()).values(
            status_code=response.status_code, response=body),
            execution_options={"synchronize_session": False})


def _release(claim: Claim) -> None:
    db.session.rollback()
    with write_transaction() as session:
        session.execute(delete(IdempotencyRecord).where(
            *claim.mine(), IdempotencyRecord.status_code == IN_PROGRESS),
            execution_options={"synchronize_session": False})


def purge_expired(now: datetime | None = None) -> int:
    """Delete the records older than 24 h (run by `pos worker`); returns how many."""
    cutoff = (now or clock.now()) - KEEP
    with write_transaction() as session:
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff),
            execution_options={"synchronize_session": False})
    return int(result.rowcount)  # type: ignore[attr-defined]
