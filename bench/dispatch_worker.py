"""One dispatcher process for the dispatch scenario: `python -m bench.dispatch_worker NOW_ISO8601`.

Runs the real dispatcher (dunning.services.dispatch.dispatch) until nothing due is left, with the e-mail
channel on anymail's test backend, and prints one JSON line with its counts and peak RSS. Several of
these run at once against PostgreSQL; SKIP LOCKED keeps them from taking the same rows.
"""

import sys
import time

from bench import common


def main(now_text: str) -> None:
    common.django_setup()
    from django.core import mail
    from django.utils.dateparse import parse_datetime

    from dunning.services.dispatch import dispatch

    now = parse_datetime(now_text)
    totals = {"claimed": 0, "sent": 0, "cancelled": 0, "retried": 0, "failed": 0}
    started = time.perf_counter()
    while True:
        result = dispatch(now=now, batch_size=200, max_batches=10).as_dict()
        for key in totals:
            totals[key] += result[key]
        mail.outbox = []  # the test backend keeps every message; we only count them
        if not result["claimed"]:
            break
    common.emit("dispatch_worker", **totals, seconds=round(time.perf_counter() - started, 2),
                peak_rss_mb=common.rss_mb())  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
