"""The Relationship Marketing Agenda report: claiming due schedules, building each
report once as a snapshot, and delivering it once per recipient.

Exactly once, and what it rests on:
- one AgendaReport per (PMO, kind, period) and one ReportDelivery per (report,
  recipient), both unique constraints, so a second beat, a retry or a restart
  finds the row that is there instead of making another;
- a due schedule is claimed under FOR UPDATE SKIP LOCKED and moved to its next run
  in the same transaction as its report is created;
- each delivery is one outbox row, queued in the transaction that makes it and sent
  by the outbox (pmo5p/outbox.py): at least once, with the delivery's Message-ID on
  every attempt (README, "E-mail: what is guaranteed").
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from agenda.figures import elements, engagement, follow_up, history, relationships
from agenda.figures import services as service_figures
from agenda.figures import survey as survey_figures
from agenda.models import (
    Action,
    ActionStatus,
    AgendaReport,
    DeliveryStatus,
    Frequency,
    Incident,
    MaturityRecord,
    ReportDelivery,
    ReportKind,
    ReportSchedule,
)
from agenda.models.plan import OPEN_STATUSES
from agenda.models.reports import ReportStatus
from agenda.plan import suggestions
from agenda.reports import charts, pdf, periods
from agenda.reports import snapshot as rf
from pmo5p import outbox
from pmo5p.domain import MaturityStage
from pmo5p.models import OutgoingEmail

logger = logging.getLogger(__name__)

# A schedule whose run failed is tried again this much later.
SCHEDULE_RETRY = timedelta(hours=1)


# Scheduling -----------------------------------------------------------------------------


def reschedule(schedule: ReportSchedule, *, now=None) -> None:
    """Set the next run from now; an inactive schedule has none."""
    now = now or timezone.now()
    schedule.next_run_at = periods.next_run_at(schedule, now) if schedule.is_active else None


@transaction.atomic
def save_schedule(pmo, schedule: ReportSchedule, recipients) -> ReportSchedule:
    """Save a lead's schedule (from the form, unsaved) with its next run, and make exactly
    `recipients` (members of the PMO) the ones who receive the report."""
    schedule.pmo = pmo
    reschedule(schedule)
    schedule.save()
    chosen = {m.pk for m in recipients}
    pmo.memberships.filter(pk__in=chosen).update(receives_reports=True)
    pmo.memberships.exclude(pk__in=chosen).update(receives_reports=False)
    return schedule


def claim_due_schedules(*, now=None) -> list[int]:
    """Create the report of every due schedule, once; return the new reports' ids.

    Each schedule is claimed under FOR UPDATE SKIP LOCKED, so two dispatchers at
    once take different schedules, and its next run moves forward in the same
    transaction as its report is created. If the report of that period exists
    already (a rerun), the unique constraint keeps it single and nothing is added.
    After downtime it makes one report, of the first missed run (docs/operations.md,
    "Which period a report covers"). A schedule that fails is recorded and tried again
    later; it does not hold up the others.
    """
    now = now or timezone.now()
    created: list[int] = []
    while True:
        claimed = None
        try:
            with transaction.atomic():
                schedule = (
                    ReportSchedule.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("pmo")
                    .filter(is_active=True, next_run_at__lte=now)
                    .order_by("next_run_at")
                    .first()
                )
                if schedule is None:
                    return created
                claimed = schedule.pk
                run_date = periods.local_run_date(schedule, schedule.next_run_at)
                start, end = periods.period_ending(schedule, run_date)
                report, made = _get_or_create_report(schedule.pmo, ReportKind.SCHEDULED, schedule.frequency, start, end)
                schedule.last_run_at = now
                schedule.failure_count = 0
                schedule.last_error = ""
                reschedule(schedule, now=now)
                schedule.save(update_fields=["last_run_at", "next_run_at", "failure_count", "last_error", "updated_at"])
        except Exception as error:
            if claimed is None:
                raise
            logger.exception("Report schedule %s could not be run", claimed)
            ReportSchedule.objects.filter(pk=claimed).update(
                failure_count=F("failure_count") + 1,
                last_error=f"{type(error).__name__}: {error}"[:1000],
                next_run_at=now + SCHEDULE_RETRY,
                updated_at=now,
            )
            continue
        if made:
            created.append(report.pk)


def _get_or_create_report(pmo, kind, frequency, start, end, requested_by=None) -> tuple[AgendaReport, bool]:
    try:
        with transaction.atomic():
            report = AgendaReport.objects.create(
                pmo=pmo, kind=kind, frequency=frequency, period_start=start, period_end=end, requested_by=requested_by
            )
            return report, True
    except IntegrityError:
        return AgendaReport.objects.get(pmo=pmo, kind=kind, period_start=start, period_end=end), False


def _anchors(schedule: ReportSchedule | None) -> tuple[str, int, int]:
    """The frequency, weekday and day of month periods follow: the schedule's, else calendar months."""
    if schedule is None:
        return Frequency.MONTHLY, 0, 1
    return schedule.frequency, schedule.weekday, schedule.day_of_month


