from .cases import OPEN_CASE_STATUSES, CaseNote, CaseStatus, FollowUpCase, RecoveryPulse
from .imports import ImportJob
from .interactions import SENTIMENT_CHOICES, Interaction, InteractionKind
from .register import HIGH_LEVEL, LEVEL_CHOICES, LEVEL_VALIDATORS, Segment, Stakeholder
from .services import Service, ServiceAnswer, ServiceEvent, ServiceStatus, SurveyService
from .surveys import (
    Answer,
    Question,
    QuestionKind,
    Response,
    Survey,
    SurveyInvitation,
    SurveyStatus,
    hash_token,
    make_token,
)
from .touchpoints import MAX_RECURRENCE_YEARS, OccurrenceStatus, Recurrence, Touchpoint, TouchpointOccurrence
from .updates import SurveyUpdate

__all__ = [
    "OPEN_CASE_STATUSES",
    "CaseNote",
    "CaseStatus",
    "FollowUpCase",
    "RecoveryPulse",
    "SurveyUpdate",
    "MAX_RECURRENCE_YEARS",
    "OccurrenceStatus",
    "Recurrence",
    "Touchpoint",
    "TouchpointOccurrence",
    "SENTIMENT_CHOICES",
    "Interaction",
    "InteractionKind",
    "HIGH_LEVEL",
    "ImportJob",
    "LEVEL_CHOICES",
    "LEVEL_VALIDATORS",
    "Answer",
    "SurveyInvitation",
    "SurveyService",
    "Question",
    "QuestionKind",
    "Response",
    "Segment",
    "Service",
    "ServiceAnswer",
    "ServiceEvent",
    "ServiceStatus",
    "Stakeholder",
    "Survey",
    "SurveyStatus",
    "hash_token",
    "make_token",
]
