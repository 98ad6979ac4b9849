from .assessments import SELF_RATING_CHOICES, MaturityRecord, SelfAssessment
from .calendar import CalendarFeed
from .figures import KeptElementFigures, KeptPerception
from .plan import Action, ActionStatus, Incident
from .reports import AgendaReport, DeliveryStatus, Frequency, ReportDelivery, ReportKind, ReportSchedule

__all__ = [
    "SELF_RATING_CHOICES",
    "Action",
    "ActionStatus",
    "AgendaReport",
    "CalendarFeed",
    "DeliveryStatus",
    "Frequency",
    "Incident",
    "KeptElementFigures",
    "KeptPerception",
    "MaturityRecord",
    "ReportDelivery",
    "ReportKind",
    "ReportSchedule",
    "SelfAssessment",
]