def request_now(pmo, user, *, today=None) -> tuple[AgendaReport, bool]:
    """The report of the current period to date ("send now"), once a day at most."""
    schedule = ReportSchedule.objects.filter(pmo=pmo).first()
    frequency, weekday, day = _anchors(schedule)
    today = today or timezone.localdate()
    start, end = periods.period_to_date(frequency, today, weekday, day)
    return _get_or_create_report(pmo, ReportKind.ON_DEMAND, frequency, start, end, requested_by=user)


# Building ------------------------------------------------------------------------------


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def previous_report(report: AgendaReport) -> AgendaReport | None:
    return (
        AgendaReport.objects.filter(pmo=report.pmo, status=ReportStatus.READY, period_end__lte=report.period_start)
        .exclude(pk=report.pk)
        .defer("html", "text", "pdf")
        .order_by("-period_end", "-created_at")
        .first()
    )


def maturity_movement(pmo, start, end) -> dict:
    """Stakeholders whose current stage changed within the period, in one query."""

    def stage_before(day):
        latest = MaturityRecord.objects.filter(stakeholder=OuterRef("pk"), recorded_on__lt=day).order_by(
            "-recorded_on", "-created_at", "-pk"
        )
        return Subquery(latest.values("stage")[:1])

    moved = (
        pmo.stakeholders.filter(maturity_records__recorded_on__gte=start, maturity_records__recorded_on__lt=end)
        .distinct()
        .annotate(before=stage_before(start), after=stage_before(end))
        # Spelled out: NOT (before = after) is NULL, not true, for someone first judged
        # in the period, and would leave them out.
        .filter(Q(before__isnull=True) | Q(before__lt=F("after")) | Q(before__gt=F("after")))
        .order_by("name")
        .values("pk", "name", "before", "after")
    )
    up, down, movers = 0, 0, []
    for row in moved:
        if row["before"] is None or row["after"] > row["before"]:
            up += 1
        else:
            down += 1
        movers.append(
            {
                "id": row["pk"],
                "name": row["name"],
                "from": MaturityStage(row["before"]).label if row["before"] else "Not assessed",
                "to": MaturityStage(row["after"]).label,
            }
        )
    return {"up": up, "down": down, "movers": movers[:15], "more": max(0, len(movers) - 15)}


def _action_row(action: Action) -> rf.ActionRow:
    return rf.ActionRow(
        id=action.pk,
        title=action.title,
        element=action.get_element_display(),
        owner=str(action.owner.user) if action.owner else None,
        due_on=action.due_on.isoformat(),
        status=action.get_status_display(),
    )


def _survey_ref(survey_id, title, closed_at) -> rf.SurveyRef:
    return rf.SurveyRef(survey_id, title, timezone.localdate(closed_at).isoformat() if closed_at else None)


def engagement_figures(pmo, before: rf.ReportFigures | None) -> rf.EngagementFigures:
    """The engagement index as of today (the PMO's), by segment, the relationships furthest
    below target, and its change since the previous report's stored index. Two queries."""
    today = timezone.localdate()
    by_segment = engagement.engagement_by_segment(pmo, today=today)
    counts = engagement.total_of(by_segment)
    drifted = engagement.drifted(pmo, today=today, limit=engagement.DRIFTED_SHOWN)
    found = rf.EngagementFigures(
        reached=counts.reached,
        below=counts.below,
        not_assessed=counts.not_assessed,
        total=counts.total,
        index=counts.index,
        segments=[
            rf.EngagementSegment(
                row.segment_id,
                row.name,
                row.counts.reached,
                row.counts.below,
                row.counts.not_assessed,
                row.counts.total,
                row.counts.index,
            )
            for row in by_segment
        ],
        drifted=[
            rf.DriftedRow(
                id=s.pk,
                name=s.name,
                influence=s.influence,
                stage=s.engagement.current_stage.label,
                target=s.engagement.target.label,
                gap=s.gap,
                segment=s.segment.name if s.segment else None,
            )
            for s in drifted.stakeholders
        ],
        drifted_count=drifted.count,
    )
    if before is None:
        found.compared_with = "first"
    elif before.engagement is None:
        found.compared_with = "not_measured"
    else:
        found.compared_with = "report"
        found.previous_index = before.engagement.index
        if found.index is not None and found.previous_index is not None:
            found.change = found.index - found.previous_index
    return found


