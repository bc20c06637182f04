"""Claims, payments, pauses and the outbox of messages.

The invariant the product sells: once a payment that settles a claim is committed, no message for that
claim leaves. Payments cancel planned messages in their own transaction, and the dispatcher re-checks
the claim under the same row lock before sending.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import DunningPolicy, ExperimentVariant, MessageTemplate, PolicyStep, Regime, Segment, Tone
from customers.models import Channel, Debtor, Language

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class ClaimKind(models.TextChoices):
    OZB = "ozb", _("Property tax (OZB)")
    WASTE = "afvalstoffenheffing", _("Waste levy (afvalstoffenheffing)")
    SEWAGE = "rioolheffing", _("Sewage levy (rioolheffing)")
    PARKING = "parking", _("Parking charge")
    RENT = "rent", _("Rent")
    OTHER = "other", _("Other")


class Claim(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        WRITTEN_OFF = "written_off", _("Written off")

    debtor = models.ForeignKey(Debtor, on_delete=models.PROTECT, related_name="claims")
    source_reference = models.CharField(_("source-system reference"), max_length=64, unique=True)
    payment_reference = models.CharField(
        _("payment reference"), max_length=32, unique=True, help_text=_("Betalingskenmerk: 16 digits with check digit.")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=ClaimKind.choices)
    regime = models.CharField(_("legal regime"), max_length=16, choices=Regime.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    principal = models.DecimalField(_("principal"), **MONEY)
    open_amount = models.DecimalField(_("open amount"), **MONEY)
    costs_amount = models.DecimalField(
        _("costs charged"),
        default=ZERO,
        help_text=_("Collection or aanmaning costs, separate from the principal."),
        **MONEY,
    )
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    policy = models.ForeignKey(
        DunningPolicy, verbose_name=_("policy"), on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    # Days every later step moves back, added when a pause ends, so that a resumed schedule does not
    # send a burst of overdue steps. Step n is due on due_on + offset_days + schedule_shift_days.
    schedule_shift_days = models.PositiveIntegerField(_("schedule shift (days)"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-due_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gte=0), name="claim_principal_non_negative"),
            models.CheckConstraint(condition=Q(open_amount__gte=0), name="claim_open_amount_non_negative"),
            models.CheckConstraint(condition=Q(costs_amount__gte=0), name="claim_costs_non_negative"),
            models.CheckConstraint(condition=Q(due_on__gte=F("issued_on")), name="claim_due_after_issue"),
        ]
        indexes = [
            # The planner: open claims by due date.
            models.Index(fields=["status", "due_on"], name="claim_status_due_idx"),
            models.Index(fields=["debtor", "status"], name="claim_debtor_status_idx"),
            models.Index(fields=["policy", "status"], name="claim_policy_status_idx"),
            # The clerk's claim list in its default order (-due_on, -id) without a status filter: read
            # backwards, 50 rows, instead of sorting a million (bench/RESULTS.md).
            models.Index(fields=["due_on", "id"], name="claim_due_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_reference} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_settled(self) -> bool:
        return self.status == self.Status.PAID

    @property
    def total_due(self) -> Decimal:
        return self.open_amount + self.costs_amount


class Payment(models.Model):
    class Source(models.TextChoices):
        API = "api", _("Payments API")
        MOLLIE = "mollie", _("iDEAL (Mollie)")
        CAMT053 = "camt053", _("Bank statement (CAMT.053)")
        MT940 = "mt940", _("Bank statement (MT940)")
        CLERK = "clerk", _("Entered by a clerk")

    class MatchStatus(models.TextChoices):
        MATCHED = "matched", _("Matched")
        UNMATCHED = "unmatched", _("Unmatched: waiting for a clerk")
        OVERPAID = "overpaid", _("Matched, overpaid: refund due")
        ON_SETTLED = "on_settled", _("Received on an already settled claim")

    source = models.CharField(_("source"), max_length=40)
    external_id = models.CharField(_("external id"), max_length=120)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    paid_at = models.DateTimeField(_("paid at"))
    reference_text = models.CharField(_("reference / remittance text"), max_length=500, blank=True)
    payer_name = models.CharField(_("payer name"), max_length=200, blank=True)
    payer_account = models.CharField(_("payer account (IBAN)"), max_length=34, blank=True)
    claim = models.ForeignKey(
        Claim, verbose_name=_("claim"), on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    match_status = models.CharField(
        _("match status"), max_length=12, choices=MatchStatus.choices, default=MatchStatus.UNMATCHED
    )
    refund_amount = models.DecimalField(_("to refund"), default=ZERO, **MONEY)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    matched_at = models.DateTimeField(_("matched at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at", "-id"]
        permissions = [("match_payment", _("Can match unmatched payments to claims"))]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="payment_source_external_id_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(refund_amount__gte=0), name="payment_refund_non_negative"),
        ]
        indexes = [
            models.Index(fields=["match_status", "paid_at"], name="payment_match_paid_idx"),
            models.Index(fields=["claim", "paid_at"], name="payment_claim_paid_idx"),
        ]

    def __str__(self) -> str:
        return f"€ {self.amount} ({self.source} {self.external_id})"


class Pause(models.Model):
    """Collection suspended for one claim, or for every claim of a debtor (e.g. debt assistance)."""

    class Reason(models.TextChoices):
        OBJECTION = "objection", _("Objection or dispute (bezwaar)")
        ARRANGEMENT = "arrangement", _("Payment arrangement")
        DEBT_ASSISTANCE = "debt_assistance", _("Debt assistance")
        WAIVER_REQUEST = "waiver_request", _("Waiver request (kwijtschelding)")
        DECEASED = "deceased", _("Deceased")
        OTHER = "other", _("Other")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, null=True, blank=True, related_name="pauses")
    debtor = models.ForeignKey(Debtor, on_delete=models.CASCADE, null=True, blank=True, related_name="pauses")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    starts_at = models.DateTimeField(_("from"), default=timezone.now)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # When the schedule shift for the end of this pause was applied to the claim(s); a pause with a
    # planned end is resumed by the daily job once the end has passed, exactly once.
    resumed_at = models.DateTimeField(_("schedule resumed at"), null=True, blank=True, editable=False)
    arrangement = models.ForeignKey(
        "PaymentArrangement",
        verbose_name=_("payment arrangement"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pauses",
    )

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(claim__isnull=False) & Q(debtor__isnull=True))
                | (Q(claim__isnull=True) & Q(debtor__isnull=False)),
                name="pause_claim_xor_debtor",
                violation_error_message=_("A pause applies to either one claim or one debtor."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="pause_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["claim", "ends_at"]), models.Index(fields=["debtor", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.starts_at:%Y-%m-%d})"

    def is_active_at(self, moment) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or self.ends_at > moment)

    @staticmethod
    def active_q(moment, prefix: str = "") -> Q:
        return Q(**{f"{prefix}starts_at__lte": moment}) & (
            Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": moment})
        )


class Message(models.Model):
    """The outbox: one row per claim and policy step, written before anything is sent."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        BUNDLED = "bundled", _("Sent with another message")

    PENDING_STATUSES = (Status.PLANNED, Status.AWAITING_APPROVAL)

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="messages")
    step = models.ForeignKey(PolicyStep, on_delete=models.PROTECT, related_name="messages")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    tone = models.CharField(_("tone"), max_length=12, choices=Tone.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DUTCH)
    template = models.ForeignKey(MessageTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    template_version = models.PositiveIntegerField(_("template version"), null=True, blank=True)
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    segment_version = models.PositiveIntegerField(_("segment rule version"), null=True, blank=True)
    # Set when the template came from a running experiment: the effect figures per variant read it.
    experiment_variant = models.ForeignKey(
        ExperimentVariant,
        verbose_name=_("experiment variant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    scheduled_for = models.DateTimeField(_("scheduled for"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    cancel_reason = models.CharField(_("cancel reason"), max_length=40, blank=True)
    # A hard bounce plans the same step on the next channel; the new row points at the bounced one.
    # CASCADE, not SET_NULL: an orphaned fallback would clash with the original under (claim, step).
    fallback_for = models.OneToOneField(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="fallback"
    )
    # Several claims of one debtor due the same day go out as one message: the others point here.
    bundled_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="bundled_messages"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Set when a dispatcher claims the row (status SENDING). A row still SENDING long after this was
    # interrupted mid-send: it is never re-sent blindly, a clerk reviews it (see dispatch.py).
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    # Letters: the PDF sent to the print house, and the daily print batch it went out in.
    document = models.FileField(_("letter PDF"), upload_to="letters/%Y/%m/%d/", max_length=255, blank=True)
    print_batch = models.CharField(_("print batch"), max_length=40, blank=True, db_index=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_id = models.CharField(_("provider id"), max_length=200, blank=True, db_index=True)
    # Prices per piece go below a cent (e-mail), so four places, like ChannelCost.
    cost = models.DecimalField(_("cost"), default=ZERO, max_digits=12, decimal_places=4)
    recipient = models.CharField(_("recipient"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("rendered body"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked at"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            # Exactly once per claim and step, by construction; a bounce fallback is the one exception
            # and is itself unique per bounced message (fallback_for is one-to-one).
            models.UniqueConstraint(
                fields=["claim", "step"], condition=Q(fallback_for__isnull=True), name="message_claim_step_unique"
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="message_cost_non_negative"),
        ]
        indexes = [
            # The dispatcher: due planned messages.
            models.Index(fields=["status", "scheduled_for"], name="message_status_due_idx"),
            models.Index(fields=["claim", "status"], name="message_claim_status_idx"),
            models.Index(fields=["sent_at"], name="message_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.step.get_kind_display()} / {self.get_channel_display()} / {self.claim.payment_reference}"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING_STATUSES


class DeliveryEvent(models.Model):
    """What the ESP / SMS provider / print house told us about a message."""

    class Kind(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        DEFERRED = "deferred", _("Deferred")
        BOUNCED = "bounced", _("Bounced")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")
        COMPLAINED = "complained", _("Complained (marked as spam)")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        UNKNOWN = "unknown", _("Unknown")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    provider_event_id = models.CharField(_("provider event id"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    is_hard_bounce = models.BooleanField(_("hard bounce"), default=False)

    class Meta:
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["message", "occurred_at"], name="event_message_time_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "kind", "provider_event_id"],
                condition=~Q(provider_event_id=""),
                name="event_provider_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class EscalationProposal(models.Model):
    """A step with legal effect, waiting for a person to decide (GDPR art. 22)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn (claim settled or paused)")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="proposals")
    step = models.ForeignKey(PolicyStep, on_delete=models.PROTECT, related_name="proposals")
    message = models.OneToOneField(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="proposal")
    action = models.CharField(_("proposed action"), max_length=40, default="escalation")
    proposed_costs = models.DecimalField(_("costs to be charged"), default=ZERO, **MONEY)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    needs_second_approval = models.BooleanField(_("needs a second approver"), default=False)
    first_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    first_decided_at = models.DateTimeField(null=True, blank=True)
    second_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("escalation proposal")
        verbose_name_plural = _("escalation proposals")
        ordering = ["created_at"]
        permissions = [("decide_escalationproposal", _("Can approve or reject escalation proposals"))]
        constraints = [
            models.UniqueConstraint(fields=["claim", "step"], name="proposal_claim_step_unique"),
            models.CheckConstraint(
                condition=Q(second_decided_by__isnull=True) | ~Q(second_decided_by=F("first_decided_by")),
                name="proposal_two_different_approvers",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="proposal_status_idx")]

    def __str__(self) -> str:
        return f"{self.action} / {self.claim.payment_reference} ({self.get_status_display()})"


class MolliePayment(models.Model):
    """An iDEAL payment created at Mollie for a claim's payment link, reused while valid.

    Created lazily when a message needs a link; a new one is created when the amount due changed or the
    old one expired. The webhook looks a payment up here only to find the claim; what Mollie says about
    the status is always fetched from Mollie's API.
    """

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="mollie_payments")
    mollie_id = models.CharField(_("Mollie id"), max_length=64, unique=True)
    checkout_url = models.URLField(_("checkout URL"), max_length=500, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(_("Mollie status"), max_length=20, default="open")
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("iDEAL payment (Mollie)")
        verbose_name_plural = _("iDEAL payments (Mollie)")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["claim", "status", "expires_at"], name="mollie_claim_status_idx")]

    def __str__(self) -> str:
        return f"{self.mollie_id} (€ {self.amount}, {self.status})"

    def is_reusable_for(self, *, amount: Decimal, moment) -> bool:
        return (
            self.status == "open"
            and self.amount == amount
            and bool(self.checkout_url)
            and (self.expires_at is None or self.expires_at > moment)
        )


class ChannelCost(models.Model):
    """What one message on a channel costs from a date on (ESP, SMS provider, print and post).

    Data, not code: prices change. Four decimals because an e-mail costs a tenth of a cent. The
    dispatcher records the price in force on Message.cost; the effect figures fall back to this
    table for messages sent before costs were recorded.
    """

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    price_per_piece = models.DecimalField(_("price per piece (EUR)"), max_digits=8, decimal_places=4)
    valid_from = models.DateField(_("valid from"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("channel cost")
        verbose_name_plural = _("channel costs")
        ordering = ["channel", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "valid_from"], name="channel_cost_channel_from_unique"),
            models.CheckConstraint(condition=Q(price_per_piece__gte=0), name="channel_cost_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: € {self.price_per_piece} ({self.valid_from:%Y-%m-%d})"


class CostKind(models.TextChoices):
    """Costs a claim can carry besides its principal (legal basis in docs/legal.md)."""

    AANMANING = "aanmaning", _("Aanmaning costs (Kostenwet)")
    DWANGBEVEL = "dwangbevel", _("Dwangbevel costs (Kostenwet)")
    AWB_FEE = "awb_fee", _("Aanmaning fee (Awb 4:113)")
    WIK = "wik", _("Collection costs (WIK, art. 6:96 BW)")


class CostRate(models.Model):
    """An indexed or municipality-set cost amount, valid for a period and an amount band.

    Data, not code: the Kostenwet amounts change every year and the Awb fee is a choice of the
    municipality. A rate applies to amounts from `band_from` (inclusive) up to `band_below`
    (exclusive; empty means no upper bound), on dates from `valid_from` to `valid_until` (inclusive;
    empty means until further notice). Overlaps per regime and kind are refused by the admin form
    (`dunning.selectors.legal.cost_rate_overlaps`). WIK costs are a formula in law (dunning.fees).
    """

    regime = models.CharField(_("legal regime"), max_length=16, choices=Regime.choices)
    kind = models.CharField(
        _("cost kind"),
        max_length=16,
        choices=[(k.value, k.label) for k in CostKind if k != CostKind.WIK],
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Inclusive; empty: open."))
    band_from = models.DecimalField(
        _("for amounts from"), default=ZERO, help_text=_("Inclusive, on the open amount the notice covers."), **MONEY
    )
    band_below = models.DecimalField(
        _("for amounts below"), null=True, blank=True, help_text=_("Exclusive; empty: no upper bound."), **MONEY
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    is_verified = models.BooleanField(
        _("checked against the source"),
        default=False,
        help_text=_("Untick for placeholders; unchecked rates are flagged on every approval page."),
    )
    source = models.CharField(_("source"), max_length=300, blank=True, help_text=_("Law, article, publication."))
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("cost rate")
        verbose_name_plural = _("cost rates")
        ordering = ["regime", "kind", "-valid_from", "band_from"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="cost_rate_amount_non_negative"),
            models.CheckConstraint(condition=Q(band_from__gte=0), name="cost_rate_band_from_non_negative"),
            models.CheckConstraint(
                condition=Q(band_below__isnull=True) | Q(band_below__gt=F("band_from")),
                name="cost_rate_band_ordered",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="cost_rate_validity_ordered",
            ),
        ]
        indexes = [models.Index(fields=["regime", "kind", "valid_from"], name="cost_rate_lookup_idx")]

    def __str__(self) -> str:
        upper = f"< € {self.band_below}" if self.band_below is not None else "+"
        return f"{self.get_kind_display()} {self.valid_from:%Y-%m-%d}: € {self.band_from} {upper} -> € {self.amount}"

    def covers(self, *, on, amount: Decimal) -> bool:
        in_period = self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)
        in_band = self.band_from <= amount and (self.band_below is None or amount < self.band_below)
        return in_period and in_band


class LegalNotice(models.Model):
    """Evidence of a notice that starts a legal term: when it left, when it counts as received, the term.

    One per message. For the WIK 14-day letter this is what makes charging collection costs lawful:
    the term ran from the day after (presumed) receipt and the letter stated the exact costs.
    """

    class Kind(models.TextChoices):
        WIK_LETTER = "wik_letter", _("14-day letter (WIK)")
        TAX_AANMANING = "tax_aanmaning", _("Aanmaning (Invorderingswet)")
        AWB_AANMANING = "awb_aanmaning", _("Aanmaning (Awb 4:112)")
        DWANGBEVEL = "dwangbevel", _("Dwangbevel")
        FINAL_NOTICE = "final_notice", _("Final notice")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="legal_notices")
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="legal_notice"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    sent_at = models.DateTimeField(_("sent at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    presumed_received_on = models.DateField(_("received on (presumed)"))
    term_days = models.PositiveSmallIntegerField(_("term (days)"))
    term_ends_on = models.DateField(_("term ends on (inclusive)"))
    cost_kind = models.CharField(_("cost kind stated"), max_length=16, choices=CostKind.choices, blank=True)
    costs_stated = models.DecimalField(_("costs stated"), default=ZERO, **MONEY)
    open_amount_stated = models.DecimalField(_("open amount at sending"), default=ZERO, **MONEY)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("legal notice")
        verbose_name_plural = _("legal notices")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(costs_stated__gte=0), name="legal_notice_costs_non_negative"),
            models.CheckConstraint(
                condition=Q(term_ends_on__gte=F("presumed_received_on")), name="legal_notice_term_after_receipt"
            ),
        ]
        indexes = [models.Index(fields=["claim", "kind"], name="legal_notice_claim_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.claim.payment_reference}: term ends {self.term_ends_on:%Y-%m-%d}"

    def term_has_passed(self, today) -> bool:
        return today > self.term_ends_on


class ClaimCost(models.Model):
    """One cost charged on a claim (claim.costs_amount is their sum), with what justified it."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="cost_lines")
    kind = models.CharField(_("cost kind"), max_length=16, choices=CostKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    vat_amount = models.DecimalField(_("of which VAT"), default=ZERO, **MONEY)
    basis_amount = models.DecimalField(_("computed on open amount"), **MONEY)
    notice = models.ForeignKey(LegalNotice, on_delete=models.PROTECT, null=True, blank=True, related_name="costs")
    proposal = models.ForeignKey(
        EscalationProposal, on_delete=models.PROTECT, null=True, blank=True, related_name="costs"
    )
    rate = models.ForeignKey(CostRate, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    charged_at = models.DateTimeField(_("charged at"))
    charged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("charged cost")
        verbose_name_plural = _("charged costs")
        ordering = ["charged_at", "id"]
        constraints = [
            # Each kind of cost is charged at most once per claim.
            models.UniqueConstraint(fields=["claim", "kind"], name="claim_cost_once_per_kind"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="claim_cost_amount_positive"),
            models.CheckConstraint(condition=Q(vat_amount__gte=0), name="claim_cost_vat_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: € {self.amount}"


class PaymentArrangement(models.Model):
    """A payment plan for one or more claims of one debtor; while active, dunning on those claims pauses."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PENDING_CANCELLATION = "cancelled_pending_confirmation", _("Missed twice: cancel? (needs confirmation)")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    debtor = models.ForeignKey(Debtor, on_delete=models.PROTECT, related_name="arrangements")
    claims = models.ManyToManyField(Claim, related_name="arrangements", verbose_name=_("claims"))
    total = models.DecimalField(_("total"), **MONEY)
    starts_on = models.DateField(_("starts on"))
    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.ACTIVE)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("agreed by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    pending_since = models.DateTimeField(_("cancellation proposed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("payment arrangement")
        verbose_name_plural = _("payment arrangements")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(total__gt=0), name="arrangement_total_positive")]
        indexes = [models.Index(fields=["status"], name="arrangement_status_idx")]

    def __str__(self) -> str:
        return f"{_('Arrangement')} {self.pk}: € {self.total} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.PENDING_CANCELLATION)


class Instalment(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        MISSED = "missed", _("Missed")

    arrangement = models.ForeignKey(PaymentArrangement, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=ZERO, **MONEY)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    missed_at = models.DateTimeField(_("first found missed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["arrangement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["arrangement", "number"], name="instalment_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="instalment_paid_non_negative"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.due_on:%Y-%m-%d} € {self.amount} ({self.get_status_display()})"

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.paid_amount, ZERO)


class InstalmentReminder(models.Model):
    """A friendly reminder for one missed instalment: its own small outbox row.

    Not a Message: a Message belongs to a policy step (unique per claim and step) and its templates
    are chosen per step kind; an instalment reminder belongs to the arrangement, so it has its own
    row, written before sending and updated after (same pattern as the outbox).
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    instalment = models.OneToOneField(Instalment, on_delete=models.CASCADE, related_name="reminder")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DUTCH)
    recipient = models.CharField(_("recipient"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("instalment reminder")
        verbose_name_plural = _("instalment reminders")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.instalment} / {self.get_channel_display()} ({self.get_status_display()})"


class EffectFigures(Message):
    """No table of its own: the admin's entry for the effect figures page and its view permission."""

    class Meta:
        proxy = True
        verbose_name = _("effect figures")
        verbose_name_plural = _("effect figures")
        default_permissions = ("view",)


class ClaimImport(Claim):
    """No table of its own: the admin's entry for importing claims from CSV (needs "add claim")."""

    class Meta:
        proxy = True
        verbose_name = _("claim import")
        verbose_name_plural = _("claim imports (CSV)")
        default_permissions = ()
