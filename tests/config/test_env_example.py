"""`.env.example` documents every variable the settings read, and nothing it lists is unparseable."""

import re
from pathlib import Path

import environ
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# env("X", ...), env.int("X", ...), env.db("X", ...) and the typed defaults env = environ.Env(X=(...)).
_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
_DECLARED = re.compile(r"^\s+([A-Z][A-Z0-9_]*)=\(", re.MULTILINE)
_LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def _read_by_settings() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(_READ.findall(source)) | set(_DECLARED.findall(source))


def _listed() -> set[str]:
    return set(_LISTED.findall((ROOT / ".env.example").read_text()))


def test_every_variable_the_settings_read_is_in_env_example():
    read = _read_by_settings()
    assert {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "REDIS_URL", "EMAIL_BACKEND"} <= read
    missing = read - _listed()
    assert not missing, f"add these to .env.example with a comment: {sorted(missing)}"


def test_env_example_documents_the_anymail_prefix_and_the_contract_variables():
    listed = _listed()
    assert any(name.startswith("ANYMAIL_") for name in listed)
    assert {
        "SMS_BACKEND",
        "PAYMENTS_WEBHOOK_SECRET",
        "MOLLIE_API_KEY",
        "PUBLIC_BASE_URL",
        "CSRF_TRUSTED_ORIGINS",
    } <= listed


def test_env_example_values_parse():
    """The typed example values parse the way settings.py reads them (without touching os.environ)."""
    values = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE))
    env = environ.Env()
    env.ENVIRON = values
    assert env.bool("DEBUG") is False
    assert env.db("DATABASE_URL")["ENGINE"] == "django.db.backends.postgresql"
    assert env.list("ALLOWED_HOSTS") == ["invordering.gemeente.example"]
    assert env.int("SECURE_HSTS_SECONDS") > 0
    assert env.int("Q_WORKERS") >= 1
