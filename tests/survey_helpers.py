"""Builders shared by the perception-survey tests: surveys in each state, invitations,
responses made straight with the ORM, and the POST data of the public form."""

import html
import re
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from pmo5p.domain import Element
from stakeholders.models import Answer, Invitation, Question, QuestionKind, Response, Survey, SurveyStatus
from stakeholders.surveys import create_survey

FAR_CLOSE = date(2099, 12, 31)


def survey_url(name, survey, **kwargs):
    return reverse(name, kwargs={"slug": survey.pmo.slug, "survey_id": survey.pk, **kwargs})


def draft_survey(pmo, user=None, **kwargs) -> Survey:
    kwargs.setdefault("title", "How do you see us?")
    kwargs.setdefault("closes_on", FAR_CLOSE)
    return create_survey(pmo=pmo, created_by=user, **kwargs)


def invite(survey, stakeholder, *, sent_at=None, **fields) -> Invitation:
    invitation = Invitation.new(survey, stakeholder)
    if sent_at is not None:
        invitation.sent_at = sent_at
        invitation.send_status = Invitation.SendStatus.SENT
    for name, value in fields.items():
        setattr(invitation, name, value)
    invitation.save()
    return invitation


def open_survey(pmo, stakeholders, *, sent_at=None, user=None, **kwargs) -> tuple[Survey, list[Invitation]]:
    """A launched survey whose invitations went out at `sent_at` (default: now), made without e-mail."""
    survey = draft_survey(pmo, user, **kwargs)
    sent_at = sent_at or timezone.now()
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.OPEN, launched_at=sent_at)
    survey.refresh_from_db()
    return survey, [invite(survey, s, sent_at=sent_at) for s in stakeholders]


def questions(survey, kind=None, element=None) -> list[Question]:
    qs = survey.questions.all()
    if kind:
        qs = qs.filter(kind=kind)
    if element:
        qs = qs.filter(element=element)
    return list(qs)


def rated_questions(survey) -> list[Question]:
    return list(survey.questions.filter(kind__in=[QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE]))


def answer_data(survey, *, rating="4", nps="8", comment="", **overrides) -> dict:
    """A complete, valid POST of the public form: every statement and importance rated `rating`."""
    data = {f"q_{q.pk}": rating for q in rated_questions(survey)}
    data["nps"] = nps
    data["comment"] = comment
    data["action"] = "submit"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def respond(invitation, *, ratings=None, importance=None, nps=None, comment="", segment=None, submitted_at=None):
    """A response made with the ORM.

    `ratings` maps an element to the values given to its performance statements in
    order (None is "Don't know"); `importance` maps an element to its importance value.
    Elements left out are not answered at all.
    """
    survey = invitation.survey
    response = Response.objects.create(
        invitation=invitation,
        survey=survey,
        segment=segment if segment is not None else invitation.stakeholder.segment,
        nps=nps,
        comment=comment,
        submitted_at=submitted_at or timezone.now(),
    )
    answers = []
    for element, values in (ratings or {}).items():
        statements = questions(survey, QuestionKind.PERFORMANCE, element)
        for question, value in zip(statements, values, strict=False):
            answers.append(Answer(response=response, question=question, value=value))
    for element, value in (importance or {}).items():
        (question,) = questions(survey, QuestionKind.IMPORTANCE, element)
        answers.append(Answer(response=response, question=question, value=value))
    Answer.objects.bulk_create(answers)
    Invitation.objects.filter(pk=invitation.pk).update(responded_at=response.submitted_at)
    invitation.refresh_from_db()
    return response


def every_element(value) -> dict:
    return {element: [value, value] for element in Element}


def checked_values(page: str, name: str) -> list[str]:
    """The values of the radio buttons named `name` that the page shows checked."""
    found = []
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and re.search(r"\schecked\b", tag):
            found.append(re.search(r'value="([^"]*)"', tag).group(1))
    return found


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def days_ago(days, now=None):
    return (now or timezone.now()) - timedelta(days=days)


def html_text(markup: str) -> str:
    """An HTML part as it reads: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).replace(" )", ")").split())
