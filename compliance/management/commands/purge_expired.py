import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from compliance.purge import purge


def parse_now(value: str | None):
    if not value:
        return timezone.now()
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(f"--now: not an ISO 8601 date-time: {value!r}")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Apply the retention rules once (what the daily 'purge' schedule does); prints counts per rule."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument("--now", help="Apply the rules as of this moment (ISO 8601), e.g. 2027-01-01T03:00")
        parser.add_argument("--json", action="store_true", help="Print the run's counts as one JSON object.")

    def handle(self, *args, **options):
        run = purge(now=parse_now(options["now"]), dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps({"purge_run": run.pk, "dry_run": run.dry_run, "counts": run.counts}))
            return
        verb = "would purge" if run.dry_run else "purged"
        mode = "dry run" if run.dry_run else "applied"
        self.stdout.write(f"Purge run #{run.pk} as of {run.now.isoformat()} ({mode})")
        for category, entry in run.counts.items():
            line = f"  {category:<18} {verb} {entry.get('affected', 0):>9}  kept (hold) {entry.get('held', 0):>7}"
            if entry.get("error"):
                line += f"  ERROR {entry['error']}"
            self.stdout.write(line)
        self.stdout.write(f"Status: {run.status}")
        if run.status == run.Status.FAILED:
            raise CommandError("one or more rules failed; see the purge run")
