"""Where the survey engine gets the few figures it shows itself: each survey's participation
on the survey list and page, a detractor's lowest elements in the alert e-mail, the
detractors so far in an anonymous survey's batched alert, and an anonymous survey's
detractors per segment with the elements they scored lowest (the cases it opens when it
closes); and the figures it keeps: each response's perception, written at submit, and a
closed survey's figures, kept when it closes and written again whenever its answers change
(keep_figures).

The figures are computed by the figures layer, agenda/figures/, which sits above the survey
engine and so cannot be imported from here (docs/architecture.md, "Three apps, one
direction"). agenda registers its functions at start-up (agenda/apps.py), as it does the
timeline's maturity entries with stakeholders/timeline.py.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class FigureSource:
    # a list of surveys → {survey id: its participation (invited, sent, failed, responses, response_rate)}
    participation_by_survey: Callable[[Any], dict[int, Any]]
    # a response → [(element, score)], its lowest elements first
    lowest_elements: Callable[[Any], list]
    # a survey → {segment id (None: no segment): its detractors (0–6), with `detractors`, their
    # number, and `lowest`, [(element, score)] lowest first, from the mean of their answers};
    # one query (the group cases an anonymous survey opens when it closes)
    detractor_groups: Callable[[Any], dict]
    # responses → their NPS summary (answers, promoters, passives, detractors, score)
    nps: Callable[[Any], Any]
    # a response's performance ratings (None: "Don't know") → its perception (Response.perception_rating)
    perception: Callable[[Any], float | None]
    # survey ids (and the ids of the PMOs of surveys deleted) → None: keep again the figures of
    # those closed, from their answers, and forget those of the others; called in the
    # transaction that closes them or changes their answers
    keep_figures: Callable[..., None]
    # responses → None: write again each one's perception from its answers as they now are
    # (Response.perception_rating), after a change to them that submit did not make
    store_perceptions: Callable[[Any], Any]
    # responses about to be deleted → None: take their answers out of their closed surveys'
    # kept figures, without reading those surveys' other answers; called in the deleting
    # transaction, before the deletion
    forget_responses: Callable[[Any], None]


_registered: list[FigureSource] = []


def register(source: FigureSource) -> None:
    _registered[:] = [source]


def source() -> FigureSource:
    if not _registered:
        raise ImproperlyConfigured("No figure source is registered: agenda registers one in AgendaConfig.ready().")
    return _registered[0]
