"""A closed survey's figures, kept when it closes (docs/figures.md, "Kept figures").

A closed survey's answers no longer change with new answers, so its perception and
importance per element are aggregated once, by the figures layer's own aggregation
(agenda/figures/survey.py, element_rows), and read from here instead of from its answers
(agenda/figures/kept.py). A survey has rows here only while it is closed and its rows are
up to date; without rows its figures are computed from its answers.
"""

from django.db import models

from pmo5p.domain import Element
from pmo5p.models import Pmo
from stakeholders.models import QuestionKind, Response, Segment, Stakeholder, Survey


class KeptElementFigures(models.Model):
    """The aggregate of one closed survey's answers to one element's questions of one kind
    (performance or importance), in one segment: sums and counts, not means, so that rows
    add up to a survey's or a merged group's figures exactly."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    # The responses' segment (Response.segment). A segment deleted leaves its rows under
    # "No segment" as it does its responses (SET_NULL): readers add up the rows of a group,
    # so no row is unique per segment.
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    element = models.CharField(max_length=20, choices=Element.choices)
    kind = models.CharField(max_length=12, choices=QuestionKind.choices)
    total = models.IntegerField()  # the sum of the ratings
    answered = models.IntegerField()  # the ratings ("Don't know" left out)
    dont_know = models.IntegerField()
    rated_by = models.IntegerField()  # the responses with a rating

    class Meta:
        verbose_name_plural = "kept element figures"

    def __str__(self):
        return f"{self.survey_id}: {self.element} {self.kind}"


class KeptPerception(models.Model):
    """One of a stakeholder's last two named perceptions among their PMO's kept closed surveys
    (agenda/figures/responses.py, keep_perceptions): the at-risk rule adds the responses to
    other surveys, the open ones, and takes the last two, without ranking every response."""

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="+")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField()
    perception_rating = models.FloatField()

    def __str__(self):
        return f"{self.stakeholder_id}: {self.perception_rating}"
