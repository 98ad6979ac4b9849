from django.conf import settings
from django.core.management.base import BaseCommand

from agenda.demo import DEMO_PASSWORD, DEMO_USERS, load_demo


class Command(BaseCommand):
    help = "Load the demo PMO once; running it again changes nothing."

    def handle(self, *args, **options):
        pmo, created = load_demo()
        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo PMO “{pmo.name}” loaded."))
        else:
            self.stdout.write(f"Demo PMO “{pmo.name}” is already there; nothing changed.")
        self.stdout.write(f"Sign in at {settings.SITE_URL}/ with one of:")
        for email, _name, role in DEMO_USERS:
            self.stdout.write(f"  {email:<22} password {DEMO_PASSWORD}   ({role.label.lower()})")
