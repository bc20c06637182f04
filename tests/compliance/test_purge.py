"""Retention with time travel: create, close, advance past each rule's period, purge, assert what went and what stayed.

Four debtors, each with one closed claim, a sent message with a delivery event, and a payment:
- Anna: nothing holds her data; it goes step by step.
- Bram: also has an open claim (hold on his debtor data; his closed claim's records still follow the rules).
- Cas: an active debtor-level pause (objection) holds everything of his.
- Dirk: an open data-subject request holds everything of his.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from compliance.models import DataCategory, DataSubjectRequest, PurgeRun
from compliance.purge import purge
from compliance.services import ANONYMISED_NAME
from customers.models import CareFlag, Debtor
from dunning.models import Claim, DeliveryEvent, Message, Pause, Payment
from tests.factories import make_care_flag, make_claim, make_debtor, make_policy

AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 1, 15, 10, 0, tzinfo=AMS)


def months(n: int) -> datetime:
    return T0 + timedelta(days=round(n * 30.5) + 2)


def _closed_claim_with_history(debtor, policy, tag: str) -> Claim:
    claim = make_claim(debtor, policy=policy, issued_on=date(2025, 11, 1))
    message = Message.objects.create(
        claim=claim,
        step=policy.steps.first(),
        channel="email",
        tone="friendly",
        scheduled_for=T0 - timedelta(days=20),
        status=Message.Status.DELIVERED,
        recipient=debtor.email,
        subject=f"Herinnering {tag}",
        body=f"Beste {debtor.given_name} {debtor.surname}, u moet nog betalen.",
        sent_at=T0 - timedelta(days=20),
    )
    DeliveryEvent.objects.create(message=message, kind="delivered", occurred_at=T0 - timedelta(days=20))
    Payment.objects.create(
        source="api",
        external_id=f"pay-{tag}",
        amount=claim.principal,
        paid_at=T0,
        payer_name=f"{debtor.given_name} {debtor.surname}",
        payer_account="NL91ABNA0417164300",
        reference_text=claim.payment_reference,
        claim=claim,
        match_status=Payment.MatchStatus.MATCHED,
    )
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PAID, open_amount=Decimal("0.00"), settled_at=T0)
    claim.refresh_from_db()
    return claim


@pytest.fixture
def world(db):
    policy = make_policy()
    people = {}
    for name in ("Anna", "Bram", "Cas", "Dirk"):
        debtor = make_debtor(given_name=name)
        claim = _closed_claim_with_history(debtor, policy, name)
        make_care_flag(debtor, starts_on=date(2025, 10, 1), ends_on=date(2026, 1, 10))
        people[name] = (debtor, claim)
    bram = people["Bram"][0]
    make_claim(bram, policy=policy, issued_on=date(2025, 12, 1))  # still open
    Pause.objects.create(debtor=people["Cas"][0], reason=Pause.Reason.OBJECTION, starts_at=T0)
    DataSubjectRequest.objects.create(
        debtor=people["Dirk"][0], kind=DataSubjectRequest.Kind.ACCESS, received_on=date(2026, 1, 10)
    )
    return people


def _message(claim) -> Message:
    return Message.objects.get(claim=claim)


def test_nothing_goes_before_any_period_ends(world):
    run = purge(now=T0 + timedelta(days=30))
    assert run.status == PurgeRun.Status.DONE
    assert run.total == 0
    assert Message.objects.exclude(body="").count() == 4
    assert DeliveryEvent.objects.count() == 4


def test_after_seven_months_message_content_events_and_ended_care_flags_go_except_held(world):
    _anna, anna_claim = world["Anna"]
    _bram, bram_claim = world["Bram"]
    cas, cas_claim = world["Cas"]
    dirk, dirk_claim = world["Dirk"]

    run = purge(now=months(7))

    content = run.counts[DataCategory.MESSAGE_CONTENT]
    # Bram's closed claim has no hold of its own: only the debtor-level pause (Cas) and request (Dirk) hold.
    assert (content["affected"], content["held"]) == (2, 2)
    for claim in (anna_claim, bram_claim):
        message = _message(claim)
        assert (message.body, message.subject, message.recipient) == ("", "", "")
        assert message.sent_at is not None and message.status == Message.Status.DELIVERED
    for claim in (cas_claim, dirk_claim):
        assert "betalen" in _message(claim).body
    events = run.counts[DataCategory.DELIVERY_EVENTS]
    assert (events["affected"], events["held"]) == (2, 2)
    assert set(DeliveryEvent.objects.values_list("message__claim", flat=True)) == {cas_claim.pk, dirk_claim.pk}
    flags = run.counts[DataCategory.CARE_FLAGS]
    assert (flags["affected"], flags["held"]) == (2, 2)
    assert set(CareFlag.objects.values_list("debtor", flat=True)) == {cas.pk, dirk.pk}
    # Nothing else yet: payer details last a year, contact data two.
    assert Payment.objects.exclude(payer_name="").count() == 4
    assert Debtor.objects.filter(anonymised_at__isnull=False).count() == 0
    # The set-based changes are in the audit trail as summaries, without personal data.
    summary = LogEntry.objects.get(content_type__model="message", additional_data__bulk=True)
    assert summary.additional_data["count"] == 2
    assert summary.actor.username == "system"
    assert "Anna" not in str(summary.additional_data)


def test_after_thirteen_months_payer_details_are_stripped_amounts_kept(world):
    _anna, anna_claim = world["Anna"]
    run = purge(now=months(13))
    entry = run.counts[DataCategory.PAYER_DETAILS]
    assert (entry["affected"], entry["held"]) == (2, 2)
    payment = Payment.objects.get(claim=anna_claim)
    assert (payment.payer_name, payment.payer_account, payment.reference_text) == ("", "", "")
    assert payment.amount == anna_claim.principal and payment.paid_at == T0
    assert Payment.objects.get(claim=world["Cas"][1]).payer_name.startswith("Cas")


def test_after_twenty_five_months_debtor_is_anonymised_but_financial_history_kept(world):
    anna, anna_claim = world["Anna"]
    run = purge(now=months(25))
    entry = run.counts[DataCategory.DEBTOR_CONTACT]
    # Bram (open claim), Cas (pause) and Dirk (open request) are held.
    assert (entry["affected"], entry["held"]) == (1, 3)
    anna.refresh_from_db()
    assert anna.surname == ANONYMISED_NAME and anna.given_name == ""
    assert (anna.street, anna.postal_code, anna.city, anna.email, anna.phone) == ("", "", "", "", "")
    assert anna.source_reference == f"ANON-{anna.pk}"
    assert anna.anonymised_at == months(25)
    claim = Claim.objects.get(pk=anna_claim.pk)
    assert (claim.principal, claim.status, claim.settled_at, claim.due_on) == (
        anna_claim.principal,
        Claim.Status.PAID,
        T0,
        anna_claim.due_on,
    )
    assert Payment.objects.get(claim=claim).amount == anna_claim.principal
    for name in ("Bram", "Cas", "Dirk"):
        debtor = Debtor.objects.get(pk=world[name][0].pk)
        assert debtor.given_name == name and debtor.anonymised_at is None


def test_after_eighty_five_months_closed_financial_records_are_deleted(world):
    _anna, anna_claim = world["Anna"]
    bram, bram_claim = world["Bram"]
    old_entry = LogEntry.objects.filter(content_type__model="debtor").first()
    LogEntry.objects.filter(pk=old_entry.pk).update(timestamp=T0 - timedelta(days=30))
    run = purge(now=months(85))
    entry = run.counts[DataCategory.FINANCIAL_RECORDS]
    # Anna's and Bram's closed claims go; Cas (pause) and Dirk (request) are held; Bram's open claim is not expired.
    assert (entry["affected"], entry["held"]) == (2, 2)
    assert not Claim.objects.filter(pk__in=[anna_claim.pk, bram_claim.pk]).exists()
    assert not Payment.objects.filter(external_id__in=["pay-Anna", "pay-Bram"]).exists()
    assert not Message.objects.filter(claim_id__in=[anna_claim.pk, bram_claim.pk]).exists()
    assert Claim.objects.filter(debtor=bram, status=Claim.Status.OPEN).exists()
    assert Claim.objects.filter(pk=world["Cas"][1].pk).exists()
    assert entry["details"]["dunning.payment"] == 2
    assert run.counts[DataCategory.AUDIT_TRAIL]["affected"] >= 1
    assert not LogEntry.objects.filter(pk=old_entry.pk).exists()


def test_dry_run_counts_what_a_real_run_does_and_changes_nothing(world):
    dry = purge(now=months(25), dry_run=True)
    assert Message.objects.exclude(body="").count() == 4
    assert CareFlag.objects.count() == 4
    assert Debtor.objects.filter(anonymised_at__isnull=False).count() == 0
    real = purge(now=months(25))
    for category, entry in dry.counts.items():
        assert entry["affected"] == real.counts[category]["affected"], category
        assert entry["held"] == real.counts[category]["held"], category


def test_a_second_run_finds_nothing_more(world):
    purge(now=months(25))
    again = purge(now=months(25))
    assert again.total == 0


def test_ending_the_hold_releases_the_data(world):
    cas, _claim = world["Cas"]
    Pause.objects.filter(debtor=cas).update(ends_at=months(20))
    run = purge(now=months(25))
    assert run.counts[DataCategory.DEBTOR_CONTACT]["affected"] == 2
    assert Debtor.objects.get(pk=cas.pk).anonymised_at is not None


def test_purge_expired_command_prints_counts_and_dry_run_keeps_data(world, capsys):
    call_command("purge_expired", "--dry-run", "--now", months(7).isoformat())
    out = capsys.readouterr().out
    assert "message_content" in out and "would purge" in out
    assert Message.objects.exclude(body="").count() == 4
    run = PurgeRun.objects.get()
    assert run.dry_run and run.now == months(7)
    call_command("purge_expired", "--now", months(7).isoformat())
    assert Message.objects.exclude(body="").count() == 2


def test_purge_task_runs_all_rules(world):
    from compliance.tasks import purge as purge_task

    result = purge_task(now=months(7))
    assert result["status"] == PurgeRun.Status.DONE and result["total"] > 0


def test_the_daily_schedule_is_declared():
    from config.schedules import SCHEDULES

    spec = next(s for s in SCHEDULES if s.func == "compliance.tasks.purge")
    assert spec.minutes == 24 * 60 and spec.why


def test_letter_pdfs_leave_storage_only_when_the_purge_commits(world, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    _anna, anna_claim = world["Anna"]
    message = _message(anna_claim)
    message.document.save("brief-anna.pdf", ContentFile(b"%PDF-1.4 brief"), save=True)
    storage, name = message.document.storage, message.document.name

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        purge(now=months(7))
    assert storage.exists(name)  # not yet committed: a rollback would leave the file in place
    for callback in callbacks:
        callback()
    assert not storage.exists(name)
    assert _message(anna_claim).document.name == ""
