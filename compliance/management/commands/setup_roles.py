from django.core.management.base import BaseCommand

from compliance.roles import roles_setup


class Command(BaseCommand):
    help = "Create or update the groups Clerk, Team lead and Compliance officer with their permissions."

    def handle(self, *args, **options):
        for name, count in roles_setup().items():
            self.stdout.write(f"{name}: {count} permissions")
