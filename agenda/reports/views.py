"""The report schedule, the archive of reports, and their deliveries."""

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from agenda.models import AgendaReport, DeliveryStatus, ReportSchedule
from agenda.models.reports import ReportStatus
from agenda.reports import services as reports
from agenda.reports.forms import ScheduleForm
from agenda.tasks import build_report
from pmo5p.models import Membership, Role
from pmo5p.tenancy import pmo_view


@pmo_view(role=Role.VIEWER, write_role=Role.LEAD)
def report_schedule(request, pmo):
    schedule = ReportSchedule.objects.filter(pmo=pmo).first()
    form = ScheduleForm(request.POST or None, instance=schedule, pmo=pmo) if request.membership.is_lead else None
    if form is not None and request.method == "POST" and form.is_valid():
        schedule = reports.save_schedule(pmo, form.save(commit=False), form.cleaned_data["recipients"])
        messages.success(
            request, "Report schedule saved." + (f" {form.day_note}" if getattr(form, "day_note", "") else "")
        )
        return redirect("report_schedule", slug=pmo.slug)
    recipients = pmo.memberships.filter(receives_reports=True).select_related("user").order_by("user__name")
    return render(
        request,
        "agenda/report_schedule.html",
        {"pmo": pmo, "schedule": schedule, "form": form, "recipients": recipients},
    )


# Subscribing is a personal choice, not a change to the PMO's data: every role may do it.
@pmo_view(role=Role.VIEWER, write_role=Role.VIEWER)
@require_POST
def report_subscription(request, pmo):
    subscribe = request.POST.get("subscribe") == "true"
    Membership.objects.filter(pk=request.membership.pk).update(receives_reports=subscribe)
    if subscribe:
        messages.success(request, f"You will receive {pmo.name}'s agenda report.")
    else:
        messages.success(request, f"You will no longer receive {pmo.name}'s agenda report.")
    return redirect("report_schedule", slug=pmo.slug)


@pmo_view()
@require_GET
def report_list(request, pmo):
    archive = (
        AgendaReport.objects.filter(pmo=pmo)
        .defer("html", "text", "pdf", "figures")
        .annotate(
            sent=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)),
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
            recipients=Count("deliveries"),
        )
        .order_by("-period_end", "-created_at")[:100]
    )
    return render(
        request,
        "agenda/report_list.html",
        {"pmo": pmo, "reports": archive, "schedule": ReportSchedule.objects.filter(pmo=pmo).first()},
    )


@pmo_view(role=Role.MEMBER)
@require_POST
def report_send_now(request, pmo):
    if not pmo.memberships.filter(receives_reports=True, user__is_active=True).exists():
        messages.error(request, "Nobody receives the report yet: a lead chooses the recipients on the schedule page.")
        return redirect("report_list", slug=pmo.slug)
    report, created = reports.request_now(pmo, request.user)
    if created:
        build_report.delay_on_commit(report.pk)
        messages.success(
            request, "The report of the period to date is being built and sent; it appears below in a moment."
        )
    else:
        messages.info(
            request, "Today's report of this period exists already: it is below. Resend a delivery from it if needed."
        )
    return redirect("report_detail", slug=pmo.slug, report_id=report.pk)


@pmo_view()
@require_GET
def report_detail(request, pmo, report_id):
    report = get_object_or_404(AgendaReport.objects.filter(pmo=pmo).defer("html", "text", "pdf"), pk=report_id)
    deliveries = report.deliveries.select_related("user").order_by("email")
    return render(
        request,
        "agenda/report_detail.html",
        {"pmo": pmo, "report": report, "deliveries": deliveries, "summary": reports.delivery_summary(report)},
    )


# The stored report is the e-mail's HTML, styled inline. The report's page shows it in a
# frame of its own, sandboxed twice (the iframe's sandbox="" and this response's CSP
# sandbox, which also holds if the URL is opened directly): no script, no form, no
# origin, nothing loaded but its inline styles. So the page itself keeps the strict
# policy, and the frame shows the very snapshot that was sent. Rendering the report
# again from its figures would put inline styles back on the page, and show today's
# template rather than what the recipients got.
@csp(
    {
        "default-src": [NONE],
        "style-src": [UNSAFE_INLINE],
        "base-uri": [NONE],
        "form-action": [NONE],
        "frame-ancestors": [SELF],
        "sandbox": True,
    }
)
@xframe_options_sameorigin  # this response only: framed by the report's page
@pmo_view()
@require_GET
def report_frame(request, pmo, report_id):
    report = get_object_or_404(
        AgendaReport.objects.filter(pmo=pmo, status=ReportStatus.READY).only("pk", "html"), pk=report_id
    )
    return HttpResponse(render_to_string("agenda/reports/frame.html", {"pmo": pmo, "report": report}))


@pmo_view()
@require_GET
def report_pdf(request, pmo, report_id):
    report = get_object_or_404(AgendaReport.objects.filter(pmo=pmo, status=ReportStatus.READY), pk=report_id)
    if not report.pdf:
        raise Http404("This report has no PDF.")
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="agenda-report-{pmo.slug}-{report.last_day.isoformat()}.pdf"'
    return response


@pmo_view(role=Role.MEMBER)
@require_POST
def delivery_resend(request, pmo, report_id, delivery_id):
    report = get_object_or_404(AgendaReport.objects.filter(pmo=pmo).defer("pdf"), pk=report_id)
    delivery = get_object_or_404(report.deliveries, pk=delivery_id)
    if delivery.status == DeliveryStatus.SENT:
        messages.error(request, f"The report was delivered to {delivery.email} already.")
    elif reports.resend(delivery):
        messages.success(request, f"Sending the report to {delivery.email} again.")
    else:
        messages.info(request, f"The report to {delivery.email} is queued already: it goes out in a moment.")
    return redirect("report_detail", slug=pmo.slug, report_id=report.pk)
