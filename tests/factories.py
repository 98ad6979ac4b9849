from datetime import date, timedelta

import factory
from django.utils import timezone

from agenda.figures.responses import store_perceptions
from agenda.models import MaturityRecord, SelfAssessment
from pmo5p.domain import DETRACTOR_MAX, Element, MaturityStage, ServiceUsage
from pmo5p.models import Membership, Pmo, Role, User
from stakeholders.models import (
    Answer,
    FollowUpCase,
    QuestionKind,
    Response,
    Segment,
    Service,
    ServiceAnswer,
    Stakeholder,
    Survey,
    SurveyInvitation,
    SurveyService,
    SurveyStatus,
)
from stakeholders.surveys.lifecycle import create_survey

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


# Surveys ------------------------------------------------------------------------------------
#
# One way to build survey data in a test. Surveys get the standard questionnaire from the
# product's own create_survey, invitations their token from Invitation.new, and responses
# their answers row by row, so that the figures read real questions.

FAR_CLOSE = date(2099, 12, 31)


class SurveyFactory(factory.django.DjangoModelFactory):
    """A survey with the standard questionnaire: a draft unless `open` or `closed` is set
    (or `status`, `launched_at`, `closed_at` are given)."""

    class Meta:
        model = Survey

    class Params:
        open = factory.Trait(status=SurveyStatus.OPEN, launched_at=factory.LazyFunction(timezone.now))
        closed = factory.Trait(
            status=SurveyStatus.CLOSED,
            launched_at=factory.LazyAttribute(lambda o: o.closed_at - timedelta(days=14)),
            closed_at=factory.LazyFunction(timezone.now),
        )

    pmo = factory.SubFactory(PmoFactory)
    created_by = None
    title = "How do you see us?"
    closes_on = FAR_CLOSE
    anonymous = False
    intro = None  # create_survey's default introduction
    status = SurveyStatus.DRAFT
    launched_at = None
    closed_at = None

    @classmethod
    def _create(cls, model_class, *, status, launched_at, closed_at, **kwargs):
        survey = create_survey(**kwargs)
        if status != SurveyStatus.DRAFT or launched_at or closed_at:
            # Straight to the state asked, without launching (no e-mail, no audience check).
            Survey.objects.filter(pk=survey.pk).update(status=status, launched_at=launched_at, closed_at=closed_at)
            survey.refresh_from_db()
        return survey


class SurveyInvitationFactory(factory.django.DjangoModelFactory):
    """An invitation with a real token (Invitation.new): not sent unless `sent_at` is given,
    or `sent` (sent when the survey was launched)."""

    class Meta:
        model = SurveyInvitation

    class Params:
        sent = factory.Trait(sent_at=factory.SelfAttribute("survey.launched_at"))

    survey = factory.SubFactory(SurveyFactory, open=True)
    stakeholder = factory.SubFactory(StakeholderFactory, pmo=factory.SelfAttribute("..survey.pmo"))
    sent_at = None
    send_status = factory.Maybe("sent_at", SurveyInvitation.SendStatus.SENT, SurveyInvitation.SendStatus.PENDING)

    @classmethod
    def _create(cls, model_class, *, survey, stakeholder, **fields):
        invitation = model_class.new(survey, stakeholder)
        for name, value in fields.items():
            setattr(invitation, name, value)
        invitation.save()
        return invitation


class ResponseFactory(factory.django.DjangoModelFactory):
    """A submitted response, made with the ORM, and its answers, its perception kept on it
    as lifecycle.submit keeps it.

    Give `invitation`, or `survey` (and `stakeholder`, else a new one): a sent invitation
    is made. `ratings` maps an element to the values given to its performance statements in
    order (None is "Don't know"); `importance` maps an element to its importance value.
    Elements left out get no Answer row at all. The invitation is marked answered at
    `submitted_at`. A named survey's detractor is made with its alert queued already, as
    it is soon after a real submit (`detractor_alerted_at`; give None for one still due).
    """

    class Meta:
        model = Response

    class Params:
        stakeholder = None

    # Each defaults to the other's: one of the two is given.
    survey = factory.LazyAttribute(lambda o: o.invitation.survey)
    invitation = factory.LazyAttribute(
        lambda o: SurveyInvitationFactory(
            survey=o.survey, sent=True, **({"stakeholder": o.stakeholder} if o.stakeholder else {})
        )
    )
    segment = factory.LazyAttribute(lambda o: o.invitation.segment)
    nps = None
    comment = ""
    submitted_at = factory.LazyFunction(timezone.now)
    detractor_alerted_at = factory.LazyAttribute(
        lambda o: o.submitted_at if o.nps is not None and o.nps <= DETRACTOR_MAX and not o.survey.anonymous else None
    )
    ratings = None
    importance = None

    @classmethod
    def _create(cls, model_class, *, ratings, importance, **kwargs):
        response = model_class.objects.create(**kwargs)
        questions = list(response.survey.questions.all())

        def asked(kind, element):
            return [q for q in questions if q.kind == kind and q.element == element]

        answers = []
        for element, values in (ratings or {}).items():
            statements = asked(QuestionKind.PERFORMANCE, element)
            answers += [
                Answer(response=response, question=q, value=v) for q, v in zip(statements, values, strict=False)
            ]
        for element, value in (importance or {}).items():
            (question,) = asked(QuestionKind.IMPORTANCE, element)
            answers.append(Answer(response=response, question=question, value=value))
        Answer.objects.bulk_create(answers)
        # As lifecycle.submit does, in the same way.
        store_perceptions(Response.objects.filter(pk=response.pk))
        response.refresh_from_db(fields=["perception_rating"])
        invitation = response.invitation
        SurveyInvitation.objects.filter(pk=invitation.pk).update(responded_at=response.submitted_at)
        invitation.refresh_from_db()
        return response


