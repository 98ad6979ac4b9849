"""The demo PMO that `make run` loads, so that a newcomer sees a working product at once."""

import random
import unicodedata

from django.db import transaction

from pmo5p.models import Membership, Pmo, Role, User
from stakeholders.models import Segment, Stakeholder

DEMO_SLUG = "demo"
DEMO_PASSWORD = "pmo5p-demo"  # noqa: S105 (printed by `make run` for the local demo)
DEMO_USERS = [
    ("lead@example.com", "Alex Morgan", Role.LEAD),
    ("member@example.com", "Priya Shah", Role.MEMBER),
    ("viewer@example.com", "Tom Becker", Role.VIEWER),
]
SEGMENTS = {
    "Executive sponsors": "Executives who sponsor the portfolio's programmes.",
    "Finance": "Finance business partners and controllers.",
    "IT": "Technology leaders and delivery managers.",
    "Operations": "Operational business units receiving change.",
    "HR": "People and talent teams.",
    "Project managers": "The project community the PMO serves day to day.",
}
FIRST = [
    "Olivia",
    "Liam",
    "Amara",
    "Noah",
    "Sofia",
    "Ethan",
    "Mei",
    "Lucas",
    "Fatima",
    "Oscar",
    "Ingrid",
    "Mateo",
    "Hannah",
    "Kwame",
    "Zoe",
    "Rahul",
    "Chloe",
    "Diego",
    "Aisha",
    "Jonas",
    "Elena",
    "Samuel",
    "Nadia",
    "Felix",
    "Grace",
    "Tariq",
    "Isla",
    "Marco",
    "Leila",
    "Henrik",
    "Ruth",
    "Yusuf",
    "Clara",
    "Ravi",
    "Emma",
    "Daniel",
]
LAST = [
    "Hughes",
    "Okafor",
    "Lindqvist",
    "Patel",
    "Rossi",
    "Nakamura",
    "Fischer",
    "Dubois",
    "Kowalski",
    "Mensah",
    "Novak",
    "García",
    "O'Brien",
    "Haddad",
    "Jensen",
    "Silva",
    "Chen",
    "Walsh",
]
TITLES = {
    "Executive sponsors": [
        "Chief Operating Officer",
        "Chief Financial Officer",
        "Director of Strategy",
        "Chief Digital Officer",
    ],
    "Finance": ["Finance Business Partner", "Head of Financial Planning", "Portfolio Controller"],
    "IT": ["Head of Delivery", "Enterprise Architect", "IT Service Manager"],
    "Operations": ["Operations Director", "Regional Operations Manager", "Head of Customer Service"],
    "HR": ["HR Business Partner", "Head of Talent", "Learning & Development Lead"],
    "Project managers": ["Senior Project Manager", "Programme Manager", "Project Manager"],
}
INFLUENCE = {
    "Executive sponsors": (4, 5),
    "Finance": (3, 5),
    "IT": (2, 4),
    "Operations": (2, 4),
    "HR": (1, 3),
    "Project managers": (1, 3),
}
INTEREST = {
    "Executive sponsors": (2, 4),
    "Finance": (2, 4),
    "IT": (3, 5),
    "Operations": (2, 4),
    "HR": (1, 3),
    "Project managers": (4, 5),
}


@transaction.atomic
def load_demo() -> tuple[Pmo, bool]:
    """Create the demo PMO once; return it and whether it was created now."""
    existing = Pmo.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return existing, False

    rng = random.Random(5)  # the same demo for everybody
    pmo = Pmo.objects.create(
        name="Group Transformation PMO",
        slug=DEMO_SLUG,
        description="The PMO of a mid-sized insurer's transformation portfolio: 40 projects, 6 programmes.",
        time_zone="Europe/London",
    )
    memberships = []
    for email, name, role in DEMO_USERS:
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=DEMO_PASSWORD, name=name
        )
        memberships.append(Membership.objects.create(pmo=pmo, user=user, role=role))
    owners = memberships[:2]

    segments = {name: Segment.objects.create(pmo=pmo, name=name, description=text) for name, text in SEGMENTS.items()}
    names = [f"{first} {last}" for first, last in zip(FIRST, rng.sample(LAST * 2, len(FIRST)), strict=True)]
    stakeholders = []
    for index, name in enumerate(names):
        segment_name = list(SEGMENTS)[index % len(SEGMENTS)]
        email_name = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
        email_name = email_name.replace(" ", ".").replace("'", "")
        stakeholders.append(
            Stakeholder(
                pmo=pmo,
                name=name,
                email="" if index % 17 == 16 else f"{email_name}@insurer.example",
                job_title=rng.choice(TITLES[segment_name]),
                business_unit=segment_name if segment_name != "Project managers" else "Transformation Office",
                segment=segments[segment_name],
                influence=rng.randint(*INFLUENCE[segment_name]),
                interest=rng.randint(*INTEREST[segment_name]),
                owner=owners[index % 2] if index % 9 else None,
                is_active=index % 13 != 12,
            )
        )
    Stakeholder.objects.bulk_create(stakeholders)
    return pmo, True
