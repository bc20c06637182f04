"""`seed_demo`: the demo municipality (synthetic debtors, claims, a simulated year of history)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from dunning.services.demo import DEMO_PASSWORD, DemoDataExists, demo_seed


class Command(BaseCommand):
    help = (
        "Create a synthetic Dutch municipality: debtors, claims, simulated payment and reminder history, "
        "segments, three dunning policies and message templates in Dutch and English."
    )

    def add_arguments(self, parser):
        parser.add_argument("--debtors", type=int, default=1000, help="How many debtors (default 1000).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed: the same seed gives the same data.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the database already has debtors.")
        parser.add_argument(
            "--today", type=date.fromisoformat, default=None, help="Pretend today is this date (YYYY-MM-DD)."
        )

    def handle(self, *args, debtors: int, seed: int, if_empty: bool, today: date | None, **options):
        if debtors < 0:
            raise CommandError("--debtors must be 0 or more")
        try:
            result = demo_seed(debtors=debtors, seed=seed, today=today, if_empty=if_empty)
        except DemoDataExists as error:
            raise CommandError(str(error))
        if result.skipped:
            self.stdout.write("Debtors already exist: demo data not loaded (--if-empty).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo municipality ready in {result.seconds:.1f}s: {result.debtors} debtors, {result.claims} "
                f"claims, {result.messages} messages ({result.delivery_events} delivery events), "
                f"{result.payments} payments, {result.proposals} escalation proposals, {result.pauses} pauses, "
                f"{result.templates} templates."
            )
        )
        self.stdout.write("History is simulated (see docs/demo-data.md).")
        if result.users:
            self.stdout.write(f"Demo logins: {', '.join(result.users)} / password '{DEMO_PASSWORD}'")
