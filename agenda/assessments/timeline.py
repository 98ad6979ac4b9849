from agenda.models import MaturityRecord
from stakeholders.timeline import Entry


def maturity_entries(stakeholder, limit: int) -> list[Entry]:
    records = (
        MaturityRecord.objects.filter(stakeholder=stakeholder)
        .select_related("author")
        .order_by("-recorded_on", "-created_at", "-pk")[:limit]
    )
    return [
        Entry(
            on=record.recorded_on,
            kind="maturity",
            title=f"Maturity: {record.get_stage_display()}",
            detail=record.rationale + (f" ({record.author})" if record.author else ""),
            badge=record.get_stage_display(),
        )
        for record in records
    ]
