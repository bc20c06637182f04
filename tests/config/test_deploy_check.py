"""With DEBUG=0 and the production variables, `manage.py check --deploy` reports nothing.

Run in a fresh process with a clean environment: settings are read once at start-up, and the test
settings (or a developer's .env) must not leak in.
"""

import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def _production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "invordering.gemeente.example",
        "CSRF_TRUSTED_ORIGINS": "https://invordering.gemeente.example",
        "PUBLIC_BASE_URL": "https://invordering.gemeente.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def _check_deploy(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MANAGE), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=MANAGE.parent,
    )


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    result = _check_deploy(_production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_would_catch_an_insecure_setting(tmp_path):
    # The same check fails loudly when https is switched off: the test above can fail.
    result = _check_deploy(_production_env(tmp_path, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0"))
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout
    assert "security.W004" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _check_deploy(_production_env(tmp_path, SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
