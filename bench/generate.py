"""A municipality at scale, fast: debtors, open claims, this season's reminders, two years of payment history.

`python -m bench.generate` (BENCH_SCALE=small|medium|full) fills the bench database (see bench/common.py).
Rows are written with PostgreSQL COPY (psycopg 3 `cursor.copy`) or, on SQLite, executemany in large
batches; ids are assigned here, sequences are moved past them afterwards. Deterministic for a seed.

The shape (per debtor, on average): 2 open claims; 1 paid claim 13-23 months old with its payment, and for
late payers the reminder that was sent and its delivery event. Open claims fall due between 37 days ago
and 45 days ahead (the tax round); for overdue ones the steps whose day has passed were already sent, except
for a backlog (5%) imported late, so a plan run finds a realistic day's work: the claims whose next step
falls due today plus that backlog. The paid history feeds the segment attributes and is what the purge
finds expired (message content and delivery events after 6 months, payer details after 12).
Policies, segments and templates are the demo municipality's (dunning.services.demo).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from bench import common

OPEN_BASE = 770_000_000_000_000  # payment-reference numbers of open claims (far from demo/imports)
HISTORY_BASE = 760_000_000_000_000
CHUNK = 50_000
SQLITE_BATCH = 2_000


@dataclass
class Counts:
    debtors: int = 0
    preferences: int = 0
    care_flags: int = 0
    open_claims: int = 0
    history_claims: int = 0
    payments: int = 0
    messages: int = 0
    events: int = 0
    pauses: int = 0


_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in COPY's text format (PostgreSQL parses dates, times, decimals and JSON from text)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPE)
    return str(value)


class _References:
    """payment_reference_make(base + n) for many n, fast: the weighted sum split into cached parts."""

    def __init__(self, base: int):
        from dunning.references import WEIGHTS

        self.base = base
        weight = [WEIGHTS[i % len(WEIGHTS)] for i in range(15)]

        def table(offset: int) -> list[int]:
            return [sum(int(d) * weight[offset + i] for i, d in enumerate(reversed(f"{k:04d}"))) for k in range(10_000)]

        self.low, self.mid = table(0), table(4)
        self.high: dict[int, int] = {}
        self.weight = weight

    def make(self, n: int) -> str:
        number = self.base + n
        top = number // 10**8
        if top not in self.high:
            self.high[top] = sum(int(d) * self.weight[8 + i] for i, d in enumerate(reversed(f"{top:07d}")))
        total = self.low[number % 10_000] + self.mid[(number // 10_000) % 10_000] + self.high[top]
        check = 11 - (total % 11)
        return {10: "1", 11: "0"}.get(check, str(check)) + f"{number:015d}"


class TableWriter:
    """Rows for one model's table: the given columns per row, every other column its field default."""

    def __init__(self, connection, model, columns: list[str]):
        from django.db import models as dj

        self.connection = connection
        self.vendor = connection.vendor
        self.table = model._meta.db_table
        self.columns = list(columns)
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ValueError(f"{self.table}: unknown columns {unknown}")
        self.extra_columns, self.extra_values = [], []
        for column, field in fields.items():
            if column in columns or (field.primary_key and isinstance(field, dj.AutoField)):
                continue
            if isinstance(field, dj.DateTimeField) and (field.auto_now or field.auto_now_add):
                value = datetime.now().astimezone()
            elif field.has_default():
                value = field.get_default()
                if isinstance(field, dj.JSONField):
                    value = json.dumps(value)
            elif field.null:
                value = None
            elif field.empty_strings_allowed and field.get_default() == "":
                value = ""
            else:
                raise ValueError(f"{self.table}.{column} needs a value")
            self.extra_columns.append(column)
            self.extra_values.append(self._adapt(value))
        self.all_columns = self.columns + self.extra_columns
        self.extra = tuple(self.extra_values)

    def _adapt(self, value):
        if self.vendor != "sqlite":
            return value
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            from datetime import UTC

            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def write(self, rows) -> int:
        n = 0
        cols = ", ".join(f'"{c}"' for c in self.all_columns)
        extra = self.extra
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
                tail = ("\t" + "\t".join(map(_copy_text, extra))) if extra else ""
                with raw.copy(f'COPY "{self.table}" ({cols}) FROM STDIN') as copy:
                    lines = []
                    for row in rows:
                        lines.append("\t".join(map(_copy_text, row)) + tail)
                        if len(lines) >= 5000:
                            copy.write("\n".join(lines) + "\n")
                            n += len(lines)
                            lines = []
                    if lines:
                        copy.write("\n".join(lines) + "\n")
                        n += len(lines)
            else:
                marks = ", ".join("%s" for _ in self.all_columns)
                sql = f'INSERT INTO "{self.table}" ({cols}) VALUES ({marks})'
                batch = []
                for row in rows:
                    batch.append(tuple(self._adapt(v) for v in row) + extra)
                    if len(batch) >= SQLITE_BATCH:
                        cursor.executemany(sql, batch)
                        n += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    n += len(batch)
        return n


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _sequences_reset(models) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


