"""Load for the payments API from a second process: `python -m bench.payments_client URL WORK.json RATE`.

Open loop: request i is due at start + i/RATE whatever earlier requests did (a closed loop would slow
down with the server and hide queueing). A pool of threads sends them; latency is measured per request
from the moment it is sent to the last byte of the answer. Prints one JSON line.
"""

import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlparse

from bench.common import WEBHOOK_SECRET, emit, percentile, rss_mb


def _signature(body: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def main(url: str, work_file: str, rate: float) -> None:
    work = json.loads(open(work_file).read())
    target = urlparse(url)
    local = threading.local()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lateness: list[float] = []
    lock = threading.Lock()

    def send(item: dict, due: float) -> None:
        late = time.perf_counter() - due
        body = json.dumps(
            {
                "external_id": item["external_id"],
                "reference": item["reference"],
                "amount": item["amount"],
                "currency": "EUR",
                "paid_at": datetime.now(UTC).isoformat(),
                "source": "bench-bank",
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Signature": _signature(body)}
        started = time.perf_counter()
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            lateness.append(late * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    del local
    start = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i, item in enumerate(work):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(send, item, due)
    duration = time.perf_counter() - start
    emit(
        "payments_client",
        requests=len(latencies),
        rate_target=rate,
        rate_achieved=round(len(latencies) / duration, 1),
        statuses={str(k): v for k, v in sorted(statuses.items())},
        ms_p50=round(percentile(latencies, 0.5), 1),
        ms_p95=round(percentile(latencies, 0.95), 1),
        ms_p99=round(percentile(latencies, 0.99), 1),
        ms_max=round(max(latencies), 1),
        client_send_lateness_ms_p99=round(percentile(lateness, 0.99), 1),
        client_peak_rss_mb=rss_mb(),
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
