"""`python -m bench.run` (what `make bench` runs): generate the bench database, then every scenario.

Environment:
  BENCH_SCALE           small (default: 5,000 debtors / 10,000 open claims), medium (50k / 100k), full (500k / 1M)
  BENCH_DATABASE_URL    the dedicated bench database (default postgres://postgres@127.0.0.1:5432/dunning_bench);
                        created and migrated when missing; refused when it holds data that is not the bench's
  BENCH_REUSE=1         keep the data already generated at this scale (scenarios change it: plan adds messages,
                        purge removes history; figures of a reused database differ from a fresh one)
  BENCH_SCENARIOS       comma-separated subset, in this order: plan,dispatch,stop,payments,admin,purge
  BENCH_EXTRAS=1        also run the other areas' own benches, each on its own database (…_plan, …_payments,
                        …_purge next to the bench database): bench/plan_memory.py, bench/payments_load.py,
                        bench/purge.py, sized by BENCH_SCALE; their JSON lines are relayed as extra_<name>
Each scenario runs in its own process and prints one JSON line; this prints them and, at the end, a
summary line `{"scenario": "summary", ...}` with every target met or missed.
"""

import json
import os
import subprocess
import sys
import time

from bench import common

ORDER = ["plan", "dispatch", "stop", "payments", "admin", "purge"]


def _existing_scale() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:  # pragma: no cover
        return None
    common.configure_environment()
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "from bench import common; common.django_setup(); "
                "print(common.guard_and_mark(scale='x').get('scale', '') if True else '')",
            ],
            cwd=common.REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return None
    return out.stdout.strip() or None


def main() -> int:
    scale = common.scale_name()
    url = common.bench_url()
    common.configure_environment(url)
    wanted = [s.strip() for s in os.environ.get("BENCH_SCENARIOS", ",".join(ORDER)).split(",") if s.strip()]
    unknown = set(wanted) - set(ORDER)
    if unknown:
        sys.exit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    lines = []
    started = time.perf_counter()
    if os.environ.get("BENCH_REUSE") == "1" and _existing_scale() == scale:
        print(json.dumps({"scenario": "generate", "reused": True, "scale": scale}), flush=True)
    else:
        out = subprocess.run([sys.executable, "-m", "bench.generate"], cwd=common.REPO, env=dict(os.environ),
                             capture_output=True, text=True)  # fmt: skip
        if out.returncode:
            sys.stderr.write(out.stderr)
            return out.returncode
        print(out.stdout.strip().splitlines()[-1], flush=True)
    for name in [s for s in ORDER if s in wanted]:
        out = subprocess.run([sys.executable, "-m", "bench.scenarios", name], cwd=common.REPO,
                             env=dict(os.environ), capture_output=True, text=True)  # fmt: skip
        if out.returncode:
            sys.stderr.write(out.stderr[-4000:])
            line = {"scenario": name, "error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
            print(json.dumps(line), flush=True)
        else:
            line = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(line), flush=True)
        lines.append(line)
    if os.environ.get("BENCH_EXTRAS") == "1":
        for line in extras(scale, url):
            print(json.dumps(line), flush=True)
            lines.append(line)
    print(json.dumps(summary(scale, lines, time.perf_counter() - started)), flush=True)
    return 0


EXTRA_SIZES = {"small": (10_000, 10_000), "medium": (100_000, 100_000), "full": (1_000_000, 1_000_000)}


def extras(scale: str, url: str) -> list[dict]:
    """The engine's, payments' and GDPR areas' own benches, wrapped: each gets a database of its own."""
    from urllib.parse import urlparse, urlunparse

    if not url.startswith("postgres"):
        return [{"scenario": "extras", "skipped": "PostgreSQL only"}]
    parsed = urlparse(url)
    claims, rows = EXTRA_SIZES[scale]

    def db(suffix: str) -> str:
        return urlunparse(parsed._replace(path=f"{parsed.path.rstrip('/')}_{suffix}"))

    runs = {
        "plan_memory": ([sys.executable, "-m", "bench.plan_memory", "--claims", str(claims)], db("plan")),
        "payments_load": (
            [sys.executable, "bench/payments_load.py", "--database-url", db("payments"), "--seconds", "20"],
            db("payments"),
        ),
        "purge": ([sys.executable, "bench/purge.py", "--rows", str(rows)], db("purge")),
    }
    out_lines = []
    for name, (command, database) in runs.items():
        common.database_create(database)
        env = {**os.environ, "DATABASE_URL": database, "BENCH_DATABASE_URL": database}
        out = subprocess.run(command, cwd=common.REPO, env=env, capture_output=True, text=True)
        try:
            line = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            line = {"error": (out.stderr.strip().splitlines() or ["no output"])[-1]}
        out_lines.append({"scenario": f"extra_{name}", "database": urlparse(database).path.lstrip("/"), **line})
    return out_lines


def summary(scale: str, lines: list[dict], seconds: float) -> dict:
    """Targets (bench/README.md) against the figures; at small and medium scale they are indicative only."""
    by = {line["scenario"]: line for line in lines}
    checks = {}
    if "plan" in by and "seconds" in by["plan"]:
        checks["plan_under_60s_500mb"] = by["plan"]["seconds"] < 60 and by["plan"]["peak_rss_mb"] < 500
    if "dispatch" in by and "two_workers" in by["dispatch"]:
        checks["dispatch_1000_per_s_2_workers"] = by["dispatch"]["two_workers"]["messages_per_s"] >= 1000
    if "payments" in by and "ms_p99" in by["payments"]:
        checks["payments_p99_under_50ms"] = by["payments"]["ms_p99"] < 50
    if "purge" in by and "seconds" in by["purge"]:
        checks["purge_under_120s"] = by["purge"]["seconds"] < 120
    if "admin" in by and "worst_ms" in by["admin"]:
        checks["admin_under_300ms"] = by["admin"]["worst_ms"] < 300
    if "stop" in by and "payments" in by["stop"]:
        checks["stop_same_transaction"] = by["stop"]["cancelled_when_committed"] == by["stop"]["payments"]
    errors = [line["scenario"] for line in lines if "error" in line]
    return {"scenario": "summary", "scale": scale, "seconds": round(seconds, 1), "targets": checks,
            "errors": errors, "load": common.load_average()}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
