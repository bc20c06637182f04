"""What to say to whom: segments, tones, templates and dunning policies.

This app knows nothing of the engine; `dunning` reads these definitions to plan messages.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Channel, Language


class Tone(models.TextChoices):
    FRIENDLY = "friendly", _("Friendly")
    NEUTRAL = "neutral", _("Neutral")
    FORMAL = "formal", _("Formal")
    EMPATHETIC = "empathetic", _("Empathetic")


class StepKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder")
    FORMAL_REMINDER = "formal_reminder", _("Formal reminder (aanmaning)")
    FINAL_NOTICE = "final_notice", _("Final notice")
    ESCALATION = "escalation", _("Escalation proposal")
    PAYMENT_CONFIRMATION = "payment_confirmation", _("Payment confirmation")


class Regime(models.TextChoices):
    TAX = "tax", _("Municipal tax (Invorderingswet 1990)")
    ADMINISTRATIVE = "administrative", _("Administrative debt (Awb 4:112/4:113)")
    PRIVATE = "private", _("Private-law claim (WIK, art. 6:96 BW)")


class Segment(models.Model):
    """A named group of debtors defined by transparent rules over an allowlist of attributes.

    `rules` is a list of conditions, all of which must hold: [{"attribute": "on_time_share_24m",
    "operator": "gte", "value": 0.9}, ...]. Segments are tried by ascending priority; the first match
    wins; the default segment catches the rest. `version` goes up on every change of the rules, and
    each message records the version that chose it.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    purpose = models.TextField(
        _("purpose"), help_text=_("Why this group exists and how it is treated; shown in the register of processing.")
    )
    rules = models.JSONField(_("rules"), default=list, blank=True)
    priority = models.PositiveIntegerField(_("priority"), default=100, help_text=_("Lower is tried first."))
    is_default = models.BooleanField(_("default segment"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("rule version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_segment")
        ]

    def __str__(self) -> str:
        return self.name


class MessageTemplate(models.Model):
    """The text for one step kind x tone x channel x language; a new version on every content change."""

    step_kind = models.CharField(_("step kind"), max_length=24, choices=StepKind.choices)
    tone = models.CharField(_("tone"), max_length=12, choices=Tone.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DUTCH)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["step_kind", "tone", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["step_kind", "tone", "channel", "language"],
                condition=Q(is_active=True),
                name="one_active_template_per_combination",
            )
        ]
        indexes = [models.Index(fields=["step_kind", "tone", "channel", "language"], name="template_lookup_idx")]

    def __str__(self) -> str:
        return (
            f"{self.get_step_kind_display()} / {self.get_tone_display()} / {self.get_channel_display()} / "
            f"{self.language} v{self.version}"
        )


class DunningPolicy(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    regime = models.CharField(_("legal regime"), max_length=16, choices=Regime.choices)
    description = models.TextField(_("description"), blank=True)
    send_payment_confirmation = models.BooleanField(
        _("thank debtors after payment"),
        default=False,
        help_text=_("Send a short confirmation on the channel the debtor was last reached on."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("dunning policy")
        verbose_name_plural = _("dunning policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PolicyStep(models.Model):
    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("order"))
    offset_days = models.PositiveSmallIntegerField(_("days after due date"))
    kind = models.CharField(_("kind"), max_length=24, choices=StepKind.choices)
    channels = models.JSONField(
        _("allowed channels"), default=list, help_text=_('Ordered list, e.g. ["email", "sms", "letter"].')
    )
    default_tone = models.CharField(_("default tone"), max_length=12, choices=Tone.choices, default=Tone.NEUTRAL)
    needs_approval = models.BooleanField(
        _("needs approval"), default=False, help_text=_("Steps with legal effect are proposals a person approves.")
    )

    class Meta:
        verbose_name = _("policy step")
        verbose_name_plural = _("policy steps")
        ordering = ["policy", "order"]
        constraints = [models.UniqueConstraint(fields=["policy", "order"], name="policy_step_order_unique")]

    def __str__(self) -> str:
        return f"{self.policy.name} #{self.order}: {self.get_kind_display()} (+{self.offset_days}d)"


class StepOverride(models.Model):
    """A segment-specific variation of a step: other tone, channels or timing."""

    step = models.ForeignKey(PolicyStep, on_delete=models.CASCADE, related_name="overrides")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="step_overrides")
    tone = models.CharField(_("tone"), max_length=12, choices=Tone.choices, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    offset_days = models.PositiveSmallIntegerField(_("days after due date"), null=True, blank=True)

    class Meta:
        verbose_name = _("segment override")
        verbose_name_plural = _("segment overrides")
        constraints = [models.UniqueConstraint(fields=["step", "segment"], name="step_override_unique")]

    def __str__(self) -> str:
        return f"{self.step} / {self.segment}"


class Experiment(models.Model):
    """Two or more template variants tried side by side on one policy step (A/B test).

    Each claim reaching the step gets one variant, chosen deterministically from a stable hash of
    experiment id and claim id (`campaigns.experiments.variant_for`), so a re-plan never flips it.
    Stopping the experiment makes the winner's template the active one for its combination.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")

    step = models.ForeignKey(
        PolicyStep, verbose_name=_("policy step"), on_delete=models.CASCADE, related_name="experiments"
    )
    name = models.CharField(_("name"), max_length=100)
    hypothesis = models.TextField(_("hypothesis"), blank=True, help_text=_("What you expect, and why."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    winner = models.ForeignKey(
        "ExperimentVariant",
        verbose_name=_("chosen variant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        ordering = ["-started_at", "-id"]
        permissions = [("stop_experiment", _("Can stop an experiment and choose its winner"))]
        constraints = [
            # One running experiment per step: two would fight over the same messages.
            models.UniqueConstraint(
                fields=["step"], condition=Q(status="running"), name="one_running_experiment_per_step"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class ExperimentVariant(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(_("label"), max_length=20, help_text=_("Short name shown in figures, e.g. A or B."))
    template = models.ForeignKey(
        MessageTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="experiment_variants"
    )
    weight = models.PositiveIntegerField(
        _("weight"), default=1, help_text=_("Relative share of claims: weights 1 and 1 split 50/50.")
    )

    class Meta:
        verbose_name = _("experiment variant")
        verbose_name_plural = _("experiment variants")
        ordering = ["experiment", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "label"], name="experiment_variant_label_unique"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="experiment_variant_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.name}: {self.label}"
