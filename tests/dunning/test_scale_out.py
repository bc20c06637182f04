"""Scale-out on PostgreSQL + Redis: two qcluster processes running the same schedules.

Every due message leaves exactly once (the dispatcher claims rows with SELECT ... FOR UPDATE SKIP LOCKED
and the claim is re-checked under its row lock), and each schedule runs once per interval (django-q2's
scheduler takes the due Schedule rows with SELECT ... FOR UPDATE; a second cluster waiting on the lock
re-reads `next_run`, now in the future, and skips them). See docs/operations.md.

Besides the real schedules, eight extra dispatch tasks with tiny batches are queued (as one-off
schedules, so the clusters' own schedulers put them on Redis): the two clusters then dispatch the same
outbox at the same time.
"""

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django_q.models import Schedule, Task

from campaigns.models import PolicyStep, StepKind, Tone
from config.schedules import SCHEDULES
from dunning.management.commands.setup_schedules import schedules_setup
from dunning.models import Message
from tests.factories import make_claim, make_debtor, make_policy, make_template

REDIS_DB = 13  # this test's own Redis database; flushed before and after
MESSAGES = 60
EXTRA_DISPATCHERS = 8
NOW = "2026-04-02T10:00:00+02:00"  # a Thursday morning: every send window is open


def dispatch_and_tell(now: str, batch_size: int) -> dict:
    """A dispatch run that also says which cluster ran it (its process group: one per qcluster)."""
    from dunning.tasks import dispatch

    result = dispatch(now=now, batch_size=batch_size)
    result["cluster"] = os.getpgid(0)
    return result


def _redis_url() -> str | None:
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_connect_timeout=1)
        client.ping()
    except Exception:
        return None
    client.flushdb()
    return f"redis://127.0.0.1:6379/{REDIS_DB}"


def _due_messages() -> list[Message]:
    policy = make_policy()
    step = PolicyStep.objects.get(policy=policy, order=1)
    template = make_template(step_kind=StepKind.REMINDER, tone=Tone.FRIENDLY, channel="email", language="nl")
    moment = Message._meta.get_field("scheduled_for").to_python(NOW)
    messages = []
    for _ in range(MESSAGES):
        claim = make_claim(make_debtor(), policy=policy, due_on=moment.date() - timedelta(days=5))
        messages.append(
            Message.objects.create(
                claim=claim,
                step=step,
                channel="email",
                tone=Tone.FRIENDLY,
                template=template,
                template_version=template.version,
                scheduled_for=moment - timedelta(hours=1),
            )
        )
    return messages


def _schedules() -> set[str]:
    """The project's schedules (as `setup_schedules` makes them), plan and dispatch pinned to NOW."""
    schedules_setup()
    for schedule in Schedule.objects.filter(name__in=["plan", "dispatch"]):
        kwargs = eval(schedule.kwargs)  # noqa: S307 - our own repr from schedules_setup
        kwargs["now"] = NOW
        schedule.kwargs = repr(kwargs)
        schedule.save(update_fields=["kwargs"])
    for n in range(EXTRA_DISPATCHERS):
        Schedule.objects.create(
            name=f"extra-dispatch-{n}",
            func="tests.dunning.test_scale_out.dispatch_and_tell",
            kwargs=repr({"now": NOW, "batch_size": 3}),
            schedule_type=Schedule.ONCE,
            repeats=-1,
        )
    return {spec.name for spec in SCHEDULES if not spec.cron}  # cron ones wait for their slot


def _cluster(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: dispatch_and_tell reports it, finally kills it
    )


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_clusters_send_every_message_once_and_run_each_schedule_once_per_interval():
    redis_url = _redis_url()
    if redis_url is None:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    messages = _due_messages()
    interval_schedules = _schedules()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "Q_WORKERS": "2",
    }
    clusters = [_cluster(env), _cluster(env)]
    try:
        # The guard loop calls the scheduler about every 30 s; give both clusters one tick and the tasks
        # time to finish, without reaching the schedules' next interval (one minute for dispatch).
        deadline = time.monotonic() + 55
        ids = [m.pk for m in messages]
        while time.monotonic() < deadline:
            sent = Message.objects.filter(pk__in=ids, status=Message.Status.SENT).count()
            ran = set(Task.objects.values_list("group", flat=True))
            extra = Task.objects.filter(func__endswith="dispatch_and_tell").count()
            if sent == MESSAGES and interval_schedules <= ran and extra == EXTRA_DISPATCHERS:
                break
            time.sleep(1)
        time.sleep(3)  # a duplicate run from the other cluster would have been recorded by now
        for cluster in clusters:
            assert cluster.poll() is None, "a qcluster process died"
    finally:
        for cluster in clusters:
            _stop(cluster)
        import redis

        redis.Redis.from_url(redis_url).flushdb()

    rows = Message.objects.filter(pk__in=ids)
    assert rows.filter(status=Message.Status.SENT).count() == MESSAGES
    # Claimed once each: a second claim would have counted a second attempt.
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert len(set(rows.values_list("provider_id", flat=True))) == MESSAGES

    dispatch_runs = [
        t for t in Task.objects.all() if t.func in ("dunning.tasks.dispatch",) or "dispatch_and_tell" in t.func
    ]
    assert all(t.success for t in dispatch_runs), [t.result for t in dispatch_runs if not t.success]
    assert sum(t.result["sent"] for t in dispatch_runs) == MESSAGES, "a message was sent twice (or not at all)"
    clusters_that_dispatched = {t.result["cluster"] for t in dispatch_runs if "cluster" in t.result}
    assert clusters_that_dispatched == {c.pid for c in clusters}, "both clusters should have taken tasks"

    for name in interval_schedules:
        runs = sorted(Task.objects.filter(group=name).values_list("started", flat=True))
        assert len(runs) >= 1, f"schedule {name} never ran"
        gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(runs)]
        assert all(gap >= 30 for gap in gaps), f"schedule {name} ran twice in one interval: {runs}"
