"""`make run`: the development web server and a real django-q2 cluster, stopped together by Ctrl-C."""

import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server and a qcluster process side by side until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")

    def handle(self, *args, port: str, **options):
        cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=settings.BASE_DIR)
        self.stdout.write(
            f"\nAdmin: http://127.0.0.1:{port}/admin/\n"
            "Demo logins (DEBUG only): clerk / team-lead / compliance / admin, password 'demo-password-2026'\n"
        )
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            cluster.terminate()
            cluster.wait(timeout=30)
