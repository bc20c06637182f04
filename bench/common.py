"""What every bench module shares: the dedicated database, the environment, memory figures, JSON lines.

The bench never touches a database that holds other data. It uses, in this order, BENCH_DATABASE_URL,
or postgres://postgres@127.0.0.1:5432/dunning_bench; it creates that database when missing, migrates it,
and marks it with a small `bench_meta` table. A database with debtors but without that marker is refused.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dunning_bench"
SCALES = {
    # debtors, open claims, messages through the dispatcher, payments-API duration (s)
    "small": {"debtors": 5_000, "claims": 10_000, "dispatch": 1_000, "payments_seconds": 10},
    "medium": {"debtors": 50_000, "claims": 100_000, "dispatch": 20_000, "payments_seconds": 20},
    "full": {"debtors": 500_000, "claims": 1_000_000, "dispatch": 100_000, "payments_seconds": 30},
}
WEBHOOK_SECRET = "bench-webhook-secret"


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def scale_name() -> str:
    name = os.environ.get("BENCH_SCALE", "small")
    if name not in SCALES:
        sys.exit(f"BENCH_SCALE must be one of {', '.join(SCALES)}, not {name!r}")
    return name


def configure_environment(url: str | None = None) -> None:
    """Environment for this process and every child (workers, gunicorn): bench database, test e-mail."""
    url = url or bench_url()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": "bench-not-secret",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "EMAIL_BACKEND": "anymail.backends.test.EmailBackend",
            "SMS_BACKEND": "dunning.channels.sms.ConsoleSMSBackend",
            "PAYMENTS_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "MOLLIE_API_KEY": "",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "MEDIA_ROOT": str(REPO / ".bench-media"),
        }
    )
    os.environ.pop("REDIS_URL", None)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def django_setup(url: str | None = None) -> None:
    configure_environment(url)
    import django

    django.setup()


def database_create(url: str, *, drop: bool = False) -> None:
    """Create (or drop and re-create) the bench database; PostgreSQL via the maintenance db, SQLite a file."""
    parsed = urlparse(url)
    if parsed.scheme.startswith("sqlite"):
        path = Path(parsed.path[1:] if parsed.path.startswith("//") else parsed.path)
        if drop and path.exists():
            path.unlink()
        return
    import psycopg

    name = parsed.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        sys.exit(f"bench database name must be letters, digits and _: {name!r}")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def guard_and_mark(*, scale: str, anchor: date | None = None) -> dict:
    """Refuse a database with non-bench data; create the marker table. Returns the stored metadata."""
    from django.db import connection

    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        if "bench_meta" not in tables:
            if "customers_debtor" in tables:
                cursor.execute("SELECT EXISTS (SELECT 1 FROM customers_debtor)")
                if cursor.fetchone()[0]:
                    sys.exit(
                        "refusing to run: this database holds debtors but is not a bench database "
                        "(no bench_meta table). Point BENCH_DATABASE_URL at a dedicated database."
                    )
            cursor.execute("CREATE TABLE bench_meta (key varchar(40) PRIMARY KEY, value varchar(200) NOT NULL)")
        if anchor is not None:
            cursor.execute("DELETE FROM bench_meta")
            for key, value in (("scale", scale), ("anchor", anchor.isoformat()), ("generated", "no")):
                cursor.execute("INSERT INTO bench_meta (key, value) VALUES (%s, %s)", [key, value])
        cursor.execute("SELECT key, value FROM bench_meta")
        return dict(cursor.fetchall())


def meta_set(key: str, value: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_meta WHERE key = %s", [key])
        cursor.execute("INSERT INTO bench_meta (key, value) VALUES (%s, %s)", [key, value])


def anchor_now(anchor: date) -> datetime:
    """The moment every scenario runs "as of": 11:00 local on the anchor day (a sending day)."""
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(anchor, dtime(11, 0)))


def sending_day_from(day: date) -> date:
    from datetime import timedelta

    from dunning.windows import is_sending_day

    while not is_sending_day(day):
        day += timedelta(days=1)
    return day


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MB (ru_maxrss is in kilobytes on Linux)."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def emit(scenario: str, **figures) -> dict:
    """Print the scenario's one JSON line (stdout, flushed) and return it."""
    line = {"scenario": scenario, **figures}
    print(json.dumps(line, default=str), flush=True)
    return line


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]
