from datetime import time

import time_machine
from django.urls import reverse

from agenda.models import ReportSchedule
from agenda.reports.services import reschedule


@time_machine.travel("2026-11-25 12:00:00+00:00", tick=False)
def test_changing_the_pmo_time_zone_moves_the_next_report_to_the_same_local_time(world, client_for):
    schedule = ReportSchedule(pmo=world.pmo, frequency="monthly", day_of_month=1, send_at=time(8, 0))
    reschedule(schedule)
    schedule.save()
    assert schedule.next_run_at.isoformat() == "2026-12-01T08:00:00+00:00"  # London is on UTC in December

    response = client_for(world.lead).post(
        reverse("pmo_settings", kwargs={"slug": world.pmo.slug}),
        {
            "name": world.pmo.name,
            "time_zone": "Asia/Kolkata",
            "currency": "GBP",
            "survey_fatigue_days": 90,
            "follow_up_working_days": 5,
        },
    )
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.next_run_at.isoformat() == "2026-12-01T02:30:00+00:00"  # 08:00 in Kolkata, UTC+05:30
