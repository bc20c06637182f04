"""The demo municipality: debtors, claims, a year of simulated history, policies, segments, templates.

Everything here is synthetic (Faker nl_NL and a documented behaviour model, see docs/demo-data.md) and
deterministic for a seed and a day: the same `seed` and `today` give the same names, amounts, dates,
messages and payments. Rows go in with bulk_create so 10,000 debtors take seconds, not minutes; audit
signals do not fire for them (this is generated data, not a person's change).

Steps of `demo_seed`:
1. Roles and (DEBUG only) demo users for each role.
2. Segments, policies with steps and per-segment overrides, message templates (upserted by name or
   combination, so running against a database that already has them keeps them).
3. Debtors, each with a behaviour profile (on time, sometimes late, chronically late, needs help,
   business, other), channel preferences, care flags.
4. Claims over the last ~14 months, and for each claim a simulated history: reminders sent by the
   policy's steps until the (simulated) payment, delivery events, payments, escalation proposals,
   the next step a payment stopped (cancelled, "paid"), collection costs after approved escalations.
5. The seeding day itself up to noon: messages sent this morning, letters waiting for the afternoon
   print run, a few failures, payments this morning; a running A/B experiment on the friendly e-mail
   reminder of the tax policy; rendered bodies for the recent messages.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from auditlog.context import set_actor
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.db.models.base import ModelState
from django.utils import timezone, translation
from faker import Faker

from campaigns.experiments import variant_for
from campaigns.models import (
    DunningPolicy,
    Experiment,
    ExperimentVariant,
    MessageTemplate,
    PolicyStep,
    Regime,
    Segment,
    StepKind,
    StepOverride,
    Tone,
)
from campaigns.templating import context_from_allowlist, render, sms_length
from compliance.roles import CLERK, COMPLIANCE_OFFICER, TEAM_LEAD, roles_setup
from config.actors import system_user
from customers.models import CareFlag, Channel, ChannelPreference, Debtor
from dunning import legal
from dunning.channels import render as renderer
from dunning.models import (
    ChannelCost,
    Claim,
    ClaimCost,
    ClaimKind,
    CostRate,
    DeliveryEvent,
    EscalationProposal,
    Message,
    Pause,
    Payment,
)
from dunning.references import payment_reference_format, payment_reference_make
from dunning.services.claim_import import REGIME_BY_KIND
from dunning.services.demo_texts import experiment_variant_b_text, template_text
from dunning.services.payment_links import municipality_payment_page_for
from dunning.windows import is_sending_day

DEMO_PREFIX = "DEMO-"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed by runserver_with_cluster; DEBUG only
# Payment references of demo claims come from their own range so they never meet imported ones.
REFERENCE_BASE = 990_000_000_000_000
WINDOW_DAYS = 425  # about 14 months of claims
TZ = ZoneInfo("Europe/Amsterdam")
CENT = Decimal("0.01")
ZERO_COST = Decimal("0")
# The simulated history runs up to noon of the seeding day: this morning's run has sent its e-mails
# and text messages, letters wait for the afternoon print run, payments came in overnight and this morning.
CUTOFF_HOUR = 12
PRINT_RUN_HOUR = 15
# Bodies are rendered (through the engine's templates and helpers) for messages of the last weeks and
# for everything still pending; older history keeps the subject only, so seeding stays fast.
RENDER_DAYS = 21

# ------------------------------------------------------------------------------------------ segments

SEG_HELP = "Heeft hulp nodig"
SEG_BUSINESS = "Zakelijk"
SEG_ON_TIME = "Altijd op tijd"
SEG_CHRONIC = "Chronische laatbetaler"
SEG_SOMETIMES = "Soms te laat"
SEG_OTHER = "Overig"

SEGMENTS = [
    {
        "name": SEG_HELP,
        "priority": 10,
        "rules": [{"attribute": "has_active_care_flag", "operator": "eq", "value": True}],
        "purpose": "Mensen die zelf hebben aangegeven dat zij hulp nodig hebben, of die bij schuldhulpverlening "
        "bekend zijn. Zij krijgen altijd een begripvolle toon, meer tijd en informatie over gratis hulp bij "
        "geldzaken. Een escalatie vraagt om twee beoordelaars.",
    },
    {
        "name": SEG_BUSINESS,
        "priority": 20,
        "rules": [{"attribute": "debtor_kind", "operator": "eq", "value": "organisation"}],
        "purpose": "Bedrijven en organisaties. Zij krijgen zakelijke berichten per e-mail of brief, zonder sms.",
    },
    {
        "name": SEG_ON_TIME,
        "priority": 30,
        "rules": [{"attribute": "on_time_share_24m", "operator": "gte", "value": 0.9}],
        "purpose": "Mensen die de afgelopen 24 maanden (bijna) altijd op tijd betaalden. Een vriendelijke "
        "herinnering per sms is meestal genoeg; zo voorkomen we onnodige kosten en ergernis.",
    },
    {
        "name": SEG_CHRONIC,
        "priority": 40,
        "rules": [
            {"attribute": "on_time_share_24m", "operator": "lt", "value": 0.5},
            {"attribute": "reminders_needed_24m", "operator": "gte", "value": 3},
        ],
        "purpose": "Mensen die de afgelopen 24 maanden vaker te laat dan op tijd betaalden en minstens drie "
        "herinneringen nodig hadden. Zij krijgen eerder een sms en een duidelijke, formele aanmaning.",
    },
    {
        "name": SEG_SOMETIMES,
        "priority": 50,
        "rules": [
            {"attribute": "on_time_share_24m", "operator": "gte", "value": 0.5},
            {"attribute": "on_time_share_24m", "operator": "lt", "value": 0.9},
        ],
        "purpose": "Mensen die meestal op tijd betalen, maar soms te laat. Een vriendelijke herinnering per "
        "e-mail helpt hen het snelst.",
    },
    {
        "name": SEG_OTHER,
        "priority": 1000,
        "rules": [],
        "is_default": True,
        "purpose": "Iedereen die in geen andere groep valt, bijvoorbeeld nieuwe inwoners zonder "
        "betaalgeschiedenis. Zij volgen het standaard invorderingsbeleid.",
    },
]

# ------------------------------------------------------------------------------------------ policies

POLICY_TAX = "Gemeentelijke belastingen (Invorderingswet 1990)"
POLICY_ADMIN = "Bestuursrechtelijke geldschulden (Awb)"
POLICY_PRIVATE = "Privaatrechtelijke vorderingen (WIK)"

E, S, L = Channel.EMAIL.value, Channel.SMS.value, Channel.LETTER.value

# (offset_days, kind, channels, default tone, needs approval)
POLICIES = {
    POLICY_TAX: {
        "regime": Regime.TAX,
        "description": "Invordering van gemeentelijke belastingen (OZB, afvalstoffenheffing, rioolheffing) "
        "volgens de Invorderingswet 1990: herinnering, sms, aanmaning met een termijn van 14 dagen, daarna een "
        "voorstel voor een dwangbevel dat een medewerker moet goedkeuren. Kosten volgen de Kostenwet "
        "(bedragen per jaar als gegevens).",
        "steps": [
            (3, StepKind.REMINDER, [E, L], Tone.FRIENDLY, False),
            (10, StepKind.REMINDER, [S, E, L], Tone.NEUTRAL, False),
            (21, StepKind.FORMAL_REMINDER, [L, E], Tone.NEUTRAL, False),
            (42, StepKind.ESCALATION, [L], Tone.FORMAL, True),
        ],
    },
    POLICY_ADMIN: {
        "regime": Regime.ADMINISTRATIVE,
        "description": "Bestuursrechtelijke geldschulden (zoals naheffingen parkeren) volgens de Awb: "
        "herinnering, aanmaning met een termijn van twee weken en de aanmaningsvergoeding (art. 4:112/4:113 "
        "Awb), laatste herinnering, daarna een voorstel voor een dwangbevel (art. 4:114 Awb) dat een "
        "medewerker moet goedkeuren.",
        "steps": [
            (3, StepKind.REMINDER, [E, S, L], Tone.FRIENDLY, False),
            (14, StepKind.FORMAL_REMINDER, [L, E], Tone.NEUTRAL, False),
            (35, StepKind.FINAL_NOTICE, [L, E], Tone.FORMAL, False),
            (49, StepKind.ESCALATION, [L], Tone.FORMAL, True),
        ],
    },
    POLICY_PRIVATE: {
        "regime": Regime.PRIVATE,
        "description": "Privaatrechtelijke vorderingen (zoals huur) volgens art. 6:96 BW (WIK): herinnering, "
        "sms, de veertiendagenbrief met het exacte bedrag aan incassokosten, daarna een voorstel om de "
        "vordering uit handen te geven dat een medewerker moet goedkeuren.",
        "steps": [
            (3, StepKind.REMINDER, [E, S, L], Tone.FRIENDLY, False),
            (10, StepKind.REMINDER, [S, E, L], Tone.NEUTRAL, False),
            (17, StepKind.FORMAL_REMINDER, [L, E], Tone.FORMAL, False),
            (38, StepKind.ESCALATION, [L], Tone.FORMAL, True),
        ],
    },
}
POLICY_BY_REGIME = {Regime.TAX: POLICY_TAX, Regime.ADMINISTRATIVE: POLICY_ADMIN, Regime.PRIVATE: POLICY_PRIVATE}


def _overrides_for(segment: str, order: int, kind: str, offset: int) -> dict | None:
    """Per-segment variations of a step (tone, channels, timing); None keeps the step as it is."""
    first_reminder = order == 1
    if segment == SEG_HELP:
        # More time and always an understanding tone (the engine forces empathetic for care flags anyway).
        extra = 7 if kind == StepKind.REMINDER else 14 if kind == StepKind.ESCALATION else None
        return {"tone": Tone.EMPATHETIC, "offset_days": offset + extra if extra else None}
    if segment == SEG_ON_TIME and kind == StepKind.REMINDER:
        return {"tone": Tone.FRIENDLY, "channels": [S, E, L]}
    if segment == SEG_SOMETIMES and first_reminder:
        return {"tone": Tone.FRIENDLY, "channels": [E, S, L]}
    if segment == SEG_CHRONIC and first_reminder:
        return {"tone": Tone.NEUTRAL, "channels": [S, E, L]}
    if segment == SEG_CHRONIC and kind == StepKind.FORMAL_REMINDER:
        return {"tone": Tone.FORMAL}
    if segment == SEG_BUSINESS and kind in (StepKind.REMINDER, StepKind.FORMAL_REMINDER):
        return {"tone": Tone.NEUTRAL, "channels": [E, L]}
    return None


# ------------------------------------------------------------------------------ the behaviour model
# See docs/demo-data.md; the figures are invented, chosen so the effect dashboard shows differences.

PROFILE_SEGMENT = {
    "on_time": SEG_ON_TIME,
    "sometimes": SEG_SOMETIMES,
    "chronic": SEG_CHRONIC,
    "help": SEG_HELP,
    "business": SEG_BUSINESS,
    "other": SEG_OTHER,
    "new": SEG_OTHER,
}
# Chance that a claim not due yet is paid already (on the day the bill arrives, or a little later).
PAY_EARLY = {"on_time": 0.9, "sometimes": 0.7, "chronic": 0.0, "help": 0.3, "business": 0.5, "other": 0.5, "new": 0.5}
# Chance to pay late but before any reminder (between the due date and the first step).
PAY_BEFORE_FIRST_STEP = {"sometimes": 0.25, "chronic": 0.0, "help": 0.1, "business": 0.3, "other": 0.2, "new": 0.2}
# Chance to pay before the next step after a reminder with the neutral tone by e-mail.
RESPONSE_BASE = {"sometimes": 0.62, "chronic": 0.28, "help": 0.22, "business": 0.5, "other": 0.42, "new": 0.45}
TONE_EFFECT = {
    "sometimes": {Tone.FRIENDLY: 1.25, Tone.NEUTRAL: 1.0, Tone.FORMAL: 0.85, Tone.EMPATHETIC: 1.05},
    "chronic": {Tone.FRIENDLY: 0.8, Tone.NEUTRAL: 1.0, Tone.FORMAL: 1.3, Tone.EMPATHETIC: 0.95},
    "help": {Tone.FRIENDLY: 1.0, Tone.NEUTRAL: 0.9, Tone.FORMAL: 0.55, Tone.EMPATHETIC: 1.6},
    "business": {Tone.FRIENDLY: 0.95, Tone.NEUTRAL: 1.0, Tone.FORMAL: 1.15, Tone.EMPATHETIC: 0.9},
    "other": {Tone.FRIENDLY: 1.05, Tone.NEUTRAL: 1.0, Tone.FORMAL: 1.0, Tone.EMPATHETIC: 1.1},
    "new": {Tone.FRIENDLY: 1.1, Tone.NEUTRAL: 1.0, Tone.FORMAL: 0.95, Tone.EMPATHETIC: 1.05},
}
CHANNEL_EFFECT = {S: 1.3, E: 1.0, L: 0.9}
STEP_KIND_EFFECT = {StepKind.REMINDER: 1.0, StepKind.FORMAL_REMINDER: 1.2, StepKind.FINAL_NOTICE: 1.3}
# Mean days from message to payment when the message works (SMS is read at once, a letter takes post).
CHANNEL_DELAY_MEAN = {S: 1.5, E: 3.0, L: 5.0}
TRIAL_SHARE = 0.25  # share of reminders that used another tone or channel in simulated earlier trials
EMAIL_BOUNCE_SHARE = 0.03  # debtors whose e-mail address turned out to be dead
SMS_FAILURE = 0.02
EMAIL_OPEN = 0.55
EMAIL_CLICK = 0.35  # of those opened


# Parking naheffingen are written every day; a share of the people (and businesses) get them.
PARKING_SHARE_PERSON = 0.30
PARKING_SHARE_ORGANISATION = 0.35
# The running experiment (see docs/demo-data.md): variant B adds this to the chance of paying.
EXPERIMENT_NAME = "Korte herinnering met betaallink bovenaan"
EXPERIMENT_B_UPLIFT = 0.18
# "Today" on any seed: extra parking fines for late-paying debtors so that a step falls due this
# morning (one per SCENE_PER debtors, at least SCENE_MIN): see `_Generator._scene`.
SCENE_PER = 100
SCENE_MIN = 9


def _response_probability(profile: str, tone: str, channel: str, kind: str) -> float:
    p = RESPONSE_BASE[profile] * TONE_EFFECT[profile][tone] * CHANNEL_EFFECT[channel]
    return min(0.95, p * STEP_KIND_EFFECT.get(kind, 1.0))


# ----------------------------------------------------------------------------------- amounts, kinds

WASTE_SINGLE = Decimal("318.00")
WASTE_MULTI = Decimal("414.00")
SEWAGE = Decimal("236.52")
PARKING = Decimal("79.40")
GARAGE_QUARTER = Decimal("289.50")
ALLOTMENT_YEAR = Decimal("145.00")
OZB_RATE_HOME = Decimal("0.0009")
STREETS_CENTRE = ("Markt", "Kerkstraat", "Stationsplein", "Havenkade", "Molenstraat", "Nieuwe Gracht")


@dataclass
class DemoResult:
    skipped: bool = False
    debtors: int = 0
    claims: int = 0
    messages: int = 0
    delivery_events: int = 0
    payments: int = 0
    proposals: int = 0
    pauses: int = 0
    templates: int = 0
    rendered: int = 0
    users: list[str] = field(default_factory=list)
    segment_profiles: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class DemoDataExists(Exception):
    """Demo debtors are already there; seeding twice would clash on their references."""


@dataclass
class _ClaimPlan:
    claim: Claim
    profile: str
    late: bool  # forced pattern: paid after the due date (or not at all)
    paid_on: date | None = None
    objection_at: datetime | None = None
    # Today's scene (see _Generator._scene): "sent" (a reminder this morning, maybe failing), "letter"
    # (an aanmaning for the afternoon print run) or "paid" (paid this morning after a reminder).
    scene: str = ""
    fail_today: bool = False


def demo_seed(
    *,
    debtors: int = 1000,
    seed: int = 2026,
    today: date | None = None,
    if_empty: bool = False,
) -> DemoResult:
    """Create the demo municipality (see the module docstring). Returns counts and the time taken."""
    started = time.monotonic()
    if if_empty and Debtor.objects.exists():
        return DemoResult(skipped=True)
    if Debtor.objects.filter(source_reference__startswith=DEMO_PREFIX).exists():
        raise DemoDataExists("demo debtors already exist; seed an empty database (or use --if-empty)")
    today = today or timezone.localdate()
    result = DemoResult()
    with transaction.atomic(), set_actor(system_user()):
        roles_setup()
        if settings.DEBUG:
            result.users = demo_users_ensure()
        segments = segments_ensure()
        policies = policies_ensure(segments=segments)
        templates = templates_ensure()
        result.templates = len(templates)
        experiment = experiment_ensure(policies=policies, templates=templates, today=today)
        _Generator(
            seed=seed,
            today=today,
            segments=segments,
            policies=policies,
            templates=templates,
            experiment=experiment,
            result=result,
        ).run(debtors)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def demo_users_ensure() -> list[str]:
    """The four demo logins (only ever called when DEBUG); existing users keep their password."""
    user_model = get_user_model()
    made = []
    for username, role in (
        ("clerk", CLERK),
        ("team-lead", TEAM_LEAD),
        ("compliance", COMPLIANCE_OFFICER),
        ("admin", None),
    ):
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"is_staff": True, "is_superuser": role is None, "email": f"{username}@example.nl"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if role:
            user.groups.add(Group.objects.get(name=role))
        made.append(username)
    return made


def segments_ensure() -> dict[str, Segment]:
    found = {}
    for spec in SEGMENTS:
        segment, _ = Segment.objects.get_or_create(
            name=spec["name"],
            defaults={
                "purpose": spec["purpose"],
                "rules": spec["rules"],
                "priority": spec["priority"],
                "is_default": spec.get("is_default", False),
            },
        )
        found[segment.name] = segment
    return found


def policies_ensure(*, segments: dict[str, Segment]) -> dict[str, DunningPolicy]:
    found = {}
    for name, spec in POLICIES.items():
        policy, created = DunningPolicy.objects.get_or_create(
            name=name, defaults={"regime": spec["regime"], "description": spec["description"]}
        )
        found[name] = policy
        if not created:
            continue
        for order, (offset, kind, channels, tone, approval) in enumerate(spec["steps"], start=1):
            step = PolicyStep.objects.create(
                policy=policy,
                order=order,
                offset_days=offset,
                kind=kind,
                channels=channels,
                default_tone=tone,
                needs_approval=approval,
            )
            for segment_name, segment in segments.items():
                override = _overrides_for(segment_name, order, kind, offset)
                if override:
                    StepOverride.objects.create(
                        step=step,
                        segment=segment,
                        tone=override.get("tone", ""),
                        channels=override.get("channels", []),
                        offset_days=override.get("offset_days"),
                    )
    return found


def templates_ensure() -> dict[tuple[str, str, str, str], MessageTemplate]:
    """One active template per step kind x tone x channel x language; existing ones are kept."""
    existing = {(t.step_kind, t.tone, t.channel, t.language): t for t in MessageTemplate.objects.filter(is_active=True)}
    missing = []
    for kind in StepKind.values:
        for tone in Tone.values:
            for channel in Channel.values:
                for language in ("nl", "en"):
                    key = (kind, tone, channel, language)
                    if key in existing:
                        continue
                    subject, body = template_text(kind=kind, tone=tone, channel=channel, language=language)
                    missing.append(
                        MessageTemplate(
                            step_kind=kind, tone=tone, channel=channel, language=language, subject=subject, body=body
                        )
                    )
    for template in MessageTemplate.objects.bulk_create(missing):
        existing[(template.step_kind, template.tone, template.channel, template.language)] = template
    return existing


def experiment_ensure(
    *, policies: dict[str, DunningPolicy], templates: dict[tuple[str, str, str, str], MessageTemplate], today: date
) -> Experiment | None:
    """The demo's running A/B test on the tax policy's first reminder (friendly, e-mail, Dutch).

    A is the active template; B (inactive: one active template per combination) is shorter and puts the
    payment link first. It started on the due date of this year's assessment round, so the reminders
    of that round are in it. An existing experiment of that name is kept.
    """
    step = policies[POLICY_TAX].steps.filter(order=1).first()
    current = templates.get((StepKind.REMINDER, Tone.FRIENDLY, E, "nl"))
    if step is None or current is None:
        return None
    found = Experiment.objects.filter(name=EXPERIMENT_NAME).first()
    if found is not None:
        return found
    if Experiment.objects.filter(step=step, status=Experiment.Status.RUNNING).exists():
        return None  # someone else's experiment runs on that step: leave it alone
    subject, body = experiment_variant_b_text()
    shorter = MessageTemplate.objects.create(
        step_kind=StepKind.REMINDER,
        tone=Tone.FRIENDLY,
        channel=E,
        language="nl",
        subject=subject,
        body=body,
        is_active=False,
    )
    experiment = Experiment.objects.create(
        step=step,
        name=EXPERIMENT_NAME,
        hypothesis="Een kortere e-mail met de betaallink bovenaan (B) laat meer mensen binnen 14 dagen betalen "
        "dan de huidige vriendelijke herinnering (A): wie wil betalen, hoeft niet te zoeken. (Demo: de uitkomst "
        "is gesimuleerd.)",
        started_at=_at(_round_date(today) + timedelta(days=61), 8),
    )
    ExperimentVariant.objects.create(experiment=experiment, label="A", template=current, weight=1)
    ExperimentVariant.objects.create(experiment=experiment, label="B", template=shorter, weight=1)
    return experiment


# ------------------------------------------------------------------------------------------ generator


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _sending_day(day: date) -> date:
    """The first day from `day` on that messages go out (no Sundays, no Dutch public holidays)."""
    while not is_sending_day(day):
        day += timedelta(days=1)
    return day


def _round_date(today: date) -> date:
    """The yearly assessment round (last working day of February) inside the 14-month window."""
    start = today - timedelta(days=WINDOW_DAYS)
    for year in (today.year, today.year - 1):
        day = date(year, 2, 28)
        while day.weekday() > 4:
            day -= timedelta(days=1)
        if start <= day <= today - timedelta(days=70):
            return day
    return start + timedelta(days=30)


class _Generator:
    def __init__(self, *, seed, today, segments, policies, templates, result, experiment=None):
        self.rng = random.Random(seed)
        self.fake = Faker("nl_NL")
        self.fake.seed_instance(seed)
        self.fake_en = Faker("en_GB")
        self.fake_en.seed_instance(seed + 1)
        self.today = today
        self.now = _at(today, CUTOFF_HOUR)  # the history ends at noon of the seeding day
        self.window_start = today - timedelta(days=WINDOW_DAYS)
        self.round = _round_date(today)
        self.segments = segments
        self.policies = policies
        self.templates = templates
        self.result = result
        self.municipality = settings.MUNICIPALITY
        self.city = settings.MUNICIPALITY["name"].removeprefix("Gemeente ").strip() or "Voorbeeld"
        self.steps = {
            name: list(policy.steps.order_by("order")) for name, policy in policies.items()
        }  # PolicyStep lists per policy name
        self.overrides = {
            (o.step_id, o.segment_id): o for o in StepOverride.objects.filter(step__policy__in=policies.values())
        }
        # Price in force today per channel, at Message.cost's precision (SMS: two parts unless the
        # rendered body says otherwise; reminders are 160-306 characters).
        prices = {
            c.channel: c.price_per_piece
            for c in ChannelCost.objects.filter(valid_from__lte=today).order_by("channel", "valid_from")
        }
        self.prices = {channel: prices.get(channel, Decimal("0")) for channel in (E, S, L)}
        self.cost_quantum = Decimal(1).scaleb(-Message._meta.get_field("cost").decimal_places)
        self.message_costs = {channel: self.cost(channel, 2 if channel == S else 1) for channel in (E, S, L)}
        self.claim_counter = 0
        self.experiment = experiment
        self.experiment_variants = (
            sorted(experiment.variants.select_related("template"), key=lambda v: (v.label, v.pk)) if experiment else []
        )
        self.experiment_uplift = {
            v.pk: EXPERIMENT_B_UPLIFT if v.label == "B" else 0.0 for v in self.experiment_variants
        }

    def cost(self, channel: str, parts: int = 1) -> Decimal:
        return (self.prices[channel] * parts).quantize(self.cost_quantum, ROUND_HALF_UP)

    # -- debtors -------------------------------------------------------------------------------------

    def run(self, count: int) -> None:
        people = [self._debtor(n) for n in range(1, count + 1)]
        _fast_insert([d for d, _, _ in people])
        self.result.debtors = len(people)
        preferences, flags, pauses = [], [], []
        for debtor, profile, extra in people:
            if extra.get("preference"):
                preferences.append(ChannelPreference(debtor=debtor, **extra["preference"]))
            for flag in extra.get("flags", []):
                flags.append(CareFlag(debtor=debtor, **flag))
            if extra.get("debtor_pause_from"):
                pauses.append(
                    Pause(
                        debtor=debtor,
                        reason=Pause.Reason.DEBT_ASSISTANCE,
                        starts_at=_at(extra["debtor_pause_from"], 10),
                        created_at=_at(extra["debtor_pause_from"], 10),
                        note="Aangemeld bij schuldhulpverlening (demo).",
                    )
                )
            self.result.segment_profiles[profile] = self.result.segment_profiles.get(profile, 0) + 1
        ChannelPreference.objects.bulk_create(preferences, batch_size=1000)
        CareFlag.objects.bulk_create(flags, batch_size=1000)

        plans: list[_ClaimPlan] = []
        by_debtor: list[tuple[Debtor, str, dict, list[_ClaimPlan]]] = []
        scene = self._scene(people)
        for number, (debtor, profile, extra) in enumerate(people):
            mine = self._claims(debtor, profile)
            if number in scene:
                mine.append(self._scene_claim(debtor, profile, *scene[number]))
            plans.extend(mine)
            by_debtor.append((debtor, profile, extra, mine))
        # Claim ids before the history: the experiment assigns variants by claim id (variant_for).
        for plan, pk in zip(plans, _allocate_ids(Claim._meta, len(plans)), strict=True):
            plan.claim.pk = pk
        history = _History(self)
        for debtor, profile, extra, mine in by_debtor:
            history.simulate(debtor, profile, extra, mine)
        _fast_insert([p.claim for p in plans])
        self.result.claims = len(plans)
        history.save(extra_pauses=pauses)

    def _scene(self, people) -> dict[int, tuple[str, bool]]:
        """Today, on any seed: which late payers get one more parking fine timed to make today busy.

        Roles, in turn: "sent" (the first reminder goes out this morning), "letter" (the aanmaning waits
        for this afternoon's print run) and "paid" (reminded a few days ago, paid this morning: the next
        step is cancelled). Two of the "sent" ones fail: an e-mail that hard-bounces (its fallback letter
        goes out tomorrow) and a text message to a number that is no longer reachable.
        """
        if not people:
            return {}
        # Private persons who stated no channel preference, so the policy's channels decide (a letter
        # for the aanmaning, e-mail or SMS for the first reminder).
        candidates = [
            number
            for number, (debtor, profile, extra) in enumerate(people)
            if profile in ("chronic", "other", "new") and (debtor.email or debtor.phone) and not extra.get("preference")
        ]
        count = min(len(candidates), max(SCENE_MIN, len(people) // SCENE_PER))
        chosen = self.rng.sample(candidates, count)
        # Who gets which first reminder: e-mail for other/new (friendly, e-mail first), SMS for the
        # chronically late (their first reminder goes by SMS first).
        by_email = [n for n in chosen if people[n][1] in ("other", "new") and people[n][0].email]
        by_sms = [n for n in chosen if people[n][1] == "chronic" and people[n][0].phone]
        failing = [pool[0] for pool in (by_email, by_sms) if pool]
        rest = [n for n in chosen if n not in failing]
        roles = {number: ("sent", True) for number in failing}
        cycle = ("letter", "paid", "sent")
        for i, number in enumerate(rest):
            roles[number] = (cycle[i % 3], False)
        return roles

    def _scene_claim(self, debtor, profile, role: str, fail: bool) -> _ClaimPlan:
        steps = [s.offset_days for s in self.steps[POLICY_ADMIN]]
        if role == "sent":
            due = self.today - timedelta(days=steps[0])  # first reminder today
        elif role == "letter":
            due = self.today - timedelta(days=steps[1])  # aanmaning today
        else:
            due = self.today - timedelta(days=steps[0] + self.rng.randint(2, 5))  # reminded days ago
        claim = self._parking_claim(debtor, due - timedelta(days=14))
        return _ClaimPlan(claim=claim, profile=profile, late=True, scene=role, fail_today=fail)

    def _parking_claim(self, debtor, issued: date) -> Claim:
        street = self.rng.choice(STREETS_CENTRE)
        return self._claim(
            debtor,
            ClaimKind.PARKING,
            PARKING,
            issued,
            issued + timedelta(days=14),
            f"Naheffing parkeren {issued:%d-%m-%Y}, {street}",
        )

    def _debtor(self, n: int) -> tuple[Debtor, str, dict]:
        rng, fake = self.rng, self.fake
        is_org = rng.random() < 0.10
        language = "en" if rng.random() < (0.05 if is_org else 0.07) else "nl"
        if is_org:
            profile = "business"
        else:
            r = rng.random()
            profile = (
                "help"
                if r < 0.04
                else "on_time"
                if r < 0.50
                else "sometimes"
                if r < 0.72
                else "chronic"
                if r < 0.83
                else "new"
                if r < 0.88
                else "other"
            )
        debtor = _build(Debtor, kind=Debtor.Kind.ORGANISATION if is_org else Debtor.Kind.PERSON, language=language)
        debtor.source_reference = f"{DEMO_PREFIX}{n:07d}"
        if is_org:
            debtor.surname = fake.company()
            slug = _ascii_slug(debtor.surname)[:24] or "bedrijf"
        else:
            name_source = self.fake_en if language == "en" else fake
            debtor.given_name = name_source.first_name()
            last = name_source.last_name()
            prefix, surname = _split_prefix(last) if language == "nl" else ("", last)
            debtor.surname_prefix, debtor.surname = prefix, surname
            slug = _ascii_slug(f"{debtor.given_name}.{prefix}{surname}")
        in_town = rng.random() < 0.85
        debtor.street = rng.choice(STREETS_CENTRE) if is_org and rng.random() < 0.3 else fake.street_name()
        debtor.house_number = str(rng.randint(1, 220)) + (rng.choice(["", "", "", "A", "B", "-1", "-2"]))
        if in_town:
            debtor.postal_code = (
                f"{rng.randint(1000, 1099)} {rng.choice('ABCDEGHJKLMNPRSTVWXZ')}{rng.choice('ABCDEGHJKLMNPRSTVWXZ')}"
            )
            debtor.city = self.city
        else:
            code = fake.postcode()
            debtor.postal_code = f"{code[:4]} {code[-2:].upper()}"
            debtor.city = fake.city()
        # Reserved example domains only: the demo must never e-mail a real person.
        domain = rng.choice(("example.nl", "example.com", "example.org", "example.net"))
        has_email = rng.random() < (0.95 if is_org else 0.78)
        if has_email:
            if is_org:
                debtor.email = f"info@{slug}.{domain}"
            else:
                suffix = str(rng.randint(1, 99)) if rng.random() < 0.4 else ""
                debtor.email = f"{slug}{suffix}@{domain}"
        has_phone = rng.random() < (0.4 if is_org else 0.7)
        if has_phone:
            debtor.phone = f"+316{rng.randint(10_000_000, 59_999_999)}"
        debtor.created_at = _at(self.window_start - timedelta(days=rng.randint(0, 2000)), 9)
        if profile == "new":
            debtor.created_at = _at(self.today - timedelta(days=rng.randint(20, 60)), 9)

        extra: dict = {}
        if rng.random() < 0.25:
            options = [[S], [E], [L], [E, S], [S, E], [L, E]]
            preferred = rng.choice(options)
            preferred = [c for c in preferred if (c != E or debtor.email) and (c != S or debtor.phone)] or [L]
            extra["preference"] = {
                "preferred_channels": preferred,
                "email_opt_out": rng.random() < 0.04,
                "sms_opt_out": rng.random() < 0.06,
                "stated_by": ChannelPreference.StatedBy.CLERK
                if rng.random() < 0.3
                else ChannelPreference.StatedBy.DEBTOR,
                "stated_at": _at(self.today - timedelta(days=rng.randint(10, 600)), 11),
            }
        flags = []
        if profile == "help":
            source = CareFlag.Source.DEBT_ASSISTANCE if rng.random() < 0.35 else CareFlag.Source.SELF_DECLARED
            starts = self.today - timedelta(days=rng.randint(30, 500))
            flags.append(
                {
                    "source": source,
                    "reason": rng.choice(CareFlag.Reason.values),
                    "starts_on": starts,
                    "created_at": _at(starts, 14),
                }
            )
            if source == CareFlag.Source.DEBT_ASSISTANCE:
                extra["debtor_pause_from"] = starts
        elif not is_org and rng.random() < 0.01:
            # An ended flag: help was needed once, not any more (the engine must ignore it).
            starts = self.today - timedelta(days=rng.randint(400, 700))
            flags.append(
                {
                    "source": CareFlag.Source.SELF_DECLARED,
                    "reason": CareFlag.Reason.LIFE_EVENT,
                    "starts_on": starts,
                    "ends_on": starts + timedelta(days=rng.randint(60, 300)),
                    "created_at": _at(starts, 14),
                }
            )
        extra["flags"] = flags
        extra["email_dead"] = bool(debtor.email) and rng.random() < EMAIL_BOUNCE_SHARE
        return debtor, profile, extra

    # -- claims --------------------------------------------------------------------------------------

    def _claim(self, debtor, kind, principal, issued, due, description) -> Claim:
        self.claim_counter += 1
        n = self.claim_counter
        regime = REGIME_BY_KIND[kind]
        return _build(
            Claim,
            debtor=debtor,
            source_reference=f"{DEMO_PREFIX}C{n:08d}",
            payment_reference=payment_reference_make(REFERENCE_BASE + n),
            kind=kind,
            regime=regime,
            description=description,
            principal=principal,
            open_amount=principal,
            issued_on=issued,
            due_on=due,
            policy=self.policies[POLICY_BY_REGIME[regime]],
            created_at=_at(issued, 6),
        )

    def _claims(self, debtor: Debtor, profile: str) -> list[_ClaimPlan]:
        rng, today = self.rng, self.today
        claims: list[Claim] = []
        year = self.round.year
        is_org = debtor.kind == Debtor.Kind.ORGANISATION

        def tax(kind, amount, label, issued=None):
            issued = issued or self.round
            claims.append(self._claim(debtor, kind, amount, issued, issued + timedelta(days=61), label))

        def parking(issued):
            claims.append(self._parking_claim(debtor, issued))

        def rent(amount, label, quarters):
            for q_start in _quarter_starts(self.window_start, today + timedelta(days=20)):
                if rng.random() < quarters:
                    quarter = (q_start.month - 1) // 3 + 1
                    claims.append(
                        self._claim(
                            debtor,
                            ClaimKind.RENT,
                            amount,
                            q_start - timedelta(days=14),
                            q_start,
                            f"{label} {quarter}e kwartaal {q_start.year}",
                        )
                    )

        if profile == "new":
            moved_in = today - timedelta(days=rng.randint(15, 40))
            months = 12 - moved_in.month + 1
            tax(
                ClaimKind.WASTE,
                _money(WASTE_MULTI * months / 12),
                f"Afvalstoffenheffing {moved_in.year} (vanaf verhuizing)",
                moved_in,
            )
        elif is_org:
            woz = rng.lognormvariate(math.log(900_000), 0.8)
            tax(ClaimKind.OZB, _money(woz * 0.0042), f"OZB niet-woningen {year}")
            tax(ClaimKind.SEWAGE, _money(rng.choice([SEWAGE, SEWAGE * 2, SEWAGE * 4])), f"Rioolheffing {year}")
            if rng.random() < 0.3:
                rent(_money(rng.randint(150, 900) * 10), "Huur bedrijfsruimte", 1.0)
            if rng.random() < PARKING_SHARE_ORGANISATION:
                for _ in range(rng.choice([1, 1, 2, 3])):
                    parking(self.window_start + timedelta(days=rng.randint(0, WINDOW_DAYS - 1)))
        else:
            homeowner = rng.random() < 0.58
            if homeowner:
                woz = min(max(rng.gauss(390_000, 120_000), 160_000), 1_400_000)
                tax(ClaimKind.OZB, _money(Decimal(str(round(woz, -3))) * OZB_RATE_HOME), f"OZB woning {year}")
                tax(ClaimKind.SEWAGE, SEWAGE, f"Rioolheffing {year}")
            single = rng.random() < 0.38
            tax(ClaimKind.WASTE, WASTE_SINGLE if single else WASTE_MULTI, f"Afvalstoffenheffing {year}")
            if rng.random() < PARKING_SHARE_PERSON:
                for _ in range(rng.choice([1, 1, 2, 3])):
                    parking(self.window_start + timedelta(days=rng.randint(0, WINDOW_DAYS - 1)))
            if rng.random() < 0.04:
                rent(GARAGE_QUARTER, "Huur garagebox", 1.0)
            if rng.random() < 0.03:
                issued = self.round + timedelta(days=30)
                claims.append(
                    self._claim(
                        debtor,
                        ClaimKind.RENT,
                        ALLOTMENT_YEAR,
                        issued,
                        issued + timedelta(days=30),
                        f"Huur volkstuin {issued.year}",
                    )
                )
        if profile in ("sometimes", "chronic"):
            # The segment rules need at least three claims with a history of reminders.
            while sum(1 for c in claims if c.due_on <= today - timedelta(days=60)) < 3:
                parking(self.window_start + timedelta(days=rng.randint(0, WINDOW_DAYS - 90)))
        claims.sort(key=lambda c: (c.due_on, c.source_reference))
        return self._pattern(claims, profile)

    def _pattern(self, claims: list[Claim], profile: str) -> list[_ClaimPlan]:
        """Which past-due claims are paid late: forced per profile so each segment's rules hold."""
        rng, today = self.rng, self.today
        past_due = [c for c in claims if c.due_on < today]
        old = [c for c in past_due if c.due_on <= today - timedelta(days=60)]
        late: set[str] = set()
        if profile == "sometimes":
            n = len(past_due)
            k = n // 10 + 1
            if k < n // 2 and rng.random() < 0.3:
                k += 1
            late = {c.source_reference for c in rng.sample(old, min(k, len(old)))}
        elif profile == "chronic":
            on_time = 1 if len(old) >= 4 and rng.random() < 0.5 else 0
            keep = {c.source_reference for c in rng.sample(old, on_time)}
            late = {c.source_reference for c in past_due if c.source_reference not in keep}
        elif profile in ("help", "other", "new"):
            share = {"help": 0.6, "other": 0.5, "new": 0.4}[profile]
            late = {c.source_reference for c in past_due if rng.random() < share}
        elif profile == "business":
            late = {c.source_reference for c in past_due if rng.random() < 0.3}
        return [_ClaimPlan(claim=c, profile=profile, late=c.source_reference in late) for c in claims]


