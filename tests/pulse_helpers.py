"""Follow-up cases made directly with the ORM, for the recovery pulse's tests (the case's
own write path is another module's: stakeholders/cases/services.py)."""

from datetime import date

from django.utils import timezone

from stakeholders.models import CaseStatus, FollowUpCase
from tests.factories import ResponseFactory, SurveyFactory


def named_case(pmo, stakeholder, *, nps=3, status=CaseStatus.RESOLVED, survey=None) -> FollowUpCase:
    """A named detractor's case, resolved unless told otherwise, with the response that opened it."""
    survey = survey or SurveyFactory(pmo=pmo, open=True, launched_at=timezone.now())
    response = ResponseFactory(survey=survey, stakeholder=stakeholder, nps=nps)
    return FollowUpCase.objects.create(
        pmo=pmo,
        survey=survey,
        response=response,
        stakeholder=stakeholder,
        segment=response.segment,
        group_key="",
        nps_before=nps,
        status=status,
        due_on=date(2026, 1, 9),
        resolved_at=timezone.now() if status == CaseStatus.RESOLVED else None,
        closed_reason="Nothing to do" if status == CaseStatus.CLOSED else "",
    )


def group_case(pmo, survey, *, status=CaseStatus.RESOLVED, key="-:product") -> FollowUpCase:
    """An anonymous survey's group case: no response, no stakeholder."""
    return FollowUpCase.objects.create(
        pmo=pmo, survey=survey, group_key=key, status=status, due_on=date(2026, 1, 9), root_element="product"
    )
