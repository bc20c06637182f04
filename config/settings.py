"""Settings for the dunning back office.

Everything that differs between machines comes from the environment through django-environ; a bad
value fails at start-up with the variable's name. See `.env.example` for the full list.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    SECURE_SSL_REDIRECT=(bool, True),
    SECURE_HSTS_SECONDS=(int, 31536000),
    CONN_MAX_AGE=(int, 60),
    Q_WORKERS=(int, 2),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me" if DEBUG else environ.Env.NOTSET)
# Old keys while rotating: signed payment links (/pay/<token>/) and sessions keep working.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "anymail",
    "auditlog",
    "customers",
    "campaigns",
    "dunning",
    "compliance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded default (SQLite) serves `make run` and `make test` on a fresh machine; production sets
# DATABASE_URL=postgres://... (psycopg 3).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web + qcluster) share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    # Persistent connections: django-q2's ORM broker enqueues ~14x faster with them. Never Django's
    # psycopg pool: qcluster hangs with it.
    DATABASES["default"]["CONN_MAX_AGE"] = env("CONN_MAX_AGE")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Dutch first; English available through the language switch (LocaleMiddleware + Accept-Language).
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}

# Security: production values by default; DEBUG=1 (development) relaxes what needs https.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env("SECURE_SSL_REDIRECT") and not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else env("SECURE_HSTS_SECONDS")
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = 8 * 3600  # one working day
X_FRAME_OPTIONS = "DENY"

# E-mail: anymail with a real ESP chosen by environment, e.g.
# EMAIL_BACKEND=anymail.backends.brevo.EmailBackend and ANYMAIL_BREVO_API_KEY=...
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Gemeente Voorbeeld <belastingen@example.nl>")
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value for key, value in env.ENVIRON.items() if key.startswith("ANYMAIL_") and value
}
SMS_BACKEND = env("SMS_BACKEND", default="dunning.channels.sms.ConsoleSMSBackend")
SMS_SENDER = env("SMS_SENDER", default="Gemeente")
# CM.com (SMS_BACKEND=dunning.channels.sms.CMSMSBackend): the product token from the CM.com portal.
SMS_CM_PRODUCT_TOKEN = env("SMS_CM_PRODUCT_TOKEN", default="")
SMS_CM_URL = env("SMS_CM_URL", default="https://gw.messaging.cm.com/v1.0/message")

# The engine (dunning.windows, dunning.services.dispatch). Send windows are local times, HH:MM-HH:MM;
# no channel sends on Sundays or Dutch public holidays whatever the window says.
SEND_WINDOWS = {
    "email": env("SEND_WINDOW_EMAIL", default="08:00-21:00"),
    "sms": env("SEND_WINDOW_SMS", default="09:00-20:00"),
    "letter": env("SEND_WINDOW_LETTER", default="07:00-17:00"),
}
DISPATCH_BATCH_SIZE = env.int("DISPATCH_BATCH_SIZE", default=200)
DISPATCH_CHUNK_SIZE = env.int("DISPATCH_CHUNK_SIZE", default=100)  # messages per transaction and claim-lock query
DISPATCH_MAX_ATTEMPTS = env.int("DISPATCH_MAX_ATTEMPTS", default=5)  # then FAILED, for a clerk
DISPATCH_RETRY_MINUTES = env.int("DISPATCH_RETRY_MINUTES", default=5)  # doubles per attempt
DISPATCH_STALE_SENDING_MINUTES = env.int("DISPATCH_STALE_SENDING_MINUTES", default=30)
# A dispatch run starts no new chunk after this many seconds: it ends before the task timeout (300 s).
DISPATCH_TIME_BUDGET_SECONDS = env.int("DISPATCH_TIME_BUDGET_SECONDS", default=240)
PAYMENTS_WEBHOOK_SECRET = env("PAYMENTS_WEBHOOK_SECRET", default="")
MOLLIE_API_KEY = env("MOLLIE_API_KEY", default="")

# WIK collection costs may be raised by VAT when the municipality cannot reclaim the VAT it pays on them
# (Besluit vergoeding voor buitengerechtelijke incassokosten, art. 2 lid 3); see docs/legal.md.
DUNNING_WIK_ADD_VAT = env.bool("DUNNING_WIK_ADD_VAT", default=False)
DUNNING_VAT_PERCENT = env.int("DUNNING_VAT_PERCENT", default=21)

# The municipality's own details, printed in messages and letters.
MUNICIPALITY = {
    "name": env("MUNICIPALITY_NAME", default="Gemeente Voorbeeld"),
    "address": env("MUNICIPALITY_ADDRESS", default="Postbus 1234, 1000 AB Voorbeeld"),
    "phone": env("MUNICIPALITY_PHONE", default="14 020"),
    "email": env("MUNICIPALITY_EMAIL", default="belastingen@example.nl"),
    "iban": env("MUNICIPALITY_IBAN", default="NL91ABNA0417164300"),
    "payment_page_url": env("MUNICIPALITY_PAYMENT_PAGE_URL", default="https://example.nl/betalen"),
    "debt_help": env("MUNICIPALITY_DEBT_HELP", default="Schuldhulp Voorbeeld, 14 020, www.example.nl/schuldhulp"),
}

# django-q2: the ORM broker by default (one cluster, works on SQLite); with REDIS_URL, Redis and any
# number of clusters on PostgreSQL. retry must exceed timeout or a slow task runs twice.
REDIS_URL = env("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "dunning",
    "workers": env("Q_WORKERS"),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Taken",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# django-auditlog: who changed what. Actors outside requests are set with set_actor (system user).
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False
SYSTEM_USERNAME = "system"

# Effect figures are shown only for groups of at least this many distinct debtors (GDPR: group level,
# no individual's behaviour readable from a report); smaller groups merge into "other".
EFFECT_MIN_GROUP_SIZE = env.int("EFFECT_MIN_GROUP_SIZE", default=10)
