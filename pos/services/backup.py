"""Backups a running clinic can take without stopping, and their restore.

SQLite: the online backup API copies a consistent snapshot page by page while writers keep
going (each step holds the read lock only briefly). PostgreSQL: `pg_dump` reads one
repeatable-read snapshot, so the dump is consistent however busy the server is, and
`pg_restore` loads it into an empty database.
"""
from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """The backup or restore could not be made; the message says why (no secrets in it)."""


def find_pg_tool(name: str) -> str:
    """pg_dump / pg_restore from PATH, else the newest Debian cluster's binaries."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit()
                        else 0)
    if candidates:
        return candidates[-1]
    raise BackupError(f"{name} was not found on PATH or under /usr/lib/postgresql/*/bin.")


def libpq_target(url: str | URL) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as a libpq URL for the pg_* tools, with the password in PGPASSWORD
    (so it never shows in the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def backup_database(url: str | URL, destination: str | Path) -> Path:
    """Write a consistent backup of the database at `url` to `destination`."""
    parsed = make_url(url)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(parsed), destination)
    elif parsed.get_backend_name() == "postgresql":
        target, env = libpq_target(parsed)
        _run([find_pg_tool("pg_dump"), "--format=custom", "--no-owner",
              f"--file={destination}", f"--dbname={target}"], env, "pg_dump")
    else:
        raise BackupError(f"No backup method for {parsed.get_backend_name()} databases.")
    return destination


def restore_database(url: str | URL, source: str | Path) -> None:
    """Load a backup made by backup_database into the (empty or disposable) database at `url`.

    SQLite: the file's pages replace the database's, through the same backup API.
    PostgreSQL: pg_restore --clean in one transaction, so a failed restore leaves nothing.
    """
    parsed = make_url(url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    if parsed.get_backend_name() == "sqlite":
        _sqlite_copy(source, _sqlite_path(parsed))
    elif parsed.get_backend_name() == "postgresql":
        target, env = libpq_target(parsed)
        _run([find_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--single-transaction", "--exit-on-error", f"--dbname={target}", str(source)],
             env, "pg_restore")
    else:
        raise BackupError(f"No restore method for {parsed.get_backend_name()} databases.")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _sqlite_copy(source: Path, destination: Path) -> None:
    if not source.is_file():
        raise BackupError(f"No SQLite database at {source}.")
    src = sqlite3.connect(str(source), timeout=30)
    dst = sqlite3.connect(str(destination), timeout=30)
    try:
        # One step (pages=-1): in WAL mode the copy reads one snapshot and writers carry on.
        # Copying in several steps would restart after every concurrent write, possibly
        # forever on a busy till.
        src.backup(dst)
        # The copy keeps the source's WAL mode; fold it into one self-contained file.
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
        src.close()


def _run(command: list[str], env: dict[str, str], tool: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[:500]}")
