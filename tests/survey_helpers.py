"""Helpers shared by the perception-survey tests: a launched survey with its invitations
(made with the factories of tests/factories.py), the questions of a survey, the POST data
of the public form, and readers of pages and e-mails."""

import html
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from stakeholders.models import Question, QuestionKind, Survey, SurveyInvitation
from tests.factories import SurveyFactory, SurveyInvitationFactory


def survey_url(name, survey, **kwargs):
    return reverse(name, kwargs={"slug": survey.pmo.slug, "survey_id": survey.pk, **kwargs})


def open_survey(pmo, stakeholders, *, sent_at=None, user=None, **kwargs) -> tuple[Survey, list[SurveyInvitation]]:
    """A launched survey whose invitations went out at `sent_at` (default: now), made without e-mail."""
    survey = SurveyFactory(pmo=pmo, created_by=user, open=True, launched_at=sent_at or timezone.now(), **kwargs)
    return survey, [SurveyInvitationFactory(survey=survey, stakeholder=s, sent=True) for s in stakeholders]


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
