"""Schedules on django-q2: setup_schedules is idempotent, and a real qcluster process sends a due reminder."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_q.models import Schedule
from django_q.tasks import async_task

from config.schedules import SCHEDULES
from dunning.management.commands.setup_schedules import schedules_setup
from dunning.models import Message
from tests.campaigns.personas import REMINDER_DAY, build_world, open_claim
from tests.factories import make_debtor


@pytest.mark.django_db
def test_setup_schedules_is_idempotent_and_catch_up_safe(capsys):
    first = schedules_setup()
    assert set(first.values()) == {"created"}
    assert set(first) == {spec.name for spec in SCHEDULES}
    before = {s.name: (s.next_run, s.kwargs) for s in Schedule.objects.all()}
    second = schedules_setup()
    assert set(second.values()) == {"unchanged"}
    assert {s.name: (s.next_run, s.kwargs) for s in Schedule.objects.all()} == before
    plan_schedule = Schedule.objects.get(name="plan")
    assert plan_schedule.func == "dunning.tasks.plan" and plan_schedule.repeats == -1
    assert "'timeout'" in plan_schedule.kwargs
    timeout = eval(plan_schedule.kwargs)["q_options"]["timeout"]  # noqa: S307 - our own repr
    assert timeout < settings.Q_CLUSTER["retry"]
    assert settings.Q_CLUSTER["catch_up"] is False
    batch = Schedule.objects.get(name="print_batch")
    assert batch.schedule_type == Schedule.CRON and batch.cron == "30 6 * * 1-6"
    call_command("setup_schedules")
    assert "unchanged plan" in capsys.readouterr().out
    assert Schedule.objects.count() == len(SCHEDULES)


@pytest.mark.django_db
def test_setup_schedules_repairs_a_changed_schedule():
    schedules_setup()
    Schedule.objects.filter(name="dispatch").update(minutes=60, func="wrong.func")
    Schedule.objects.create(name="old_engine_job", func="dunning.tasks.gone", schedule_type=Schedule.MINUTES, minutes=5)
    outcome = schedules_setup()
    assert outcome["dispatch"] == "updated" and outcome["old_engine_job"] == "removed"
    dispatch_schedule = Schedule.objects.get(name="dispatch")
    assert (dispatch_schedule.minutes, dispatch_schedule.func) == (1, "dunning.tasks.dispatch")


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_due_reminder_leaves_through_a_real_qcluster():
    world = build_world()
    claim = open_claim(make_debtor(), world)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "Q_WORKERS": "1",
    }
    env.pop("REDIS_URL", None)  # the ORM broker: the queue lives in the test database
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        moment = REMINDER_DAY.isoformat()  # a Thursday morning: inside every send window
        async_task("dunning.tasks.plan", now=moment)
        assert _wait_for(lambda: Message.objects.filter(claim=claim).exists(), 60), "the cluster did not plan"
        async_task("dunning.tasks.dispatch", now=moment)
        assert _wait_for(lambda: Message.objects.filter(claim=claim, status=Message.Status.SENT).exists(), 60), (
            "the cluster did not send"
        )
        message = Message.objects.get(claim=claim)
        assert message.provider_id != "" and message.sent_at == REMINDER_DAY
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(timeout=10)
