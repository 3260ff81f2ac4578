from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppServerConfig(AppConfig):
    name = "appserver"
    verbose_name = _("Application server API")

    def ready(self):
        from django.core.signals import request_started

        from appserver.webhooks import sender_start

        # A server process starts its webhook sender with its first request (and with
        # the first delivery it queues), so retries left by a restart go out too.
        request_started.connect(
            lambda **kwargs: sender_start(), weak=False, dispatch_uid="webhook-sender"
        )