def _split_prefix(last_name: str) -> tuple[str, str]:
    """'van der Ploeg' -> ('van der', 'Ploeg'): Dutch prefixes are the leading lowercase words."""
    words = last_name.split()
    prefix = []
    while len(words) > 1 and words[0][:1].islower():
        prefix.append(words.pop(0))
    return " ".join(prefix), " ".join(words)


def _ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch == ".").strip(".")


def _quarter_starts(start: date, end: date) -> list[date]:
    days = []
    year, month = start.year, ((start.month - 1) // 3) * 3 + 1
    while True:
        day = date(year, month, 1)
        if day > end:
            return days
        if day >= start:
            days.append(day)
        month += 3
        if month > 12:
            year, month = year + 1, 1


class _History:
    """Simulates reminders, deliveries and payments for each claim up to noon of the seeding day."""

    def __init__(self, gen: _Generator):
        self.gen = gen
        self.rng = gen.rng
        self.messages: list[Message] = []
        self.events: list[tuple[Message, list[DeliveryEvent]]] = []
        self.payments: list[Payment] = []
        self.proposals: list[tuple[EscalationProposal, Message | None]] = []
        self.claim_costs: list[ClaimCost] = []
        self.claim_pauses: list[Pause] = []
        self.fallbacks: list[tuple[Message, Message]] = []  # (bounced, fallback)
        self.debtor_updates: list[Debtor] = []
        self.step_cache: dict[tuple[str, int], list[tuple[PolicyStep, int, str, list[str]]]] = {}
        self.tiebreak = itertools.count()
        self.approver = _approver()
        self.cost_cache: dict[tuple, Decimal] = {}
        self.rates: list[CostRate] | None = None
        self.terms_cache: dict[tuple, object] = {}
        self.render_from = gen.now - timedelta(days=RENDER_DAYS)
        self.rendered = 0

    # -- per debtor ----------------------------------------------------------------------------------

    def simulate(self, debtor: Debtor, profile: str, extra: dict, plans: list[_ClaimPlan]) -> None:
        rng, gen = self.rng, self.gen
        today, now = gen.today, gen.now
        segment = gen.segments[PROFILE_SEGMENT[profile]]
        care = profile == "help"
        pause_from = extra.get("debtor_pause_from")
        pause_at = _at(pause_from, 10) if pause_from else None
        preference = extra.get("preference") or {}
        state = {"email_dead": extra["email_dead"], "email_invalid_at": None}
        queue: list[tuple[datetime, int, int, int]] = []  # (day, plan index, step index, tiebreak)
        avoided: list[tuple[_ClaimPlan, Message]] = []
        for index, plan in enumerate(plans):
            claim = plan.claim
            if claim.due_on >= today:
                # Not due yet. Who pays on time often pays as soon as the bill arrives.
                if rng.random() < PAY_EARLY[profile]:
                    lead = rng.choice([0, 1, 2, 3, 5, 8, 12, 20])
                    day = max(claim.issued_on, claim.due_on - timedelta(days=lead))
                    if day <= today:
                        plan.paid_on = day
                continue
            if not plan.late:
                lead = rng.choice([0, 0, 1, 2, 3, 5, 8, 12, 20])
                plan.paid_on = max(claim.issued_on, claim.due_on - timedelta(days=lead))
                continue
            steps = self._steps(claim, segment)
            first_on = claim.due_on + timedelta(days=steps[0][1])
            if not plan.scene and rng.random() < PAY_BEFORE_FIRST_STEP[profile]:
                # Late, but paid before any reminder was needed.
                window = max(1, (first_on - claim.due_on).days - 1)
                day = claim.due_on + timedelta(days=rng.randint(1, window))
                if day <= today:
                    plan.paid_on = day
                    continue
            heapq.heappush(queue, (_at(first_on, 9), index, 0, next(self.tiebreak)))
            if not plan.scene and rng.random() < 0.01:
                # An objection (bezwaar) still being handled: reminders stop when it comes in.
                starts = claim.due_on + timedelta(days=rng.randint(4, 40))
                if starts < today:
                    plan.objection_at = _at(starts, 12)
                    self.claim_pauses.append(
                        Pause(
                            claim=claim,
                            reason=Pause.Reason.OBJECTION,
                            starts_at=plan.objection_at,
                            created_at=plan.objection_at,
                            note="Bezwaar ontvangen, in behandeling (demo).",
                        )
                    )

        def blocked(plan: _ClaimPlan, moment: datetime) -> bool:
            return bool((pause_at and moment >= pause_at) or (plan.objection_at and moment >= plan.objection_at))

        # Events of all the debtor's claims in time order, so a bounce changes later channels.
        while queue:
            when, index, step_index, _ = heapq.heappop(queue)
            plan = plans[index]
            claim = plan.claim
            steps = self._steps(claim, segment)
            step, _, tone, channels = steps[step_index]
            day = _sending_day(when.date())
            if day > today:
                continue  # after today: it has not happened
            if care:
                tone = Tone.EMPATHETIC
            if step.needs_approval:
                moment = _at(day, 7, rng.randint(0, 30))  # the morning planner run proposes it
                if blocked(plan, moment):
                    continue
                sent = self._escalation(claim, step, tone, segment, debtor, moment, care)
                if sent and rng.random() < 0.7:
                    pay_day = sent.date() + timedelta(days=rng.randint(3, 30))
                    if pay_day <= today:
                        plan.paid_on = pay_day
                continue
            is_trial = step.kind == StepKind.REMINDER and not care and not plan.scene and rng.random() < TRIAL_SHARE
            if is_trial:
                tone = rng.choice(Tone.values)
            channel = self._channel(debtor, preference, channels, state, _at(day, 8), trial=is_trial)
            moment = self._send_moment(day, channel)
            if blocked(plan, moment):
                continue
            variant = self._variant(claim, step, tone, channel, debtor.language, moment)
            message = self._message(claim, step, channel, tone, segment, debtor, moment, variant=variant)
            if moment >= now:
                self._pending(message)  # this afternoon's print run, or later today
                continue
            delivered = self._deliver(message, state, fail=plan.fail_today and day == today)
            if not delivered and channel == E:
                # Hard bounce: the same step again by letter in the next print run (fallback_for).
                fallback_at = self._send_moment(_sending_day(day + timedelta(days=1)), L)
                fallback = self._message(claim, step, L, tone, segment, debtor, fallback_at)
                self.fallbacks.append((message, fallback))
                if fallback_at >= now:
                    self._pending(fallback)  # goes out with tomorrow's print run
                    continue
                self._deliver(fallback, state)
                channel, moment, delivered = L, fallback_at, True
            has_next = step_index + 1 < len(steps)
            if has_next:
                next_at = _at(claim.due_on + timedelta(days=steps[step_index + 1][1]), 9)
            else:
                next_at = moment + timedelta(days=30)
            # Does this message make them pay before the next step?
            p = _response_probability(plan.profile, tone, channel, step.kind) if delivered else 0.05
            if variant is not None:
                p = min(0.95, p + self.gen.experiment_uplift[variant.pk])
            forced = plan.scene == "paid" and step_index == 0 and moment.date() < today
            if plan.scene in ("sent", "letter"):
                p = 0.0  # today's scene: they have not paid yet
            if forced or rng.random() < p:
                window = max(1, (next_at.date() - moment.date()).days - 1)
                delay = min(window, 1 + int(rng.expovariate(1 / CHANNEL_DELAY_MEAN[channel])))
                pay_day = today if forced else moment.date() + timedelta(days=delay)
                if pay_day <= today:
                    plan.paid_on = pay_day
                    if has_next:
                        # Stop on payment: the next step was never sent.
                        avoided.append((plan, self._avoided(plan, steps[step_index + 1], next_at, debtor, segment,
                                                            preference, state, care)))  # fmt: skip
                continue
            if has_next:
                heapq.heappush(queue, (next_at, index, step_index + 1, next(self.tiebreak)))

        for plan in plans:
            self._settle(plan, debtor, profile)
        for plan, message in avoided:
            settled = plan.claim.settled_at
            message.cancelled_at = settled
            message.created_at = min(message.scheduled_for - timedelta(hours=2), settled - timedelta(minutes=5))
        if state["email_invalid_at"]:
            debtor.email_invalid_since = state["email_invalid_at"]
            self.debtor_updates.append(debtor)

    def _steps(self, claim: Claim, segment: Segment) -> list[tuple[PolicyStep, int, str, list[str]]]:
        """The claim's policy steps with the segment's override applied, in time order."""
        key = (claim.policy.name, segment.pk)
        if key in self.step_cache:
            return self.step_cache[key]
        out = []
        for step in self.gen.steps[claim.policy.name]:
            override = self.gen.overrides.get((step.pk, segment.pk))
            offset, tone, channels = step.offset_days, step.default_tone, list(step.channels)
            if override:
                offset = override.offset_days if override.offset_days is not None else offset
                tone = override.tone or tone
                channels = list(override.channels) or channels
            out.append((step, offset, tone, channels))
        self.step_cache[key] = sorted(out, key=lambda s: (s[1], s[0].order))
        return self.step_cache[key]

    def _send_moment(self, day: date, channel: str) -> datetime:
        """When the dispatcher sent it: e-mail from 08:00, SMS from 09:00, letters in the 15:00 print run."""
        start, spread = {E: (8, 150), S: (9, 120), L: (PRINT_RUN_HOUR, 40)}[channel]
        return _at(day, start) + timedelta(minutes=self.rng.randint(0, spread))

    def _channel(self, debtor, preference, channels, state, when, *, trial) -> str:
        def reachable(channel):
            if channel == E:
                dead = state["email_invalid_at"] and state["email_invalid_at"] <= when
                return bool(debtor.email) and not dead and not preference.get("email_opt_out")
            if channel == S:
                return bool(debtor.phone) and not preference.get("sms_opt_out")
            return True

        usable = [c for c in channels if reachable(c)] or [L]
        if trial:
            return self.rng.choice(usable)
        for channel in preference.get("preferred_channels", []):
            if channel in usable:
                return channel
        return usable[0]

    def _variant(self, claim, step, tone, channel, language, moment) -> ExperimentVariant | None:
        """The running experiment's variant for this claim (campaigns.experiments.variant_for), if it applies."""
        gen = self.gen
        experiment = gen.experiment
        if experiment is None or experiment.status != Experiment.Status.RUNNING or len(gen.experiment_variants) < 2:
            return None
        if step.pk != experiment.step_id or moment < experiment.started_at:
            return None
        first = gen.experiment_variants[0].template
        if (step.kind, tone, channel, language) != (first.step_kind, first.tone, first.channel, first.language):
            return None
        return variant_for(experiment, claim.pk, gen.experiment_variants)

    def _message(self, claim, step, channel, tone, segment, debtor, when, *, variant=None) -> Message:
        template = variant.template if variant else self.gen.templates.get((step.kind, tone, channel, debtor.language))
        recipient = {E: debtor.email, S: debtor.phone}.get(
            channel, f"{debtor.street} {debtor.house_number}, {debtor.postal_code} {debtor.city}"
        )
        message = _build(
            Message,
            claim=claim,
            step=step,
            channel=channel,
            tone=tone,
            language=debtor.language,
            template=template,
            template_version=template.version if template else None,
            segment=segment,
            segment_version=segment.version,
            experiment_variant=variant,
            scheduled_for=when,
            recipient=recipient,
            subject=_subject(template, claim),
            cost=self.gen.message_costs[channel],
            created_at=when - timedelta(hours=2),
            attempts=1,
        )
        self.messages.append(message)
        return message

    def _pending(self, message: Message) -> None:
        """Planned, not sent yet: the dispatcher records the cost when it sends."""
        message.status = Message.Status.PLANNED
        message.attempts = 0
        message.cost = ZERO_COST

    def _avoided(self, plan, next_step, next_at, debtor, segment, preference, state, care) -> Message:
        """The step a payment stopped: cancelled ("paid") when the claim was settled (set after _settle)."""
        step, _, tone, channels = next_step
        if care:
            tone = Tone.EMPATHETIC
        day = _sending_day(next_at.date())
        if step.needs_approval:
            channel, moment = L, _at(day, 7)
        else:
            channel = self._channel(debtor, preference, channels, state, _at(day, 8), trial=False)
            moment = self._send_moment(day, channel)
        message = self._message(plan.claim, step, channel, tone, segment, debtor, moment)
        message.status = Message.Status.CANCELLED
        message.cancel_reason = "paid"
        message.attempts = 0
        message.cost = ZERO_COST
        if step.needs_approval:
            # What the payment service does to a pending proposal; kept so the timeline tells it.
            proposal = _build(
                EscalationProposal,
                claim=plan.claim,
                step=step,
                action=step.kind,
                status=EscalationProposal.Status.WITHDRAWN,
                created_at=moment,
                decision_reason="Vordering betaald voordat de stap aan de beurt was (demo).",
            )
            self.proposals.append((proposal, message))
        return message

    def _deliver(self, message: Message, state: dict, *, fail: bool = False) -> bool:
        """Status, timestamps and provider events for a sent message; False when it did not arrive."""
        rng = self.rng
        sent = message.scheduled_for + timedelta(minutes=rng.randint(1, 25))
        message.sent_at = sent
        message.provider_id = f"demo-{message.channel}-{len(self.messages):08d}"
        events = [_build(DeliveryEvent, kind=DeliveryEvent.Kind.SENT, occurred_at=sent)]
        ok = True
        if message.channel == L:
            message.status = Message.Status.SENT
        elif message.channel == E and (state["email_dead"] or fail):
            message.status = Message.Status.BOUNCED
            message.bounced_at = sent + timedelta(minutes=2)
            message.last_error = "550 5.1.1 mailbox unavailable (demo)"
            events.append(
                _build(
                    DeliveryEvent,
                    kind=DeliveryEvent.Kind.BOUNCED,
                    occurred_at=message.bounced_at,
                    is_hard_bounce=True,
                    description="550 5.1.1 mailbox unavailable",
                )
            )
            state["email_invalid_at"] = state["email_invalid_at"] or message.bounced_at
            ok = False
        elif message.channel == S and (fail or rng.random() < SMS_FAILURE):
            message.status = Message.Status.FAILED
            message.last_error = "Number not reachable (demo)"
            events.append(
                _build(DeliveryEvent, kind=DeliveryEvent.Kind.FAILED, occurred_at=sent + timedelta(minutes=5))
            )
            ok = False
        else:
            message.status = Message.Status.DELIVERED
            message.delivered_at = sent + timedelta(seconds=rng.randint(5, 600))
            events.append(_build(DeliveryEvent, kind=DeliveryEvent.Kind.DELIVERED, occurred_at=message.delivered_at))
            if message.channel == E and rng.random() < EMAIL_OPEN:
                opened = message.delivered_at + timedelta(minutes=rng.randint(2, 2000))
                if opened < self.gen.now:
                    message.opened_at = opened
                    events.append(_build(DeliveryEvent, kind=DeliveryEvent.Kind.OPENED, occurred_at=opened))
                    if rng.random() < EMAIL_CLICK:
                        message.clicked_at = opened + timedelta(seconds=rng.randint(10, 300))
                        events.append(
                            _build(DeliveryEvent, kind=DeliveryEvent.Kind.CLICKED, occurred_at=message.clicked_at)
                        )
        for number, event in enumerate(events):
            event.provider_event_id = f"{message.provider_id}-{number}"
        self.events.append((message, events))
        return ok

    def _escalation(self, claim, step, tone, segment, debtor, when, care) -> datetime | None:
        """A needs-approval step: pending when recent; decided by a person when older.

        Returns when the approved escalation letter went out, or None when nothing was sent. An approved
        dwangbevel charges its costs (CostRate in force) on the claim, as the approval service does.
        """
        rng, now = self.rng, self.gen.now
        message = self._message(claim, step, L, tone, segment, debtor, when)
        cost_kind = legal.cost_kind_for_escalation(claim.regime)
        proposal = _build(
            EscalationProposal,
            claim=claim,
            step=step,
            action=step.kind,
            needs_second_approval=care,
            created_at=when,
            proposed_costs=self._escalation_costs(claim, cost_kind, when.date()),
        )
        self.proposals.append((proposal, message))
        message.cost = ZERO_COST
        # A team lead decides within about two weeks; what is not decided yet waits in the queue.
        decided = when + timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 6))
        if decided >= now or (when >= now - timedelta(days=30) and rng.random() < 0.4):
            message.status = Message.Status.AWAITING_APPROVAL
            message.attempts = 0
            return None
        proposal.first_decided_by = self.approver
        proposal.first_decided_at = decided
        if care:
            # People who need help get a payment plan offered instead of a writ.
            proposal.status = EscalationProposal.Status.REJECTED
            proposal.decision_reason = "Betalingsregeling aangeboden in plaats van dwanginvordering (demo)."
            message.status = Message.Status.CANCELLED
            message.cancel_reason = "rejected"
            message.cancelled_at = decided
            message.attempts = 0
            return None
        proposal.status = EscalationProposal.Status.APPROVED
        proposal.decision_reason = "Herinnering en aanmaning zonder reactie; termijn verstreken (demo)."
        costs = self._escalation_costs(claim, cost_kind, decided.date())
        if costs > 0:
            self.claim_costs.append(
                _build(
                    ClaimCost,
                    claim=claim,
                    kind=cost_kind,
                    amount=costs,
                    basis_amount=claim.open_amount,
                    proposal=proposal,
                    charged_at=decided,
                    charged_by=self.approver,
                )
            )
            claim.costs_amount += costs
        message.scheduled_for = self._send_moment(_sending_day(decided.date() + timedelta(days=1)), L)
        if message.scheduled_for >= now:
            self._pending(message)
            return None
        message.cost = self.gen.message_costs[L]
        self._deliver(message, {"email_dead": False, "email_invalid_at": None})
        return message.sent_at

    def _escalation_costs(self, claim: Claim, kind: str, day: date) -> Decimal:
        """What `dunning.legal.costs_for` charges (the CostRate in force for the amount), from rows read once."""
        if not kind or claim.open_amount <= 0:
            return Decimal("0.00")
        if self.rates is None:
            # cost_rate_for's order: the most recent start wins, then the highest band, then the newest row.
            self.rates = sorted(CostRate.objects.all(), key=lambda r: (r.valid_from, r.band_from, r.pk), reverse=True)
        key = (claim.regime, kind, day, claim.open_amount)
        if key not in self.cost_cache:
            rate = next(
                (
                    r
                    for r in self.rates
                    if r.regime == claim.regime and r.kind == kind and r.covers(on=day, amount=claim.open_amount)
                ),
                None,
            )
            self.cost_cache[key] = rate.amount if rate else Decimal("0.00")
        return self.cost_cache[key]

    def _paid_at(self, day: date) -> datetime:
        """Today's payments came in overnight or this morning (before the noon cut-off)."""
        if day >= self.gen.today:
            return _at(day, self.rng.randint(0, 9), self.rng.randint(0, 59))
        return _at(day, self.rng.randint(7, 22), self.rng.randint(0, 59))

    def _settle(self, plan: _ClaimPlan, debtor: Debtor, profile: str) -> None:
        rng, today = self.rng, self.gen.today
        claim = plan.claim
        if plan.paid_on is None:
            if claim.due_on < today and profile in ("chronic", "help") and rng.random() < 0.2:
                # A part paid, the rest still open.
                part = _money(claim.principal * Decimal(rng.choice(["0.25", "0.5"])))
                day = claim.due_on + timedelta(days=rng.randint(1, max(1, (today - claim.due_on).days)))
                if part > 0 and day < today:
                    self._payment(claim, debtor, part, day, 1)
                    claim.open_amount = claim.principal - part
            return
        paid_at = self._paid_at(plan.paid_on)
        total = claim.principal + claim.costs_amount  # money goes to the principal first, then the costs
        if profile in ("help", "chronic") and rng.random() < 0.15 and claim.principal > 20:
            first = _money(claim.principal / 2)
            earlier = max(claim.issued_on, plan.paid_on - timedelta(days=rng.randint(7, 30)))
            self._payment(claim, debtor, first, earlier, 1)
            self._payment(claim, debtor, total - first, plan.paid_on, 2, paid_at=paid_at)
        else:
            self._payment(claim, debtor, total, plan.paid_on, 1, paid_at=paid_at)
        claim.open_amount = Decimal("0.00")
        claim.costs_amount = Decimal("0.00")
        claim.status = Claim.Status.PAID
        claim.settled_at = paid_at + timedelta(minutes=1)

    def _payment(self, claim, debtor, amount, day, number, *, paid_at=None) -> None:
        rng = self.rng
        paid_at = paid_at or self._paid_at(day)
        source = rng.choices([Payment.Source.MOLLIE, Payment.Source.CAMT053, Payment.Source.API], [45, 45, 10])[0]
        reference = payment_reference_format(claim.payment_reference)
        self.payments.append(
            _build(
                Payment,
                source=source,
                external_id=f"demo-{claim.source_reference}-{number}",
                amount=amount,
                paid_at=paid_at,
                reference_text=f"Betalingskenmerk {reference}" if source == Payment.Source.CAMT053 else reference,
                payer_name=debtor.display_name if source == Payment.Source.CAMT053 else "",
                claim=claim,
                match_status=Payment.MatchStatus.MATCHED,
                matched_at=paid_at + timedelta(minutes=rng.randint(1, 90)),
                received_at=paid_at + timedelta(minutes=rng.randint(1, 60)),
            )
        )

    # -- rendering -----------------------------------------------------------------------------------

    def _render_recent(self) -> None:
        """Bodies for what was sent in the last RENDER_DAYS days, with the engine's templates and the
        renderer's formatting helpers (dunning.channels.render); older history keeps its subject only."""
        for message in self.messages:
            # Like the dispatcher: a body exists once a message was sent (pending ones render when they go).
            if message.sent_at is None or message.scheduled_for < self.render_from:
                continue
            subject, body = self._render(message)
            message.subject, message.body = subject[:255], body
            if message.channel == S and message.sent_at is not None:
                message.cost = self.gen.cost(S, sms_length(body).parts)
            self.rendered += 1

    def _render(self, message: Message) -> tuple[str, str]:
        """What `dunning.channels.render.message_context` builds, with the amounts as they were when the
        message went out and the municipality's payment page as link (seeding never calls Mollie)."""
        claim, step, template = message.claim, message.step, message.template
        if template is None:
            return message.subject, ""
        debtor = claim.debtor
        language = message.language or "nl"
        sent_on = message.scheduled_for.date()
        key = (claim.regime, step.pk, sent_on, message.channel, claim.principal)
        terms = self.terms_cache.get(key)
        if terms is None:
            terms = legal.terms_for_message(claim=claim, step=step, sent_on=sent_on, channel=message.channel)
            self.terms_cache[key] = terms
        open_amount = claim.principal if claim.status == Claim.Status.PAID else claim.open_amount
        costs = claim.costs_amount if message.status in Message.PENDING_STATUSES else Decimal("0.00")
        money = renderer.money
        values = {
            "salutation": renderer.salutation(debtor),
            "debtor_name": debtor.display_name,
            "postal_address": renderer.postal_address(debtor),
            "claim_reference": renderer.grouped_reference(claim.payment_reference),
            "claim_description": claim.description or claim.get_kind_display(),
            "claim_kind": claim.get_kind_display(),
            "principal": money(claim.principal, language),
            "open_amount": money(open_amount, language),
            "costs_amount": money(costs, language),
            "total_due": money(open_amount + costs, language),
            "issued_date": renderer.day(claim.issued_on, language),
            "due_date": renderer.day(claim.due_on, language),
            "pay_before": renderer.day(terms.pay_before, language),
            "term_days": terms.term_days,
            "costs_if_unpaid": money(terms.costs_if_unpaid, language),
            "claims": [
                {
                    "reference": renderer.grouped_reference(claim.payment_reference),
                    "description": claim.description or claim.get_kind_display(),
                    "open_amount": money(open_amount, language),
                    "due_date": renderer.day(claim.due_on, language),
                }
            ],
            "payment_link": municipality_payment_page_for(claim=claim),
            "municipality_name": self.gen.municipality["name"],
            "municipality_phone": self.gen.municipality["phone"],
            "municipality_email": self.gen.municipality["email"],
            "municipality_address": self.gen.municipality["address"],
            "municipality_iban": self.gen.municipality["iban"],
            "debt_help_contact": self.gen.municipality["debt_help"],
        }
        context = context_from_allowlist(step_kind=step.kind, values=values)
        with translation.override(language):
            subject = render(template.subject, context) if template.subject else ""
            body = render(template.body, context)
        return subject, body

    # -- writing -------------------------------------------------------------------------------------

    def save(self, *, extra_pauses: list[Pause]) -> None:
        gen, rng = self.gen, self.rng
        # A few payments nobody could match (no usable reference): the clerks' matching queue.
        for n in range(max(1, gen.result.debtors // 500)):
            day = gen.today - timedelta(days=rng.randint(1, 60))
            self.payments.append(
                Payment(
                    source=Payment.Source.CAMT053,
                    external_id=f"demo-unmatched-{n + 1}",
                    amount=_money(rng.choice([79.40, 236.52, 318.00, 150.00, 25.00])),
                    paid_at=_at(day, 12),
                    reference_text=rng.choice(["belasting", "aanslag gemeente", "parkeerboete", "zie brief"]),
                    payer_name=gen.fake.name(),
                    match_status=Payment.MatchStatus.UNMATCHED,
                    received_at=_at(day, 13),
                )
            )
        self._render_recent()
        fallback_ids = {id(fallback) for _, fallback in self.fallbacks}
        _fast_insert([m for m in self.messages if id(m) not in fallback_ids])
        for bounced, fallback in self.fallbacks:
            fallback.fallback_for = bounced
        _fast_insert([f for _, f in self.fallbacks])
        events = []
        for message, message_events in self.events:
            for event in message_events:
                event.message = message
                events.append(event)
        _fast_insert(events)
        for proposal, message in self.proposals:
            proposal.message = message
        _fast_insert([p for p, _ in self.proposals])
        _fast_insert(self.claim_costs)
        _fast_insert(self.payments)
        Pause.objects.bulk_create(extra_pauses + self.claim_pauses, batch_size=1000)
        Debtor.objects.bulk_update(self.debtor_updates, ["email_invalid_since"], batch_size=1000)
        gen.result.messages = len(self.messages)
        gen.result.delivery_events = len(events)
        gen.result.payments = len(self.payments)
        gen.result.proposals = len(self.proposals)
        gen.result.pauses = len(extra_pauses) + len(self.claim_pauses)
        gen.result.rendered = self.rendered


def _approver():
    """Who decided the simulated past escalations: the demo team lead, or an inactive stand-in."""
    user_model = get_user_model()
    user = user_model.objects.filter(username="team-lead").first()
    if user is None:
        user, created = user_model.objects.get_or_create(
            username="demo-approver",
            defaults={"is_active": False, "first_name": "Demo", "last_name": "Teamleider (gesimuleerd)"},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    return user


def _subject(template: MessageTemplate | None, claim: Claim) -> str:
    """The subject as it was sent, filled in cheaply (history bodies are not rendered: see the docs)."""
    if template is None or not template.subject:
        return ""
    return (
        template.subject.replace("{{ claim_description }}", claim.description)
        .replace("{{ claim_reference }}", payment_reference_format(claim.payment_reference))
        .replace("{{ total_due }}", renderer.money(claim.principal, template.language))
    )[:255]


# ------------------------------------------------------------------------------------------ fast insert

_PROTOTYPES: dict[type, tuple[dict, dict]] = {}


def _build(model, **values):
    """`model(**values)` without Model.__init__'s per-field work (a third of the run for 100,000 rows).

    Defaults come from one prototype instance per model; a related object given by name is cached on
    the instance and its id set, just as the descriptor would.
    """
    if model not in _PROTOTYPES:
        proto = {k: v for k, v in model().__dict__.items() if k != "_state"}
        relations = {f.name: f.attname for f in model._meta.concrete_fields if f.is_relation}
        _PROTOTYPES[model] = (proto, relations)
    proto, relations = _PROTOTYPES[model]
    obj = model.__new__(model)
    obj._state = ModelState()
    data = obj.__dict__
    data.update(proto)
    cache = obj._state.fields_cache
    for name, value in values.items():
        if name in relations:
            data[relations[name]] = None if value is None else value.pk
            if value is not None:
                cache[name] = value
        else:
            data[name] = value
    return obj


def _fast_insert(objs: list) -> None:
    """bulk_create without the per-value ORM machinery, for the big generated tables.

    Ids are taken from the table's sequence first (PostgreSQL: nextval in one query; SQLite: after the
    highest id, safe inside the transaction as SQLite has one writer), set on the objects, and the rows
    go in with COPY (PostgreSQL) or executemany (SQLite): 10,000 debtors' history in seconds.
    Foreign keys are taken from the related objects saved before.
    """
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()

    def converter(field):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return lambda value: now
        if isinstance(field, _PLAIN_FIELDS):
            return None
        return lambda value: field.get_db_prep_save(value, connection)  # files, JSON, anything unusual

    converters = [converter(f) for f in fields]
    relations = [(f.attname, f.cache_name) for f in fields if f.is_relation]
    attnames = [f.attname for f in fields]
    preset = [obj.pk for obj in objs]
    ids = preset if all(pk is not None for pk in preset) else _allocate_ids(meta, len(objs))
    alias = connection.alias  # the proxy looks it up on every access
    rows = []
    for obj, pk in zip(objs, ids, strict=True):
        cache = obj._state.fields_cache
        for attname, cache_name in relations:
            related = cache.get(cache_name)
            if related is not None and getattr(obj, attname) is None:
                setattr(obj, attname, related.pk)
        row = [pk]
        for attname, convert in zip(attnames, converters, strict=True):
            value = getattr(obj, attname)
            row.append(convert(value) if convert else value)
        rows.append(row)
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in [meta.pk.column, *(f.column for f in fields)])
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            utc = ZoneInfo("UTC")
            for row in rows:
                for index, value in enumerate(row):
                    if isinstance(value, datetime):
                        # What Django's SQLite backend stores: naive UTC text.
                        row[index] = str(value.astimezone(utc).replace(tzinfo=None))
            placeholders = ", ".join(["%s"] * (len(fields) + 1))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608


def _allocate_ids(meta, count: int) -> list[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        pk = connection.ops.quote_name(meta.pk.column)
        cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {connection.ops.quote_name(meta.db_table)}")  # noqa: S608
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DateField,
    models.DecimalField,
    models.ForeignKey,
)