class Generator:
    def __init__(self, *, debtors: int, claims: int, anchor: date, seed: int = 7):
        self.n_debtors = debtors
        self.n_claims = claims
        self.anchor = anchor
        self.rng = random.Random(seed)
        self.counts = Counts()

    # -- reference data -------------------------------------------------------------------------------
    def reference_data(self) -> None:
        from auditlog.context import disable_auditlog
        from django.db import transaction

        from compliance.roles import roles_setup
        from dunning.models import ChannelCost
        from dunning.services.demo import policies_ensure, segments_ensure, templates_ensure

        with transaction.atomic(), disable_auditlog():
            roles_setup()
            self.segments = segments_ensure()
            self.policies = policies_ensure(segments=self.segments)
            self.templates = templates_ensure()
            if not ChannelCost.objects.exists():
                for channel, price in (("email", "0.0010"), ("sms", "0.0750"), ("letter", "0.9500")):
                    ChannelCost.objects.create(
                        channel=channel, price_per_piece=Decimal(price), valid_from=date(2020, 1, 1)
                    )
        from campaigns.models import PolicyStep

        self.steps = {
            p.regime: list(PolicyStep.objects.filter(policy=p).order_by("order")) for p in self.policies.values()
        }

    def _pools(self) -> None:
        from faker import Faker

        fake = Faker("nl_NL")
        fake.seed_instance(11)
        self.given = sorted({fake.first_name() for _ in range(2000)})
        surnames = sorted({fake.last_name() for _ in range(3000)})
        self.surnames = []
        for name in surnames:
            prefix = ""
            for candidate in ("van der ", "van den ", "van de ", "van ", "de ", "ter ", "den "):
                if name.startswith(candidate):
                    prefix, name = candidate.strip(), name[len(candidate) :]
                    break
            self.surnames.append((prefix, name[:1].upper() + name[1:]))
        self.streets = sorted({fake.street_name() for _ in range(800)})
        self.cities = sorted({fake.city() for _ in range(150)})
        self.companies = sorted({fake.company() for _ in range(1500)})

    # -- rows -----------------------------------------------------------------------------------------
    def run(self) -> Counts:
        from django.db import connection, transaction

        from customers.models import CareFlag, ChannelPreference, Debtor
        from dunning.models import Claim, DeliveryEvent, Message, Pause, Payment

        self.reference_data()
        self._pools()
        rng = self.rng
        anchor = self.anchor
        tz = self._tz()
        stamp = datetime.combine(anchor - timedelta(days=400), datetime.min.time(), tz)

        debtor_id0 = _next_id(Debtor)
        claim_id = _next_id(Claim)
        payment_id = _next_id(Payment)
        message_id = _next_id(Message)
        event_id = _next_id(DeliveryEvent)

        # Profiles decide payment behaviour: (share on time in the history, has history).
        profiles = ["on_time"] * 45 + ["sometimes"] * 30 + ["chronic"] * 15 + ["new"] * 10
        late_share = {"on_time": 0.03, "sometimes": 0.3, "chronic": 0.75, "new": 0.0}
        debtors = []  # (id, kind, language, has_email, profile)
        debtor_rows = []
        pref_rows = []
        care_rows = []
        for i in range(self.n_debtors):
            did = debtor_id0 + i
            organisation = rng.random() < 0.05
            language = "en" if rng.random() < 0.08 else "nl"
            has_email = rng.random() < 0.85
            has_phone = rng.random() < 0.7
            if organisation:
                given, prefix, surname = "", "", rng.choice(self.companies)
            else:
                given = rng.choice(self.given)
                prefix, surname = rng.choice(self.surnames)
            email = f"d{did}@voorbeeld.example" if has_email else ""
            phone = f"+316{did % 100_000_000:08d}" if has_phone else ""
            debtor_rows.append(
                (
                    did,
                    "organisation" if organisation else "person",
                    f"BENCH-D{did:08d}",
                    given,
                    prefix,
                    surname,
                    rng.choice(self.streets),
                    str(rng.randint(1, 250)),
                    f"{rng.randint(1000, 9999)} {chr(65 + rng.randint(0, 25))}{chr(65 + rng.randint(0, 25))}",
                    rng.choice(self.cities),
                    email,
                    phone,
                    language,
                    stamp,
                    stamp,
                )
            )
            profile = rng.choice(profiles)
            debtors.append((did, organisation, language, has_email, profile))
            if rng.random() < 0.1:
                channels = rng.choice([["sms", "email"], ["email"], ["letter"], ["email", "letter"]])
                pref_rows.append((did, json.dumps(channels), stamp))
            if rng.random() < 0.03:
                care_rows.append((did, "self_declared", "financial_hardship", anchor - timedelta(days=90), stamp))

        with transaction.atomic():
            self.counts.debtors = TableWriter(
                connection,
                Debtor,
                [
                    "id",
                    "kind",
                    "source_reference",
                    "given_name",
                    "surname_prefix",
                    "surname",
                    "street",
                    "house_number",
                    "postal_code",
                    "city",
                    "email",
                    "phone",
                    "language",
                    "created_at",
                    "updated_at",
                ],
            ).write(iter(debtor_rows))
            del debtor_rows
            self.counts.preferences = TableWriter(
                connection, ChannelPreference, ["debtor_id", "preferred_channels", "stated_at"]
            ).write(iter(pref_rows))
            self.counts.care_flags = TableWriter(
                connection, CareFlag, ["debtor_id", "source", "reason", "starts_on", "created_at"]
            ).write(iter(care_rows))

        kinds = [("ozb", "tax")] * 30 + [("afvalstoffenheffing", "tax")] * 25 + [("rioolheffing", "tax")] * 15
        kinds += [("parking", "administrative")] * 15 + [("rent", "private")] * 15
        amounts = {
            "ozb": (180, 1400),
            "afvalstoffenheffing": (318, 414),
            "rioolheffing": (236, 237),
            "parking": (79, 80),
            "rent": (300, 950),
        }
        policy_by_regime = {p.regime: p.pk for p in self.policies.values()}
        claim_cols = [
            "id",
            "debtor_id",
            "source_reference",
            "payment_reference",
            "kind",
            "regime",
            "description",
            "principal",
            "open_amount",
            "issued_on",
            "due_on",
            "status",
            "policy_id",
            "settled_at",
            "created_at",
            "updated_at",
        ]
        message_cols = [
            "id",
            "claim_id",
            "step_id",
            "channel",
            "tone",
            "language",
            "template_id",
            "template_version",
            "segment_id",
            "segment_version",
            "scheduled_for",
            "status",
            "attempts",
            "provider_id",
            "cost",
            "recipient",
            "subject",
            "body",
            "created_at",
            "sent_at",
            "delivered_at",
        ]
        payment_cols = [
            "id",
            "source",
            "external_id",
            "amount",
            "paid_at",
            "reference_text",
            "payer_name",
            "payer_account",
            "claim_id",
            "match_status",
            "matched_at",
            "received_at",
        ]
        event_cols = ["id", "message_id", "kind", "occurred_at", "provider_event_id"]
        open_refs, history_refs = _References(OPEN_BASE), _References(HISTORY_BASE)

        segment_other = self.segments.get("Overig")
        seg_id = segment_other.pk if segment_other else None

        def template_for(kind, tone, channel, language):
            t = self.templates.get((kind, tone, channel, language)) or self.templates.get((kind, tone, channel, "nl"))
            return (t.pk, t.version) if t else (None, None)

        def at(day: date, hour: int) -> datetime:
            return datetime.combine(day, datetime.min.time(), tz).replace(hour=hour)

        # Open claims (with this season's sent reminders) and the paid history, debtor by debtor, in chunks.
        open_ref = history_ref = 0
        pending_open = self.n_claims
        pending_debtors = len(debtors)
        pause_rows = []
        chunk_claims, chunk_messages, chunk_payments, chunk_events = [], [], [], []

        def flush():
            nonlocal chunk_claims, chunk_messages, chunk_payments, chunk_events
            with transaction.atomic():
                self.counts.history_claims += 0
                TableWriter(connection, Claim, claim_cols).write(iter(chunk_claims))
                TableWriter(connection, Payment, payment_cols).write(iter(chunk_payments))
                TableWriter(connection, Message, message_cols).write(iter(chunk_messages))
                TableWriter(connection, DeliveryEvent, event_cols).write(iter(chunk_events))
            self.counts.payments += len(chunk_payments)
            self.counts.messages += len(chunk_messages)
            self.counts.events += len(chunk_events)
            chunk_claims, chunk_messages, chunk_payments, chunk_events = [], [], [], []

        for did, _organisation, language, has_email, profile in debtors:
            # Spread the remaining open claims evenly over the remaining debtors (1-3 each, about 2).
            mean = pending_open / pending_debtors
            n_open = min(pending_open, max(1, int(mean + rng.random() * 2 - 0.5))) if pending_open else 0
            if pending_debtors == 1:
                n_open = pending_open
            pending_debtors -= 1
            pending_open -= n_open
            channel = "email" if has_email else "letter"
            for _ in range(n_open):
                kind, regime = rng.choice(kinds)
                low, high = amounts[kind]
                principal = Decimal(rng.randint(low * 100, high * 100)) / 100
                due_on = anchor + timedelta(days=rng.randint(-37, 45))
                issued_on = due_on - timedelta(days=30)
                open_ref += 1
                cid = claim_id
                claim_id += 1
                chunk_claims.append(
                    (
                        cid,
                        did,
                        f"BENCH-C{cid:09d}",
                        open_refs.make(open_ref),
                        kind,
                        regime,
                        f"Aanslag {kind} {issued_on.year}",
                        principal,
                        principal,
                        issued_on,
                        due_on,
                        "open",
                        policy_by_regime[regime],
                        None,
                        at(issued_on, 6),
                        at(issued_on, 6),
                    )
                )
                self.counts.open_claims += 1
                overdue = (anchor - due_on).days
                if overdue > 0 and rng.random() < 0.05:
                    continue  # the backlog: imported late, nothing sent yet
                if rng.random() < 0.002:
                    pause_rows.append((cid, None, "objection", at(anchor - timedelta(days=2), 9), None, stamp))
                for step in self.steps[regime]:
                    sent_day = due_on + timedelta(days=step.offset_days)
                    if sent_day >= anchor or step.needs_approval:
                        break
                    step_channel = channel if channel in step.channels else step.channels[0]
                    t_id, t_version = template_for(step.kind, step.default_tone, step_channel, language)
                    moment = at(sent_day, 10)
                    chunk_messages.append(
                        (
                            message_id,
                            cid,
                            step.pk,
                            step_channel,
                            step.default_tone,
                            language,
                            t_id,
                            t_version,
                            seg_id,
                            1,
                            moment,
                            "sent",
                            1,
                            f"bench-{message_id}",
                            Decimal("0.00") if step_channel == "email" else Decimal("0.95"),
                            f"d{did}@voorbeeld.example" if step_channel == "email" else "per post",
                            f"Herinnering aanslag {kind}",
                            f"Beste inwoner, wij hebben uw betaling van € {principal} nog niet ontvangen.",
                            moment,
                            moment,
                            None,
                        )
                    )
                    message_id += 1
            if profile != "new":
                for _ in range(rng.choice((0, 1, 1, 1, 2))):
                    kind, regime = rng.choice(kinds)
                    low, high = amounts[kind]
                    principal = Decimal(rng.randint(low * 100, high * 100)) / 100
                    due_on = anchor - timedelta(days=rng.randint(400, 700))
                    issued_on = due_on - timedelta(days=30)
                    late = rng.random() < late_share[profile]
                    paid_on = (
                        due_on + timedelta(days=rng.randint(5, 40))
                        if late
                        else due_on - timedelta(days=rng.randint(0, 20))
                    )
                    history_ref += 1
                    cid = claim_id
                    claim_id += 1
                    settled = at(paid_on, 15)
                    chunk_claims.append(
                        (
                            cid,
                            did,
                            f"BENCH-C{cid:09d}",
                            history_refs.make(history_ref),
                            kind,
                            regime,
                            f"Aanslag {kind} {issued_on.year}",
                            principal,
                            Decimal("0.00"),
                            issued_on,
                            due_on,
                            "paid",
                            policy_by_regime[regime],
                            settled,
                            at(issued_on, 6),
                            settled,
                        )
                    )
                    self.counts.history_claims += 1
                    chunk_payments.append(
                        (
                            payment_id,
                            "camt053",
                            f"BENCH-P{payment_id:09d}",
                            principal,
                            settled,
                            history_refs.make(history_ref),
                            "J. Inwoner",
                            f"NL{rng.randint(10, 99)}INGB{rng.randint(10**9, 10**10 - 1)}",
                            cid,
                            "matched",
                            settled,
                            settled,
                        )
                    )
                    payment_id += 1
                    if late:
                        step = self.steps[regime][0]
                        sent_day = due_on + timedelta(days=step.offset_days)
                        step_channel = channel if channel in step.channels else step.channels[0]
                        t_id, t_version = template_for(step.kind, step.default_tone, step_channel, language)
                        moment = at(sent_day, 10)
                        chunk_messages.append(
                            (
                                message_id,
                                cid,
                                step.pk,
                                step_channel,
                                step.default_tone,
                                language,
                                t_id,
                                t_version,
                                seg_id,
                                1,
                                moment,
                                "delivered",
                                1,
                                f"bench-{message_id}",
                                Decimal("0.00"),
                                f"d{did}@voorbeeld.example" if step_channel == "email" else "per post",
                                f"Herinnering aanslag {kind}",
                                f"Beste inwoner, wij hebben uw betaling van € {principal} nog niet ontvangen.",
                                moment,
                                moment,
                                moment + timedelta(minutes=2),
                            )
                        )
                        chunk_events.append(
                            (event_id, message_id, "delivered", moment + timedelta(minutes=2), f"ev-{event_id}")
                        )
                        event_id += 1
                        message_id += 1
            if len(chunk_claims) >= CHUNK:
                flush()
        flush()
        with transaction.atomic():
            self.counts.pauses = TableWriter(
                connection, Pause, ["claim_id", "debtor_id", "reason", "starts_at", "ends_at", "created_at"]
            ).write(iter(pause_rows))
        _sequences_reset([Debtor, ChannelPreference, CareFlag, Claim, Payment, Message, DeliveryEvent, Pause])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return self.counts

    @staticmethod
    def _tz():
        from zoneinfo import ZoneInfo

        from django.conf import settings

        return ZoneInfo(settings.TIME_ZONE)


def generate(*, scale: str, drop: bool = True) -> dict:
    """(Re)create the bench database at `scale` and fill it; returns figures (also printed as one line)."""
    from datetime import date as _date

    url = common.bench_url()
    common.configure_environment(url)
    common.database_create(url, drop=drop)
    common.django_setup(url)
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    anchor = common.sending_day_from(_date.today())
    common.guard_and_mark(scale=scale, anchor=anchor)
    sizes = common.SCALES[scale]
    began = time.perf_counter()
    counts = Generator(debtors=sizes["debtors"], claims=sizes["claims"], anchor=anchor).run()
    seconds = time.perf_counter() - began
    common.meta_set("generated", "yes")
    rows = sum(counts.__dict__.values())
    return common.emit(
        "generate",
        scale=scale,
        anchor=anchor.isoformat(),
        migrate_s=round(migrated, 1),
        seconds=round(seconds, 1),
        rows=rows,
        rows_per_s=round(rows / seconds) if seconds else None,
        **counts.__dict__,
        peak_rss_mb=common.rss_mb(),
        load=common.load_average(),
    )


if __name__ == "__main__":
    generate(scale=common.scale_name())
