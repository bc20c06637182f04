from django.core.management.base import BaseCommand

from dunning.management.commands._moment import add_now_argument, moment_from
from dunning.tasks import plan


class Command(BaseCommand):
    help = "Plan messages for every open, unpaused claim whose next step is due (what the 'plan' schedule does)."

    def add_arguments(self, parser):
        add_now_argument(parser)

    def handle(self, *args, now=None, **options):
        counts = plan(now=moment_from(now))
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