def follow_up_figures(pmo, start, end, as_of) -> rf.FollowUpFigures:
    """The follow-up of the cases opened in the period, the cases open as of `as_of`, and the
    pulses sent in the period (agenda/figures/follow_up.py). Three queries."""
    found = follow_up.follow_up_figures(pmo, follow_up.Period(start, end), today=as_of)
    first, outcomes, pulses = found.first_contact, found.outcomes, found.pulses
    return rf.FollowUpFigures(
        as_of=as_of.isoformat(),
        working_days=pmo.follow_up_working_days,
        opened=outcomes.opened,
        contacted=first.contacted,
        median_days=first.median_days,
        within_due=first.within_due,
        within_due_share=first.within_due_share,
        resolved=outcomes.resolved,
        closed=outcomes.closed,
        resolved_share=outcomes.resolved_share,
        open=found.open.open,
        overdue=found.open.overdue,
        escalated=found.open.escalated,
        pulses_sent=pulses.sent,
        pulses_answered=pulses.answered,
        pulses_compared=pulses.compared,
        before=pulses.before,
        after=pulses.after,
        change=pulses.change,
    )


def build_figures(report: AgendaReport) -> rf.ReportFigures:
    """Everything the report says, unrounded (the templates round), in a fixed number of queries."""
    pmo = report.pmo
    start, end = report.period_start, report.period_end
    survey = survey_figures.default_survey(pmo)
    previous = previous_report(report)
    before = rf.load(previous.figures, currency=pmo.currency) if previous else None
    suggested_before = {s.key for s in before.suggestions} if before else set()

    # As of the run date for a scheduled report, as of the day asked for one sent on
    # demand; "due next" runs up to the next run date after that.
    as_of = end if report.kind == ReportKind.SCHEDULED else end - timedelta(days=1)
    _frequency, weekday, day = _anchors(ReportSchedule.objects.filter(pmo=pmo).first())
    next_end = periods.following_run_date(report.frequency, weekday, day, as_of)
    figures = rf.ReportFigures(
        pmo=pmo.name,
        period=rf.Period(start.isoformat(), end.isoformat(), (end - timedelta(days=1)).isoformat()),
        frequency=report.frequency,
        currency=pmo.currency,
        previous_report=previous.pk if previous else None,
        actions=rf.Actions(as_of=as_of.isoformat(), next_period_end=(next_end - timedelta(days=1)).isoformat()),
    )
    rows = None
    if survey:
        rows = elements.element_insights(pmo, survey)
        participation = survey_figures.participation(survey)
        nps = survey_figures.nps(survey_figures.survey_responses(survey))
        figures.survey = rf.SurveyFigures(
            id=survey.pk,
            title=survey.title,
            closed_at=timezone.localdate(survey.closed_at).isoformat() if survey.closed_at else None,
            responses=participation.responses,
            sent=participation.sent,
            response_rate=participation.response_rate,
            nps=nps.score,
            promoters=nps.promoters,
            passives=nps.passives,
            detractors=nps.detractors,
        )
        earlier = history.earlier_perceptions(pmo, survey)
        for row in rows:
            was = earlier.get(row.element)
            compared = row.perception is not None and was is not None
            figures.elements.append(
                rf.ElementRow(
                    element=row.element.value,
                    label=row.element.label,
                    aim=row.element.aim,
                    perception=row.perception,
                    importance=row.importance,
                    self_score=row.self_score,
                    gap=row.gap,
                    quadrant=row.quadrant.label if row.quadrant else None,
                    priority=row.priority,
                    change=row.perception - was.perception if compared else None,
                    compared_with=_survey_ref(was.survey_id, was.title, was.closed_at) if compared else None,
                )
            )
        refs = [row.compared_with for row in figures.elements if row.compared_with]
        # The latest survey compared with is named in the column's heading; an element
        # compared with an older one (too few answers in the latest) says so in its row.
        figures.previous_survey = max(refs, key=lambda ref: (ref.closed_at or "", ref.id), default=None)
        for row in elements.ranked_by_priority(rows)[:3]:
            if row.priority is None:
                continue
            figures.focus.append(
                rf.FocusRow(
                    element=row.element.value,
                    label=row.element.label,
                    aim=row.element.aim,
                    quadrant=row.quadrant.label,
                    advice=row.quadrant.advice,
                    priority=row.priority,
                    perception=row.perception,
                    importance=row.importance,
                )
            )

    # The catalogue's figures, read once for the services to work on and the suggestions.
    catalogue = service_figures.catalogue_figures(pmo)
    figures.services = [
        rf.ServiceFocusRow(
            id=focus.service.pk,
            name=focus.service.name,
            quadrant=focus.figures.quadrant.label,
            advice=focus.advice,
            why=focus.why,
            priority=focus.figures.priority,
            satisfaction=focus.figures.satisfaction,
            importance=focus.figures.importance,
            awareness=focus.figures.awareness,
            usage=focus.figures.usage,
            answered=focus.figures.answered,
        )
        for focus in service_figures.services_to_work_on(pmo, catalogue)
    ]

    moved = maturity_movement(pmo, start, end)
    distribution = relationships.maturity_distribution(pmo.stakeholders.filter(is_active=True))
    figures.maturity = rf.Maturity(
        up=moved["up"],
        down=moved["down"],
        movers=[rf.Mover(m["id"], m["name"], m["from"], m["to"]) for m in moved["movers"]],
        more=moved["more"],
        distribution=[
            rf.StageCount(MaturityStage(k).label if k else "Not assessed", v) for k, v in distribution.items()
        ],
    )
    figures.engagement = engagement_figures(pmo, before)
    figures.follow_up = follow_up_figures(pmo, start, end, as_of)
    at_risk = relationships.at_risk_stakeholders(pmo)
    figures.at_risk = [rf.AtRiskRow(item.stakeholder.pk, item.stakeholder.name, item.reasons) for item in at_risk]

    incidents = Incident.objects.filter(pmo=pmo, occurred_on__gte=start, occurred_on__lt=end)
    totals = incidents.aggregate(count=Count("id"), cost=Sum("estimated_cost"), days=Sum("days_lost"))
    figures.incidents = rf.Incidents(
        count=totals["count"],
        cost=_money(totals["cost"]),
        days=_money(totals["days"]),
        items=[
            rf.IncidentRow(
                title=i.title,
                problem=i.get_problem_display(),
                date=i.occurred_on.isoformat(),
                cost=_money(i.estimated_cost),
                days=_money(i.days_lost),
            )
            for i in incidents.order_by("occurred_on")[:20]
        ],
    )

    actions = Action.objects.filter(pmo=pmo).select_related("owner__user")
    figures.actions.done = [
        _action_row(a)
        for a in actions.filter(status=ActionStatus.DONE, completed_at__date__gte=start, completed_at__date__lt=end)
    ]
    figures.actions.overdue = [_action_row(a) for a in actions.filter(status__in=OPEN_STATUSES, due_on__lt=as_of)]
    figures.actions.due_next = [
        _action_row(a) for a in actions.filter(status__in=OPEN_STATUSES, due_on__gte=as_of, due_on__lt=next_end)
    ]
    figures.suggestions = [
        rf.SuggestionRow(
            key=s.key,
            title=s.title,
            element=s.element.label,
            why=s.why,
            new=previous is None or s.key not in suggested_before,
        )
        for s in suggestions.suggestions(pmo, survey, element_rows=rows, at_risk=at_risk, services=catalogue)[:5]
    ]
    return figures


