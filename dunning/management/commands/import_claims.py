"""`import_claims FILE.csv`: upsert debtors and claims from the source system's CSV (docs/import-format.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.actors import system_user
from dunning.services.claim_import import ImportFileError, claims_import, claims_import_errors_csv


class Command(BaseCommand):
    help = (
        "Import debtors and claims from a CSV file. Every row is validated; by default a file with any bad "
        "row stores nothing. Re-importing the same file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Validate and count, store nothing.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Store the good rows; write the rejected rows with their reasons to an error CSV.",
        )
        parser.add_argument(
            "--errors-file", type=Path, default=None, help="Where to write rejected rows (default FILE.errors.csv)."
        )

    def handle(self, *args, file: Path, dry_run: bool, skip_invalid: bool, errors_file: Path | None, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}")
        try:
            result = claims_import(data=data, dry_run=dry_run, skip_invalid=skip_invalid, actor=system_user())
        except ImportFileError as error:
            raise CommandError(f"{file}: {error}")

        for error in result.errors:
            self.stderr.write(str(error))
        if result.rejected and skip_invalid:
            errors_file = errors_file or file.with_name(f"{file.stem}.errors.csv")
            errors_file.write_text(claims_import_errors_csv(result), encoding="utf-8")
            self.stdout.write(f"{len(result.rejected)} rejected rows, with reasons, written to {errors_file}")
        counts = (
            f"debtors: {result.debtors['created']} created, {result.debtors['updated']} updated, "
            f"{result.debtors['unchanged']} unchanged; claims: {result.claims['created']} created, "
            f"{result.claims['updated']} updated, {result.claims['unchanged']} unchanged"
        )
        if result.rejected and not skip_invalid:
            raise CommandError(
                f"{len(result.rejected)} of {len(result.rows)} rows have errors (listed above): nothing was stored. "
                "Fix them, or use --skip-invalid to store the good rows."
            )
        if dry_run:
            self.stdout.write(f"Dry run, nothing stored. Would have: {counts}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {len(result.accepted)} rows: {counts}."))
