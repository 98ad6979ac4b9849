"""The recovery pulse's tests' cases: tests.factories.FollowUpCaseFactory's, resolved unless
told otherwise (the case's own write path is another module's: stakeholders/cases/services.py)."""

from datetime import date

from django.utils import timezone

from stakeholders.models import CaseStatus, FollowUpCase
from tests.factories import FollowUpCaseFactory, ResponseFactory

DUE = date(2026, 1, 9)


def _status_fields(status) -> dict:
    return {
        "status": status,
        "resolved_at": timezone.now() if status == CaseStatus.RESOLVED else None,
        "closed_reason": "Nothing to do" if status == CaseStatus.CLOSED else "",
    }


def named_case(pmo, stakeholder, *, nps=3, status=CaseStatus.RESOLVED, survey=None) -> FollowUpCase:
    """A named detractor's case of `stakeholder` (of `pmo`), with the response that opened it."""
    assert stakeholder.pmo_id == pmo.pk
    response = {"response": ResponseFactory(survey=survey, stakeholder=stakeholder, nps=nps)} if survey else {}
    return FollowUpCaseFactory(for_stakeholder=stakeholder, score=nps, due_on=DUE, **response, **_status_fields(status))


def group_case(pmo, survey, *, status=CaseStatus.RESOLVED, key="-:product") -> FollowUpCase:
    """An anonymous survey's group case: no response, no stakeholder."""
    assert survey.pmo_id == pmo.pk
    return FollowUpCaseFactory(
        survey=survey, group_key=key, due_on=DUE, root_element="product", **_status_fields(status)
    )
