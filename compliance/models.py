"""Retention rules, purge reports and data-subject requests: storage limitation and data-subject rights as data.

Rules are rows a compliance officer edits (audit-logged); `purge_expired` applies them set-based and writes
a `PurgeRun` with counts only. A `DataSubjectRequest` records a request under GDPR art. 15-21, its legal
deadline and what the person was told.
"""

from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DataCategory(models.TextChoices):
    """What a retention rule is about. Each category has one set-based implementation in compliance.purge."""

    MESSAGE_CONTENT = "message_content", _("Rendered message content (body, subject, recipient, letter PDF)")
    DELIVERY_EVENTS = "delivery_events", _("Delivery events from ESP, SMS provider and print house")
    DEBTOR_CONTACT = "debtor_contact", _("Debtor identity and contact data (after the last claim closed)")
    CARE_FLAGS = "care_flags", _("Care flags (after they ended)")
    PAYER_DETAILS = "payer_details", _("Payer name, account and remittance text on payments")
    FINANCIAL_RECORDS = "financial_records", _("Closed claims with their payments, messages and pauses")
    AUDIT_TRAIL = "audit_trail", _("Audit trail and access log")
    SUBJECT_REQUESTS = "subject_requests", _("Closed data-subject requests")


class RetentionAction(models.TextChoices):
    DELETE = "delete", _("Delete")
    ANONYMISE = "anonymise", _("Anonymise")


# Which action makes sense for which category: anonymising keeps a row that other records need (financial
# history, the outbox's "exactly once" guarantee); deleting removes rows nothing else needs.
ALLOWED_ACTIONS: dict[str, tuple[str, ...]] = {
    DataCategory.MESSAGE_CONTENT: (RetentionAction.ANONYMISE,),
    DataCategory.DELIVERY_EVENTS: (RetentionAction.DELETE,),
    DataCategory.DEBTOR_CONTACT: (RetentionAction.ANONYMISE,),
    DataCategory.CARE_FLAGS: (RetentionAction.DELETE,),
    DataCategory.PAYER_DETAILS: (RetentionAction.ANONYMISE,),
    DataCategory.FINANCIAL_RECORDS: (RetentionAction.DELETE,),
    DataCategory.AUDIT_TRAIL: (RetentionAction.DELETE,),
    DataCategory.SUBJECT_REQUESTS: (RetentionAction.DELETE,),
}


class RetentionRule(models.Model):
    class PeriodUnit(models.TextChoices):
        DAYS = "days", _("days")
        MONTHS = "months", _("months")

    category = models.CharField(_("data category"), max_length=24, choices=DataCategory.choices)
    period = models.PositiveIntegerField(_("retention period"))
    period_unit = models.CharField(_("unit"), max_length=6, choices=PeriodUnit.choices, default=PeriodUnit.MONTHS)
    action = models.CharField(_("action"), max_length=10, choices=RetentionAction.choices)
    starts_from = models.CharField(
        _("period counted from"), max_length=200, blank=True, help_text=_("The moment the period starts, in words.")
    )
    legal_basis = models.TextField(_("legal basis and reasoning"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["category"]
        constraints = [
            models.UniqueConstraint(
                fields=["category"], condition=Q(is_active=True), name="one_active_rule_per_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.get_action_display()} {self.period_display}"

    @property
    def period_display(self) -> str:
        return f"{self.period} {self.get_period_unit_display()}"

    def clean(self):
        allowed = ALLOWED_ACTIONS.get(self.category, ())
        if self.action and self.action not in allowed:
            raise ValidationError(
                {"action": _("For this category the action must be: %(allowed)s.") % {"allowed": ", ".join(allowed)}}
            )

    def cutoff(self, now):
        """Everything whose period started before this moment has expired."""
        if self.period_unit == self.PeriodUnit.DAYS:
            return now - relativedelta(days=self.period)
        return now - relativedelta(months=self.period)


class PurgeRun(models.Model):
    """One run of purge_expired: when, as of which moment, and how many rows each rule touched. No personal data."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Done with errors")

    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    now = models.DateTimeField(_("as of"), help_text=_("The moment the rules were applied for."))
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(_("counts per rule"), default=dict, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("purge run")
        verbose_name_plural = _("purge runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        kind = _("dry run") if self.dry_run else _("purge")
        return f"{kind} {self.now:%Y-%m-%d %H:%M}"

    @property
    def total(self) -> int:
        return sum(int(entry.get("affected", 0)) for entry in self.counts.values())


def one_month_after(day: date) -> date:
    """GDPR art. 12(3): answer within one month of receipt (same day number next month, or the month's end)."""
    return day + relativedelta(months=1)


class DataSubjectRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("Access (art. 15)")
        RECTIFICATION = "rectification", _("Rectification (art. 16)")
        ERASURE = "erasure", _("Erasure (art. 17)")
        RESTRICTION = "restriction", _("Restriction (art. 18)")
        OBJECTION = "objection", _("Objection (art. 21)")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        EXTENDED = "extended", _("Open, deadline extended (art. 12(3))")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused or deferred, with reason")

    OPEN_STATUSES = (Status.OPEN, Status.EXTENDED)

    debtor = models.ForeignKey(
        "customers.Debtor", verbose_name=_("debtor"), on_delete=models.PROTECT, related_name="subject_requests"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    channel = models.CharField(
        _("channel objected to"),
        max_length=8,
        blank=True,
        choices=[("email", _("E-mail")), ("sms", _("SMS")), ("letter", _("Letter"))],
        help_text=_("Objections only: the channel the person no longer wants to be reached on."),
    )
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    deadline = models.DateField(_("deadline"), editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    details = models.TextField(_("request as received"), blank=True)
    outcome = models.TextField(_("outcome and reason given to the person"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["deadline", "id"]
        permissions = [("handle_datasubjectrequest", _("Can carry out data-subject requests (export, erase, opt out)"))]
        indexes = [models.Index(fields=["debtor", "status"], name="dsr_debtor_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        if not self.deadline:
            self.deadline = one_month_after(self.received_on)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, today: date) -> bool:
        return self.is_open and today > self.deadline
