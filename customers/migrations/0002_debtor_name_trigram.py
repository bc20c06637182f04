"""On PostgreSQL: trigram indexes so the clerk's "search by name" (case-insensitive, anywhere in the name)
finds debtors without scanning every row. SQLite has no pg_trgm and does not need it at its sizes.

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it without superuser.
The expressions match what Django's `icontains` generates: UPPER("surname"::text) LIKE UPPER('%...%').
"""

from django.db import migrations

INDEXES = {
    "debtor_surname_trgm_idx": "surname",
    "debtor_given_name_trgm_idx": "given_name",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_debtor USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
