from .register import HIGH_LEVEL, LEVEL_CHOICES, LEVEL_VALIDATORS, Segment, Stakeholder
from .surveys import (
    Answer,
    Invitation,
    Question,
    QuestionKind,
    Response,
    Survey,
    SurveyStatus,
    hash_token,
    make_token,
)

__all__ = [
    "HIGH_LEVEL",
    "LEVEL_CHOICES",
    "LEVEL_VALIDATORS",
    "Answer",
    "Invitation",
    "Question",
    "QuestionKind",
    "Response",
    "Segment",
    "Stakeholder",
    "Survey",
    "SurveyStatus",
    "hash_token",
    "make_token",
]