def figures_of(report: AgendaReport) -> rf.ReportFigures:
    """A stored report's figures, whatever schema version they were stored in."""
    return rf.load(report.figures, currency=report.pmo.currency)


def render(report: AgendaReport) -> tuple[str, str]:
    """The report's HTML content (shared by the archive, the e-mail and the PDF) and its text."""
    f = figures_of(report)
    context = {"report": report, "f": f, "chart": charts.five_ps_svg(f.elements), "site_url": settings.SITE_URL}
    return (
        render_to_string("agenda/reports/content.html", context),
        render_to_string("agenda/reports/content.txt", context),
    )


def render_pdf(report: AgendaReport) -> bytes:
    """The PDF of the report's HTML, drawn in a fenced child process (agenda/reports/pdf.py)."""
    document = render_to_string("agenda/reports/pdf.html", {"report": report, "content": report.html})
    return pdf.build(document)


def build(report_id: int) -> AgendaReport | None:
    """Build a report's snapshot once, and make its deliveries (each queued in the outbox) in
    the same transaction that marks it ready: a report is never ready without them, and a
    failure anywhere leaves it building, to be retried or found by the stale scan. A report
    built already, or given up as failed, is left as it is. The ids of the deliveries this
    call made are in the report's `made_deliveries` (none for a report built already)."""
    with transaction.atomic():
        report = AgendaReport.objects.select_for_update(of=("self",)).select_related("pmo").filter(pk=report_id).first()
        if report is None:
            return None
        report.made_deliveries = []
        if report.status != ReportStatus.BUILDING:
            return report
        pdf.prepare()  # a worker's first report: the PDF renderer starts while the figures are read
        with timezone.override(report.pmo.time_zone):
            report.figures = rf.dump(build_figures(report))
            report.html, report.text = render(report)
            report.pdf = render_pdf(report)
        report.status = ReportStatus.READY
        report.built_at = timezone.now()
        report.build_error = ""
        report.save()
        report.made_deliveries = create_deliveries(report)
    return report


