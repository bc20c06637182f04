from django.core.management.base import BaseCommand

from dunning.management.commands._moment import add_now_argument, moment_from
from dunning.tasks import dispatch


class Command(BaseCommand):
    help = "Send the planned messages that are due (what the 'dispatch' schedule does)."

    def add_arguments(self, parser):
        add_now_argument(parser)
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, now=None, batch_size=None, **options):
        counts = dispatch(now=moment_from(now), batch_size=batch_size)
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
