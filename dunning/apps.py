from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DunningConfig(AppConfig):
    name = "dunning"
    verbose_name = _("Dunning")

    def ready(self):
        # ESP tracking webhooks (anymail) -> delivery events; the receiver only translates, a service records.
        from anymail.signals import tracking

        from dunning.webhooks import on_tracking

        tracking.connect(on_tracking, dispatch_uid="dunning.webhooks.on_tracking")
