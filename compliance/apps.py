from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self):
        # After auditlog's own ready() (it is listed first in INSTALLED_APPS): see compliance/audit.py.
        from compliance import audit

        audit.register_models()
