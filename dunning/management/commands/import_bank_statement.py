"""import_bank_statement FILE [--dry-run]: CAMT.053 / MT940 credit entries become payments."""

from pathlib import Path

from auditlog.context import set_actor
from django.core.management.base import BaseCommand, CommandError

from config.actors import system_user
from dunning.services.bank_statements import StatementError, bank_statement_import


class Command(BaseCommand):
    help = "Import a CAMT.053 or MT940 bank statement: credit entries become payments, matched by reference."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the statement (.xml for CAMT.053, .940/.sta/.txt for MT940)")
        parser.add_argument("--dry-run", action="store_true", help="report what would happen; store nothing")
        parser.add_argument("--verbose-lines", action="store_true", help="print one line per entry")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            with set_actor(system_user()):
                report = bank_statement_import(
                    content=path.read_bytes(), filename=path.name, dry_run=options["dry_run"]
                )
        except StatementError as exc:
            raise CommandError(f"{path.name}: {exc}. Nothing was stored.") from exc
        if options["verbose_lines"] or options["verbosity"] > 1:
            for line in report.lines:
                self.stdout.write(line)
        prefix = "DRY RUN (nothing stored): " if report.dry_run else ""
        counts = ", ".join(f"{key} {value}" for key, value in report.counts.items())
        self.stdout.write(f"{prefix}{report.format} {path.name}: {counts}")
