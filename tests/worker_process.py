"""`flask --app wsgi pos worker` as a real process, for the tests that need one.

The process gets the development configuration (the test one switches Stripe and mail off)
pointed at the test's own database, an instance folder of its own, and unbuffered output.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")


def worker_env(database_url: str, instance: Path, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"FLASK_APP", "MAIL_SERVER", "STRIPE_SECRET_KEY", "ALERT_EMAIL_TO"}}
    env.update({"POS_ENV": "development", "DATABASE_URL": database_url,
                "SECRET_KEY": "worker-test-secret", "POS_INSTANCE_DIR": str(instance),
                "PYTHONUNBUFFERED": "1"})
    env.update({key: str(value) for key, value in settings.items() if value is not None})
    return env


def run_once(env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """One round (`pos worker --once`); returns the finished process (output as text)."""
    return subprocess.run([FLASK, "--app", "wsgi", "pos", "worker", "--once"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


class WorkerProcess:
    """A long-running `pos worker`, its stdout and stderr in files."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str,
                 interval: float = 0.5) -> None:
        self.out_path = log_dir / f"{name}.out"
        self.err_path = log_dir / f"{name}.err"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [FLASK, "--app", "wsgi", "pos", "worker", "--interval", str(interval)],
                cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True)

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def log(self) -> str:
        return self.err_path.read_text(errors="replace")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as systemd or `make run` sends it; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
