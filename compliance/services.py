"""Writes with side effects for compliance: summarised audit records, anonymisation, data-subject requests.

Functions follow `<noun>_<verb>(*, ..., actor=None)`. Anything that changes personal data without going
through a model's save() (a QuerySet.update or delete) must call `bulk_change_record`, so nothing that
changes a person's data goes unrecorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from auditlog.models import LogEntry
from auditlog.signals import accessed
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from compliance.models import DataSubjectRequest, one_month_after
from config.actors import system_user
from customers.models import CareFlag, Channel, ChannelPreference, Debtor

ANONYMISED_NAME = "Geanonimiseerd"

_ACTIONS = {
    "create": LogEntry.Action.CREATE,
    "update": LogEntry.Action.UPDATE,
    "delete": LogEntry.Action.DELETE,
    "access": LogEntry.Action.ACCESS,
}


def bulk_change_record(
    *,
    model: type[models.Model],
    action: str | int,
    count: int,
    reason: str,
    fields: list[str] | tuple[str, ...] = (),
    actor=None,
    extra: dict | None = None,
) -> LogEntry:
    """Write one audit entry summarising a set-based change (QuerySet.update/delete) that bypassed save().

    `reason` and `extra` must hold no personal data: say what and why ("retention rule 3: message content
    older than 6 months"), never whose. The entry has no object id (object_pk "") and carries
    additional_data {"bulk": true, "count": n, "reason": ..., "fields": [...]}; the audit trail shows it
    alongside per-row entries. Actor: the given user, else the one in the auditlog context, else the
    system user.
    """
    code = _ACTIONS[action] if isinstance(action, str) else action
    data = {"bulk": True, "count": int(count), "reason": reason, "fields": list(fields)}
    if extra:
        data.update(extra)
    opts = model._meta
    # With actor=None, auditlog's own pre_save fills in the actor of an active set_actor()/request context
    # (its context variable outlives the context, so it must not be read directly); else the system user.
    entry = LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk="",
        object_id=None,
        object_repr=f"{opts.label_lower} ({int(count)} rows)",
        action=code,
        changes={},
        actor=actor if actor is not None and actor.pk else None,
        additional_data=data,
    )
    if entry.actor_id is None:
        entry.actor = system_user()
        entry.save(update_fields=["actor"])
    return entry


def access_record(*, instance: models.Model, actor=None) -> None:
    """An access entry for one object (auditlog's `accessed` signal) with an explicit actor when given."""
    if actor is None:
        accessed.send(sender=instance.__class__, instance=instance)
        return
    from auditlog.context import set_actor

    with set_actor(actor):
        accessed.send(sender=instance.__class__, instance=instance)


# --- anonymisation -----------------------------------------------------------------------------------


def debtors_anonymise(*, debtors: models.QuerySet, now, reason: str, actor=None) -> dict[str, int]:
    """Anonymise a set of debtors set-based, keeping their financial history (claims, amounts, dates).

    Name becomes "Geanonimiseerd"; address, e-mail and phone are blanked; the source reference becomes
    a token that identifies nobody (ANON-<id>); anonymised_at is `now`. Everything that identifies them
    elsewhere is blanked too: rendered messages and letter PDFs, delivery-event texts, payer details,
    free-text notes and reasons; care flags (possibly health data) are deleted. Returns counts per table.
    Callers run this under `disable_auditlog()` or not: it writes its own summarised records either way.
    """
    from dunning.models import DeliveryEvent, EscalationProposal, Message, Pause, Payment

    counts: dict[str, int] = {}
    with transaction.atomic():
        ids = debtors.filter(anonymised_at__isnull=True).values("pk")
        counts["debtors"] = Debtor.objects.filter(pk__in=ids).update(
            given_name="",
            surname_prefix="",
            surname=ANONYMISED_NAME,
            street="",
            house_number="",
            postal_code="",
            city="",
            email="",
            email_invalid_since=None,
            phone="",
            phone_invalid_since=None,
            source_reference=Concat(Value("ANON-"), Cast("pk", CharField())),
            anonymised_at=now,
            updated_at=now,
        )
        if not counts["debtors"]:
            return counts
        # The debtors just anonymised carry this exact moment: related rows are found through it.
        marked = Debtor.objects.filter(anonymised_at=now).values("pk")
        counts["messages"] = _message_content_blank(Message.objects.filter(claim__debtor__in=marked))
        # Each update touches only rows that still hold something: a purge has often blanked them already.
        counts["delivery_events"] = (
            DeliveryEvent.objects.filter(message__claim__debtor__in=marked)
            .exclude(description="")
            .update(description="")
        )
        counts["payments"] = (
            Payment.objects.filter(claim__debtor__in=marked)
            .filter(~Q(payer_name="") | ~Q(payer_account="") | ~Q(reference_text=""))
            .update(payer_name="", payer_account="", reference_text="")
        )
        counts["pauses"] = (
            Pause.objects.filter(Q(debtor__in=marked) | Q(claim__debtor__in=marked)).exclude(note="").update(note="")
        )
        counts["proposals"] = (
            EscalationProposal.objects.filter(claim__debtor__in=marked)
            .exclude(decision_reason="")
            .update(decision_reason="")
        )
        counts["channel_preferences"] = (
            ChannelPreference.objects.filter(debtor__in=marked).exclude(note="").update(note="")
        )
        counts["care_flags"] = raw_delete(CareFlag.objects.filter(debtor__in=marked))
        for model, key in (
            (Debtor, "debtors"),
            (Message, "messages"),
            (DeliveryEvent, "delivery_events"),
            (Payment, "payments"),
            (Pause, "pauses"),
            (EscalationProposal, "proposals"),
            (ChannelPreference, "channel_preferences"),
        ):
            if counts[key]:
                bulk_change_record(model=model, action="update", count=counts[key], reason=reason, actor=actor)
        if counts["care_flags"]:
            bulk_change_record(model=CareFlag, action="delete", count=counts["care_flags"], reason=reason, actor=actor)
    return counts


def _message_content_blank(messages: models.QuerySet) -> int:
    """Blank rendered content; the letter PDFs leave storage only once the blanking has committed (a
    rolled-back purge must not leave rows pointing at files that are gone)."""
    from dunning.models import Message

    storage = Message._meta.get_field("document").storage
    names = list(messages.exclude(document="").order_by().values_list("document", flat=True))
    if names:
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
    has_content = ~Q(body="") | ~Q(subject="") | ~Q(recipient="") | ~Q(last_error="") | ~Q(document="")
    return messages.filter(has_content).update(body="", subject="", recipient="", last_error="", document="")


def raw_delete(queryset: models.QuerySet) -> int:
    """DELETE ... WHERE pk IN (subquery) in one statement.

    QuerySet.delete() on an audited model loads every row into Python to send post_delete signals (and
    to cascade); at a million rows that is minutes and gigabytes. Callers first delete or detach what
    depends on these rows, then call this, then write a bulk_change_record.
    """
    model = queryset.model
    return model._base_manager.filter(pk__in=queryset.values("pk"))._raw_delete(queryset.db)


# --- data-subject requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestOutcome:
    request: DataSubjectRequest
    done: bool
    message: str


def subject_request_register(
    *, debtor: Debtor, kind: str, received_on: date | None = None, details: str = "", channel: str = "", actor=None
) -> DataSubjectRequest:
    received_on = received_on or timezone.localdate()
    request = DataSubjectRequest(
        debtor=debtor,
        kind=kind,
        channel=channel,
        received_on=received_on,
        deadline=one_month_after(received_on),
        details=details,
    )
    request.full_clean()
    request.save()
    return request


def _close(request: DataSubjectRequest, *, status: str, outcome: str, now, actor) -> DataSubjectRequest:
    request.status = status
    request.outcome = outcome
    request.handled_by = actor if actor is not None and actor.pk else None
    request.handled_at = now
    request.save(update_fields=["status", "outcome", "handled_by", "handled_at"])
    return request


def subject_request_export(*, request: DataSubjectRequest, now=None, actor=None) -> dict:
    """Art. 15: the export for an access request; marks the request done. Writes access entries."""
    from compliance.selectors import subject_export

    now = now or timezone.now()
    data = subject_export(debtor=request.debtor, actor=actor)
    if request.kind == DataSubjectRequest.Kind.ACCESS and request.is_open:
        _close(
            request,
            status=DataSubjectRequest.Status.DONE,
            outcome="U heeft een kopie ontvangen van alle gegevens die wij over u hebben. "
            "/ You received a copy of all data we hold about you.",
            now=now,
            actor=actor,
        )
    return data


def erasure_blockers(*, debtor: Debtor, now) -> list[str]:
    """Legal obligations that forbid erasing now (art. 17(3)(b) and (e)); empty when erasure may proceed."""
    from dunning.models import Claim, Pause

    reasons = []
    if Claim.objects.filter(debtor=debtor, status=Claim.Status.OPEN).exists():
        reasons.append(
            "Er staat nog een vordering open; die moeten wij volgens de wet kunnen innen (art. 17 lid 3 AVG). "
            "/ A claim is still open; the law requires us to be able to collect it."
        )
    active_pause = Pause.objects.filter(Pause.active_q(now)).filter(Q(debtor=debtor) | Q(claim__debtor=debtor))
    if active_pause.exists():
        reasons.append(
            "Er loopt nog een bezwaar, regeling of andere opschorting; wij bewaren de gegevens tot die is afgerond. "
            "/ An objection, arrangement or other pause is still running; we keep the data until it ends."
        )
    return reasons


def subject_request_erase(*, request: DataSubjectRequest, now=None, actor=None) -> RequestOutcome:
    """Art. 17: anonymise the debtor unless a legal obligation requires keeping; the reason is recorded.

    Closed claims stay as financial records (art. 52 AWR: seven years) with amounts and dates, but no
    longer identify anyone. With an open claim or running pause the request is refused for now, and the
    outcome says why and that the person may ask again once the claim is settled.
    """
    now = now or timezone.now()
    if not request.is_open:
        return RequestOutcome(request, request.status == DataSubjectRequest.Status.DONE, request.outcome)
    blockers = erasure_blockers(debtor=request.debtor, now=now)
    if blockers:
        outcome = " ".join(blockers) + (
            " U kunt uw verzoek opnieuw doen zodra dit is afgerond. / You may ask again once this is settled."
        )
        _close(request, status=DataSubjectRequest.Status.REFUSED, outcome=outcome, now=now, actor=actor)
        return RequestOutcome(request, False, outcome)
    with transaction.atomic():
        debtors_anonymise(
            debtors=Debtor.objects.filter(pk=request.debtor_id),
            now=now,
            reason=f"erasure request #{request.pk}",
            actor=actor,
        )
        outcome = (
            "Uw gegevens zijn gewist. Bedragen en datums van afgeronde vorderingen bewaren wij zonder uw naam, "
            "omdat de wet dat vraagt (art. 52 AWR, 7 jaar). / Your data has been erased. Amounts and dates of "
            "closed claims are kept without your name, as the law requires (7 years)."
        )
        _close(request, status=DataSubjectRequest.Status.DONE, outcome=outcome, now=now, actor=actor)
    return RequestOutcome(request, True, outcome)


def subject_request_object(*, request: DataSubjectRequest, now=None, actor=None) -> RequestOutcome:
    """Art. 21: an objection to a channel becomes an opt-out on the debtor's channel preference."""
    now = now or timezone.now()
    if not request.is_open:
        return RequestOutcome(request, request.status == DataSubjectRequest.Status.DONE, request.outcome)
    if request.channel not in (Channel.EMAIL, Channel.SMS):
        outcome = (
            "Brieven per post kunnen wij niet stopzetten: een aanmaning moet u wettelijk kunnen bereiken. "
            "/ We cannot stop letters: a formal reminder must be able to reach you by law."
            if request.channel == Channel.LETTER
            else "Geen kanaal opgegeven. / No channel given."
        )
        _close(request, status=DataSubjectRequest.Status.REFUSED, outcome=outcome, now=now, actor=actor)
        return RequestOutcome(request, False, outcome)
    with transaction.atomic():
        preference, _ = ChannelPreference.objects.get_or_create(debtor=request.debtor)
        if request.channel == Channel.EMAIL:
            preference.email_opt_out = True
        else:
            preference.sms_opt_out = True
        preference.preferred_channels = [c for c in preference.preferred_channels if c != request.channel]
        preference.stated_by = ChannelPreference.StatedBy.DEBTOR
        preference.stated_at = now
        preference.recorded_by = actor if actor is not None and actor.pk else None
        preference.save()
        outcome = (
            f"Wij sturen u geen berichten meer via {request.get_channel_display()}. "
            f"/ We no longer contact you by {request.channel}."
        )
        _close(request, status=DataSubjectRequest.Status.DONE, outcome=outcome, now=now, actor=actor)
    return RequestOutcome(request, True, outcome)


def subject_request_close(*, request: DataSubjectRequest, status: str, outcome: str, now=None, actor=None):
    """Close a request handled by hand (rectification, restriction), with what the person was told."""
    return _close(request, status=status, outcome=outcome, now=now or timezone.now(), actor=actor)
