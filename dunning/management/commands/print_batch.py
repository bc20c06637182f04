from django.core.management.base import BaseCommand

from dunning.management.commands._moment import add_now_argument, moment_from
from dunning.tasks import print_batch


class Command(BaseCommand):
    help = "Merge the letters not yet printed into one PDF plus a manifest CSV for the print house."

    def add_arguments(self, parser):
        add_now_argument(parser)

    def handle(self, *args, now=None, **options):
        result = print_batch(now=moment_from(now))
        self.stdout.write(f"batch={result['batch']} letters={result['letters']}")
