"""Load scenario for the payments API: a real server on PostgreSQL, driven from a second process.

    .venv/bin/python bench/payments_load.py [--rate 100] [--seconds 20] [--workers 2] [--claims 3000]

1. (Re)creates the database `dunning_bench_payments` (or --database-url), migrates it, and seeds open
   claims with valid payment references.
2. Starts gunicorn (`--workers` sync workers) on a random free loopback port with DEBUG off.
3. A second process sends signed `POST /api/v1/payments/` requests at a fixed rate (open loop: a
   request's start time does not wait for earlier answers), a mix of matched payments (201),
   unmatched ones (202) and repeats (200).
4. Prints ONE JSON line: p50/p90/p99/max latency in ms, achieved throughput, status counts, errors.

Not a test: run it by hand; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-webhook-secret"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/dunning_bench_payments"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-a-secret",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PAYMENTS_WEBHOOK_SECRET": SECRET,
            "MOLLIE_API_KEY": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def prepare_database(database_url: str, claims: int) -> list[str]:
    """Fresh database, migrated, with `claims` open claims; returns their payment references."""
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(server_env(database_url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import date
    from decimal import Decimal

    from django.core.management import call_command

    from customers.models import Debtor
    from dunning.models import Claim
    from dunning.references import payment_reference_make

    call_command("migrate", verbosity=0)
    debtors = Debtor.objects.bulk_create(
        Debtor(source_reference=f"BENCH-{i:07d}", surname=f"Bench{i}", email=f"b{i}@example.nl") for i in range(claims)
    )
    refs = [payment_reference_make(700_000_000 + i) for i in range(claims)]
    Claim.objects.bulk_create(
        Claim(
            debtor=debtor,
            source_reference=f"BENCH-CLM-{i:07d}",
            payment_reference=refs[i],
            kind="ozb",
            regime="tax",
            principal=Decimal("100.00"),
            open_amount=Decimal("100.00"),
            issued_on=date(2026, 1, 1),
            due_on=date(2026, 2, 1),
        )
        for i, debtor in enumerate(debtors)
    )
    from django.db import connections

    connections.close_all()
    return refs


def start_server(database_url: str, port: int, workers: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=server_env(database_url), start_new_session=True)
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def drive(port: int, rate: float, seconds: float, refs: list[str], seed: int = 1) -> dict:
    """The load generator (runs in its own process): open loop at `rate` requests per second."""
    import requests

    rng = random.Random(seed)
    url = f"http://127.0.0.1:{port}/api/v1/payments/"
    local = threading.local()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    total = int(rate * seconds)
    paid_at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    bodies = []
    for i in range(total):
        roll = rng.random()
        if roll < 0.1 and i > 10:
            bodies.append(bodies[rng.randrange(len(bodies))])  # a repeat: 200
            continue
        reference = refs[i % len(refs)] if roll < 0.8 else f"onbekend {i}"
        amount = "100.00" if rng.random() < 0.7 else "40.00"
        data = {"external_id": f"bench-{seed}-{i}", "reference": reference, "amount": amount,
                "currency": "EUR", "paid_at": paid_at, "source": "bench"}  # fmt: skip
        body = json.dumps(data).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        bodies.append((body, signature))

    def send(body: bytes, signature: str) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        started = time.perf_counter()
        try:
            response = session.post(
                url, data=body, headers={"Content-Type": "application/json", "X-Signature": signature}, timeout=10
            )
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
        except requests.RequestException as exc:
            with lock:
                errors.append(type(exc).__name__)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i, (body, signature) in enumerate(bodies):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, body, signature)
    wall = time.perf_counter() - start
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2) if ordered else float("nan")

    return {
        "scenario": "payments_api",
        "target_rate_rps": rate,
        "duration_s": round(wall, 2),
        "requests": total,
        "answered": len(latencies),
        "throughput_rps": round(len(latencies) / wall, 1) if wall else 0,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
        "status_counts": dict(sorted(statuses.items())),
        "errors": len(errors),
        "non_2xx": sum(v for k, v in statuses.items() if not k.startswith("2")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--claims", type=int, default=3000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: "port:refs-file"
    args = parser.parse_args()

    if args.drive:
        port, refs_file = args.drive.split(":", 1)
        refs = Path(refs_file).read_text().split()
        print(json.dumps(drive(int(port), args.rate, args.seconds, refs)), flush=True)
        return

    refs = prepare_database(args.database_url, args.claims)
    refs_file = Path(f"/tmp/payments_load_refs_{os.getpid()}.txt")
    refs_file.write_text("\n".join(refs))
    port = free_port()
    server = start_server(args.database_url, port, args.workers)
    try:
        # The driver is a separate process so the load generator never shares a GIL with the server.
        driver = subprocess.run(
            [
                sys.executable,
                __file__,
                "--drive",
                f"{port}:{refs_file}",
                "--rate",
                str(args.rate),
                "--seconds",
                str(args.seconds),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(driver.stdout.strip().splitlines()[-1])
        result.update({"server": f"gunicorn sync x{args.workers}", "database": "postgresql"})
        print(json.dumps(result))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        refs_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
