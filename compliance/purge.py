"""Apply the retention rules: set-based, hold-aware, reported in a PurgeRun without personal data.

Job steps (`purge(now=..., dry_run=...)`):
1. Create a PurgeRun (as of `now`).
2. For each active rule, in a fixed order, build the set of expired rows as one QuerySet (no Python loop
   over rows) and the subset under a legal hold; count both.
3. Unless dry-run, change the expired, unheld set with QuerySet.update or a single DELETE, in its own
   transaction, under `disable_auditlog()`; write one summarised audit entry per table touched.
4. Record counts per rule and finish the run. A failing rule is recorded and does not stop the others.

Legal holds (see docs/retention.md):
- debtor level: an open claim, an active pause on the debtor or any of their claims, an open data-subject
  request. Applies to anonymising the debtor.
- claim level: the claim is open, an active pause on the claim or the debtor, an open data-subject request
  of the debtor. Applies to message content, delivery events, payer details and financial records.
- care flags are kept only while a pause is active or a data-subject request is open: an ended flag has
  no use for an open claim, and it may reveal health.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from auditlog.context import disable_auditlog, set_actor
from auditlog.models import LogEntry
from django.db import models, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from compliance.models import DataCategory, DataSubjectRequest, PurgeRun, RetentionRule
from compliance.services import _message_content_blank, bulk_change_record, debtors_anonymise, raw_delete
from config.actors import system_user
from customers.models import CareFlag, Debtor
from dunning.models import Claim, DeliveryEvent, Message, Pause, Payment

# Fixed order: whole records first (so later rules do not blank what is about to be deleted anyway).
ORDER = (
    DataCategory.FINANCIAL_RECORDS,
    DataCategory.DELIVERY_EVENTS,
    DataCategory.MESSAGE_CONTENT,
    DataCategory.PAYER_DETAILS,
    DataCategory.CARE_FLAGS,
    DataCategory.DEBTOR_CONTACT,
    DataCategory.SUBJECT_REQUESTS,
    DataCategory.AUDIT_TRAIL,
)


# --- holds -------------------------------------------------------------------------------------------


def _open_request(debtor_ref: str) -> Exists:
    return Exists(
        DataSubjectRequest.objects.filter(debtor_id=OuterRef(debtor_ref), status__in=DataSubjectRequest.OPEN_STATUSES)
    )


def _debtor_paused(now, debtor_ref: str) -> list[Exists]:
    active = Pause.objects.filter(Pause.active_q(now))
    return [
        Exists(active.filter(debtor_id=OuterRef(debtor_ref))),
        Exists(active.filter(claim__debtor_id=OuterRef(debtor_ref))),
    ]


def debtor_hold(now, debtor_ref: str = "pk") -> list[Exists]:
    """Rows of a debtor who has an open claim, an active pause anywhere, or an open data-subject request."""
    open_claim = Exists(Claim.objects.filter(debtor_id=OuterRef(debtor_ref), status=Claim.Status.OPEN))
    return [open_claim, *_debtor_paused(now, debtor_ref), _open_request(debtor_ref)]


def claim_hold(now, claim_ref: str, debtor_ref: str) -> list[Exists]:
    """Rows of a claim that is open or paused, or whose debtor is paused or has an open request."""
    active = Pause.objects.filter(Pause.active_q(now))
    return [
        Exists(Claim.objects.filter(pk=OuterRef(claim_ref), status=Claim.Status.OPEN)),
        Exists(active.filter(claim_id=OuterRef(claim_ref))),
        Exists(active.filter(debtor_id=OuterRef(debtor_ref))),
        _open_request(debtor_ref),
    ]


# --- categories --------------------------------------------------------------------------------------


@dataclass
class Selection:
    expired: models.QuerySet  # everything past the period
    holds: list[Exists]  # a row is kept when any of these exists
    apply: Callable[[models.QuerySet, RetentionRule, object], dict[str, int]]

    def eligible(self) -> models.QuerySet:
        # AND of NOT EXISTS at the top level, so PostgreSQL plans each as an anti-join (a hash over the
        # hold table) rather than a correlated probe per row, as it would for NOT (a OR b OR c).
        return self.expired.filter(*[~hold for hold in self.holds])

    def held(self) -> models.QuerySet:
        if not self.holds:
            return self.expired.none()
        return self.expired.filter(reduce(operator.or_, (Q(hold) for hold in self.holds)))


def _apply_message_content(qs, rule, now):
    n = _message_content_blank(qs)
    if n:
        bulk_change_record(
            model=Message,
            action="update",
            count=n,
            reason=_reason(rule),
            fields=["body", "subject", "recipient", "last_error", "document"],
        )
    return {"messages": n}


def _apply_delete(model):
    def apply(qs, rule, now):
        n = raw_delete(qs)
        if n:
            bulk_change_record(model=model, action="delete", count=n, reason=_reason(rule))
        return {model._meta.model_name: n}

    return apply


def _apply_payer_details(qs, rule, now):
    n = qs.update(payer_name="", payer_account="", reference_text="")
    if n:
        bulk_change_record(
            model=Payment,
            action="update",
            count=n,
            reason=_reason(rule),
            fields=["payer_name", "payer_account", "reference_text"],
        )
    return {"payments": n}


def _apply_debtor_contact(qs, rule, now):
    return debtors_anonymise(debtors=qs, now=now, reason=_reason(rule))


def _apply_financial_records(qs, rule, now):
    # Letter PDFs are files: remove them before their rows go.
    _message_content_blank(Message.objects.filter(claim__in=qs.values("pk")).exclude(document=""))
    counts = cascade_delete(qs)
    for label, n in counts.items():
        if n:
            bulk_change_record(model=_model(label), action="delete", count=n, reason=_reason(rule))
    return counts


def cascade_delete(queryset: models.QuerySet) -> dict[str, int]:
    """Delete a set and everything that depends on it, one statement per table, dependents first.

    Reverse relations are found from the models' metadata, so a model another app adds later with a
    foreign key to Claim is handled too: CASCADE and PROTECT dependents are deleted (PROTECT guards
    against accidental deletes; a retention rule deletes on purpose), SET_NULL ones are detached.
    """
    model = queryset.model
    ids = queryset.values("pk")
    counts: dict[str, int] = {}
    for relation in model._meta.related_objects:
        if not (relation.one_to_many or relation.one_to_one) or relation.related_model is LogEntry:
            continue
        field = relation.field
        on_delete = field.remote_field.on_delete
        dependents = relation.related_model._base_manager.filter(**{f"{field.name}__in": ids})
        if on_delete is models.SET_NULL:
            dependents.update(**{field.name: None})
        elif on_delete in (models.CASCADE, models.PROTECT) and relation.related_model is not model:
            for label, n in cascade_delete(dependents).items():
                counts[label] = counts.get(label, 0) + n
    counts[model._meta.label_lower] = counts.get(model._meta.label_lower, 0) + raw_delete(queryset)
    return counts


def _model(label: str):
    from django.apps import apps

    return apps.get_model(label)


def _reason(rule: RetentionRule) -> str:
    return f"retention rule #{rule.pk} ({rule.category}, {rule.period_display})"


def selection_for(rule: RetentionRule, now) -> Selection:
    cutoff = rule.cutoff(now)
    category = rule.category
    if category == DataCategory.MESSAGE_CONTENT:
        expired = Message.objects.filter(
            Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, created_at__lt=cutoff),
            ~Q(body="") | ~Q(subject="") | ~Q(recipient="") | ~Q(last_error="") | ~Q(document=""),
        ).exclude(status__in=(*Message.PENDING_STATUSES, Message.Status.SENDING))
        return Selection(expired, claim_hold(now, "claim_id", "claim__debtor_id"), _apply_message_content)
    if category == DataCategory.DELIVERY_EVENTS:
        expired = DeliveryEvent.objects.filter(occurred_at__lt=cutoff)
        return Selection(
            expired, claim_hold(now, "message__claim_id", "message__claim__debtor_id"), _apply_delete(DeliveryEvent)
        )
    if category == DataCategory.PAYER_DETAILS:
        expired = Payment.objects.filter(paid_at__lt=cutoff).filter(
            ~Q(payer_name="") | ~Q(payer_account="") | ~Q(reference_text="")
        )
        return Selection(expired, claim_hold(now, "claim_id", "claim__debtor_id"), _apply_payer_details)
    if category == DataCategory.CARE_FLAGS:
        expired = CareFlag.objects.filter(ends_on__lt=timezone.localdate(cutoff))
        holds = [*_debtor_paused(now, "debtor_id"), _open_request("debtor_id")]
        return Selection(expired, holds, _apply_delete(CareFlag))
    if category == DataCategory.DEBTOR_CONTACT:
        expired = (
            Debtor.objects.filter(anonymised_at__isnull=True)
            .annotate(
                last_closed=Max(
                    Coalesce("claims__settled_at", "claims__updated_at"), filter=~Q(claims__status=Claim.Status.OPEN)
                )
            )
            .filter(Q(last_closed__lt=cutoff) | Q(last_closed__isnull=True, created_at__lt=cutoff))
        )
        return Selection(expired, debtor_hold(now, "pk"), _apply_debtor_contact)
    if category == DataCategory.FINANCIAL_RECORDS:
        expired = Claim.objects.exclude(status=Claim.Status.OPEN).filter(
            Q(settled_at__lt=cutoff) | Q(settled_at__isnull=True, updated_at__lt=cutoff)
        )
        return Selection(expired, claim_hold(now, "pk", "debtor_id"), _apply_financial_records)
    if category == DataCategory.SUBJECT_REQUESTS:
        expired = DataSubjectRequest.objects.exclude(status__in=DataSubjectRequest.OPEN_STATUSES).filter(
            handled_at__lt=cutoff
        )
        return Selection(expired, [], _apply_delete(DataSubjectRequest))
    if category == DataCategory.AUDIT_TRAIL:
        return Selection(LogEntry.objects.filter(timestamp__lt=cutoff), [], _apply_delete(LogEntry))
    raise ValueError(f"no purge implemented for category {category!r}")


def _count(qs: models.QuerySet) -> int:
    # Through pk__in so annotated (GROUP BY) sets count the same as they would update.
    return qs.model._base_manager.filter(pk__in=qs.values("pk")).count()


def purge(*, now=None, dry_run: bool = False, actor=None) -> PurgeRun:
    """Apply every active retention rule as of `now` (see the module docstring for the steps)."""
    now = now or timezone.now()
    actor = actor or system_user()
    run = PurgeRun.objects.create(now=now, dry_run=dry_run, triggered_by=actor)
    rules = {rule.category: rule for rule in RetentionRule.objects.filter(is_active=True)}
    failed = False
    with set_actor(actor):
        for category in ORDER:
            rule = rules.get(category)
            if rule is None:
                continue
            selection = selection_for(rule, now)
            entry = {
                "rule": rule.pk,
                "action": rule.action,
                "period": rule.period_display,
                "cutoff": rule.cutoff(now).isoformat(),
                "held": _count(selection.held()),
            }
            eligible = selection.eligible()
            started = time.monotonic()
            try:
                if dry_run:
                    entry["affected"] = _count(eligible)
                else:
                    with transaction.atomic(), disable_auditlog():
                        details = selection.apply(eligible, rule, now)
                    entry["details"] = details
                    entry["affected"] = _primary_count(category, details)
            except Exception as error:  # one bad rule must not stop the others
                failed = True
                entry["error"] = f"{type(error).__name__}: {error}"[:500]
                entry["affected"] = 0
            entry["seconds"] = round(time.monotonic() - started, 3)
            run.counts[category] = entry
    run.finished_at = timezone.now()
    run.status = PurgeRun.Status.FAILED if failed else PurgeRun.Status.DONE
    run.save(update_fields=["counts", "finished_at", "status"])
    return run


_PRIMARY = {
    DataCategory.MESSAGE_CONTENT: "messages",
    DataCategory.DELIVERY_EVENTS: "deliveryevent",
    DataCategory.PAYER_DETAILS: "payments",
    DataCategory.CARE_FLAGS: "careflag",
    DataCategory.DEBTOR_CONTACT: "debtors",
    DataCategory.FINANCIAL_RECORDS: "dunning.claim",
    DataCategory.SUBJECT_REQUESTS: "datasubjectrequest",
    DataCategory.AUDIT_TRAIL: "logentry",
}


def _primary_count(category: str, details: dict[str, int]) -> int:
    return int(details.get(_PRIMARY[category], 0))