def create_deliveries(report: AgendaReport) -> list[int]:
    """One delivery per subscribed member, each queued in the outbox in the transaction that
    makes it: a rerun finds it made (the unique constraint) and queues nothing more.
    build() calls it as it marks the report ready. Returns the new deliveries' ids."""
    recipients = report.pmo.memberships.filter(receives_reports=True, user__is_active=True).select_related("user")
    created = []
    for membership in recipients:
        try:
            with transaction.atomic():
                delivery = ReportDelivery.objects.create(
                    report=report, user=membership.user, email=membership.user.email.lower()
                )
                queue_delivery(delivery)
        except IntegrityError:
            continue  # made by an earlier run
        created.append(delivery.pk)
    return created


# Sending: through the outbox (pmo5p/outbox.py) -------------------------------------------------


def queue_delivery(delivery: ReportDelivery) -> OutgoingEmail:
    report = delivery.report
    context = {"report": report, "content": report.html, "delivery": delivery}
    return outbox.queue(
        OutgoingEmail.Kind.REPORT,
        [delivery.email],
        "agenda-report",
        context,
        pmo=report.pmo,
        source=delivery,
        message_id=delivery.message_id,
    )


def _delivery(email: OutgoingEmail) -> ReportDelivery | None:
    return ReportDelivery.objects.select_related("report__pmo").filter(pk=email.source_id).first()


def _pdf(email: OutgoingEmail) -> list[tuple[str, bytes, str]]:
    """The report's PDF, read from the report when the e-mail is sent (not copied per e-mail)."""
    report = _delivery(email).report
    return [
        (f"agenda-report-{report.pmo.slug}-{report.last_day.isoformat()}.pdf", bytes(report.pdf), "application/pdf")
    ]


def _check(email: OutgoingEmail) -> str | None:
    return None if ReportDelivery.objects.filter(pk=email.source_id).exists() else OutgoingEmail.Status.CANCELLED


def _record(email: OutgoingEmail) -> None:
    """The delivery shows its e-mail's state, copied in the same transaction as each change."""
    shown = {OutgoingEmail.Status.SENT: DeliveryStatus.SENT, OutgoingEmail.Status.FAILED: DeliveryStatus.FAILED}
    ReportDelivery.objects.filter(pk=email.source_id).update(
        status=shown.get(email.status, DeliveryStatus.PENDING),
        attempts=email.attempts,
        last_error=email.last_error,
        sent_at=email.sent_at,
    )


outbox.register(OutgoingEmail.Kind.REPORT, attachments=_pdf, check=_check, record=_record)


def delivery_email(delivery: ReportDelivery) -> OutgoingEmail | None:
    return outbox.for_source(delivery, OutgoingEmail.Kind.REPORT).first()


def resend(delivery: ReportDelivery) -> bool:
    """Send a failed or stuck delivery again, with its Message-ID; False if there is nothing to do."""
    email = delivery_email(delivery)
    if email is None:  # a delivery made before the outbox, and not sent
        queue_delivery(delivery)
        return True
    return outbox.send_again(email)


def delivery_summary(report: AgendaReport) -> dict:
    return report.deliveries.aggregate(
        sent=Count("id", filter=Q(status=DeliveryStatus.SENT)),
        pending=Count("id", filter=Q(status=DeliveryStatus.PENDING)),
        failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
    )
