"""Keeping the report schedule and the members' weekly digests in step with their PMO, and the
calendar feed with its owner's password.

A receiver, not a call from the PMO settings view: pmo5p sits below agenda and does
not know that reports exist.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from agenda.models import CalendarFeed, ReportSchedule
from agenda.reports.services import reschedule
from pmo5p.models import Pmo, User
from pmo5p.services import follow_time_zone_with_digests


@receiver(post_save, sender=Pmo)
def follow_time_zone(sender, instance: Pmo, created: bool, **kwargs):
    """The next run and each member's next digest are stored in UTC: a new time zone moves
    them to the same local time."""
    if created:
        return
    schedule = ReportSchedule.objects.select_related("pmo").filter(pmo=instance, is_active=True).first()
    if schedule is not None:
        reschedule(schedule)
        schedule.save(update_fields=["next_run_at", "updated_at"])
    follow_time_zone_with_digests(instance)


@receiver(post_save, sender=User)
def revoke_calendar_feed_with_the_password(sender, instance: User, created: bool, **kwargs):
    """A new password ends the calendar feed's address as it ends API tokens (User.save): an
    address read off a taken-over account must not outlive its recovery. Django keeps the new
    password in `_password` until after post_save."""
    if not created and getattr(instance, "_password", None) is not None:
        CalendarFeed.objects.filter(user=instance, revoked_at__isnull=True).update(revoked_at=timezone.now())
