"""Settings for the test suite: the real settings, with test doubles where a user has real services.

DATABASE_URL still decides the database (SQLite by default, PostgreSQL in CI's second run).
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("PAYMENTS_WEBHOOK_SECRET", "test-webhook-secret")
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "esp:test-secret")
os.environ.setdefault("MOLLIE_API_KEY", "")

from config.settings import *  # noqa: F403

EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
SMS_BACKEND = "dunning.channels.sms.InMemorySMSBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="dunning-test-media-"))  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="dunning-test-static-"))  # noqa: F405
