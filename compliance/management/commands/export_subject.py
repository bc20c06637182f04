import json

from auditlog.context import set_actor
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from compliance.selectors import subject_export
from config.actors import system_user
from customers.models import Debtor


class Command(BaseCommand):
    help = "Art. 15 export: everything held on one debtor, as JSON on stdout. The export is access-logged."

    def add_arguments(self, parser):
        parser.add_argument("debtor_id", type=int)

    def handle(self, *args, debtor_id, **options):
        try:
            debtor = Debtor.objects.get(pk=debtor_id)
        except Debtor.DoesNotExist:
            raise CommandError(f"no debtor with id {debtor_id}")
        actor = system_user()
        with set_actor(actor):
            data = subject_export(debtor=debtor, actor=actor)
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