def every(value, elements=tuple(Element)) -> dict:
    """`ratings` with both statements of each P of `elements` rated `value`."""
    return dict.fromkeys(elements, (value, value))


# The service catalogue ----------------------------------------------------------------------
#
# The survey's snapshot of a service is made as launch makes it (name, description, segments
# and P's copied); answers are written row by row, as a submit stores them.


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        skip_postgeneration_save = True

    pmo = factory.SubFactory(PmoFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    description = "What the PMO does for its stakeholders."
    elements = factory.LazyFunction(lambda: [Element.PRODUCT.value])

    @factory.post_generation
    def segments(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.segments.set(extracted)


class SurveyServiceFactory(factory.django.DjangoModelFactory):
    """A survey's snapshot of a service: give `service` (copied as launch copies it) or
    the snapshot's own fields."""

    class Meta:
        model = SurveyService

    survey = factory.SubFactory(SurveyFactory, open=True)
    service = factory.SubFactory(ServiceFactory, pmo=factory.SelfAttribute("..survey.pmo"))
    name = factory.LazyAttribute(lambda o: o.service.name if o.service else "A deleted service")
    description = factory.LazyAttribute(lambda o: o.service.description if o.service else "")
    segment_ids = factory.LazyAttribute(
        lambda o: sorted(o.service.segments.values_list("pk", flat=True)) if o.service and o.service.pk else []
    )
    elements = factory.LazyAttribute(lambda o: list(o.service.elements) if o.service else [])
    position = factory.Sequence(lambda n: n)


class ServiceAnswerFactory(factory.django.DjangoModelFactory):
    """One respondent's answer about an asked service; give `response` and `survey_service`."""

    class Meta:
        model = ServiceAnswer

    usage = ServiceUsage.USES
    satisfaction = None
    importance = None


# The agenda ---------------------------------------------------------------------------------


class SelfAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SelfAssessment

    pmo = factory.SubFactory(PmoFactory)
    element = Element.PRODUCT
    rating = 3


class MaturityRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaturityRecord

    stakeholder = factory.SubFactory(StakeholderFactory)
    pmo = factory.SelfAttribute("stakeholder.pmo")
    stage = MaturityStage.AWARE
    rationale = "Seen"


class FollowUpCaseFactory(factory.django.DjangoModelFactory):
    """A follow-up case made with the ORM, as stakeholders/cases/opening.py would open it.

    Named by default: a detractor's response (score `score`) to a new open survey, by
    `for_stakeholder` (else a new stakeholder) of `of_pmo` (else a new PMO); or give `response`.
    An anonymous group's case: give `group_key` (and `survey`, else a new anonymous one).
    """

    class Meta:
        model = FollowUpCase

    class Params:
        of_pmo = None
        for_stakeholder = None
        score = 3

    group_key = ""
    response = factory.LazyAttribute(
        lambda o: (
            None
            if o.group_key
            else ResponseFactory(
                survey=SurveyFactory(
                    open=True, pmo=o.for_stakeholder.pmo if o.for_stakeholder else (o.of_pmo or PmoFactory())
                ),
                nps=o.score,
                **({"stakeholder": o.for_stakeholder} if o.for_stakeholder else {}),
            )
        )
    )
    survey = factory.LazyAttribute(
        lambda o: (
            o.response.survey if o.response else SurveyFactory(open=True, anonymous=True, pmo=o.of_pmo or PmoFactory())
        )
    )
    pmo = factory.LazyAttribute(lambda o: o.survey.pmo)
    stakeholder = factory.LazyAttribute(lambda o: o.response.invitation.stakeholder if o.response else None)
    segment = factory.LazyAttribute(lambda o: o.response.segment if o.response else None)
    nps_before = factory.LazyAttribute(lambda o: o.response.nps if o.response else None)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
