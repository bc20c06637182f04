"""The personal-data core: who owes, how to reach them, and what they told us.

Everything else in the system refers to a debtor by id; personal data lives here (and in rendered
messages), so retention and data-subject requests have one place to look.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")


class Language(models.TextChoices):
    DUTCH = "nl", _("Dutch")
    ENGLISH = "en", _("English")


class Debtor(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    source_reference = models.CharField(
        _("source-system reference"),
        max_length=64,
        unique=True,
        help_text=_("The debtor's number in the tax or financial system it was imported from."),
    )
    # Name as used in a salutation: initials/first name and surname for persons, the legal name for
    # organisations. No citizen service number (BSN) is stored: see docs/privacy.md.
    given_name = models.CharField(_("given name or initials"), max_length=100, blank=True)
    surname_prefix = models.CharField(_("surname prefix"), max_length=20, blank=True, help_text="van, de, van der")
    surname = models.CharField(_("surname or organisation name"), max_length=200)
    street = models.CharField(_("street"), max_length=200, blank=True)
    house_number = models.CharField(_("house number"), max_length=20, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NL")
    email = models.EmailField(_("e-mail"), blank=True)
    email_invalid_since = models.DateTimeField(
        _("e-mail invalid since"), null=True, blank=True, help_text=_("Set by a hard bounce.")
    )
    phone = models.CharField(_("mobile phone (E.164)"), max_length=16, blank=True)
    phone_invalid_since = models.DateTimeField(_("phone invalid since"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DUTCH)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("debtor")
        verbose_name_plural = _("debtors")
        ordering = ["surname", "given_name", "id"]
        indexes = [models.Index(fields=["surname", "given_name"], name="debtor_name_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="debtor_phone_e164",
                violation_error_message=_("Phone numbers are stored in E.164 form, e.g. +31612345678."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.source_reference})"

    @property
    def display_name(self) -> str:
        if self.kind == self.Kind.ORGANISATION:
            return self.surname
        return " ".join(part for part in (self.given_name, self.surname_prefix, self.surname) if part)

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def has_postal_address(self) -> bool:
        return bool(self.street and self.postal_code and self.city)

    def has_valid_contact(self, channel: str) -> bool:
        """Whether a message on `channel` could reach this debtor at all (preferences aside)."""
        if channel == Channel.EMAIL:
            return bool(self.email) and self.email_invalid_since is None
        if channel == Channel.SMS:
            return bool(self.phone) and self.phone_invalid_since is None
        return self.has_postal_address


class ChannelPreference(models.Model):
    """What the debtor (or a clerk on their behalf) said about how to be reached."""

    class StatedBy(models.TextChoices):
        DEBTOR = "debtor", _("Debtor")
        CLERK = "clerk", _("Clerk on the debtor's behalf")

    debtor = models.OneToOneField(Debtor, on_delete=models.CASCADE, related_name="channel_preference")
    preferred_channels = models.JSONField(
        _("preferred channels, in order"),
        default=list,
        blank=True,
        help_text=_('Ordered list, e.g. ["sms", "email"]. Channels not listed follow the policy step.'),
    )
    email_opt_out = models.BooleanField(_("no e-mail"), default=False)
    sms_opt_out = models.BooleanField(_("no SMS"), default=False)
    stated_by = models.CharField(_("stated by"), max_length=10, choices=StatedBy.choices, default=StatedBy.DEBTOR)
    stated_at = models.DateTimeField(_("stated at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("channel preference")
        verbose_name_plural = _("channel preferences")

    def __str__(self) -> str:
        return ", ".join(self.preferred_channels) or "-"

    def is_opted_out(self, channel: str) -> bool:
        return (channel == Channel.EMAIL and self.email_opt_out) or (channel == Channel.SMS and self.sms_opt_out)


class CareFlag(models.Model):
    """A reason to be careful: the debtor said they need help, or is registered with debt assistance."""

    class Source(models.TextChoices):
        SELF_DECLARED = "self_declared", _("Self-declared")
        DEBT_ASSISTANCE = "debt_assistance", _("Debt-assistance registration")

    class Reason(models.TextChoices):
        FINANCIAL_HARDSHIP = "financial_hardship", _("Financial hardship")
        HEALTH = "health", _("Health")
        LIFE_EVENT = "life_event", _("Life event (death, divorce, job loss)")
        LANGUAGE_OR_LITERACY = "literacy", _("Language or literacy")
        OTHER = "other", _("Other")

    debtor = models.ForeignKey(Debtor, on_delete=models.CASCADE, related_name="care_flags")
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    reason = models.CharField(_("reason category"), max_length=20, choices=Reason.choices, default=Reason.OTHER)
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("care flag")
        verbose_name_plural = _("care flags")
        indexes = [models.Index(fields=["debtor", "ends_on"], name="careflag_debtor_end_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="careflag_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.get_reason_display()}"

    def is_active_on(self, day) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)

    @staticmethod
    def active_q(day, prefix: str = "") -> Q:
        """Q for flags active on `day`; `prefix` lets a debtor query filter through the relation."""
        return Q(**{f"{prefix}starts_on__lte": day}) & (
            Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": day})
        )
