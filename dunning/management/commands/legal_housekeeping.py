from django.core.management.base import BaseCommand

from dunning.management.commands._moment import add_now_argument, moment_from
from dunning.tasks_legal import legal_housekeeping


class Command(BaseCommand):
    help = (
        "End and resume pauses, record legal-notice evidence, propose costs whose term passed and refresh "
        "payment arrangements (what the 'legal_housekeeping' schedule does)."
    )

    def add_arguments(self, parser):
        add_now_argument(parser)

    def handle(self, *args, now=None, **options):
        counts = legal_housekeeping(now=moment_from(now))
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
