""" "You said, we did" (issue 14, docs/follow-up.md): the update a lead writes after a survey
closes, sent once to everyone invited, and kept with the survey.

Whoever unsubscribes is kept on their stakeholder (Stakeholder.updates_unsubscribed_at),
not per survey: one click stops every later update.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from pmo5p.models import Pmo

from .surveys import Survey


class SurveyUpdate(models.Model):
    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="survey_updates")
    # One update per survey: a second send is refused, and the database says so too.
    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="update")
    subject = models.CharField(max_length=150)
    # Plain text: prefilled per P with the figures shown (groups of the minimum group size
    # and more) and the agenda actions adopted since, then edited by the lead.
    body = models.TextField(max_length=10000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Set in the transaction that queues its e-mails: from then on it is the archive, unchanged.
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # How many e-mails were queued, and how many invited were left out (unsubscribed).
    recipients = models.PositiveIntegerField(default=0, editable=False)
    unsubscribed = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None
