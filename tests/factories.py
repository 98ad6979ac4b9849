import factory

from pmo5p.models import Membership, Pmo, Role, User
from stakeholders.models import Segment, Stakeholder

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PmoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pmo

    name = factory.Sequence(lambda n: f"PMO {n}")
    slug = factory.Sequence(lambda n: f"pmo-{n}")
    time_zone = "Europe/London"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    pmo = factory.SubFactory(PmoFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    pmo = factory.SubFactory(PmoFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")


class StakeholderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stakeholder

    pmo = factory.SubFactory(PmoFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"stakeholder{n}@corp.example")
    job_title = factory.Faker("job")
    influence = 3
    interest = 3
