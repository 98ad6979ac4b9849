from datetime import timedelta

import django_filters
from django import forms
from django.core.validators import EMPTY_VALUES
from django.db.models import F

from pmo5p.models import Membership
from stakeholders.models import LEVEL_CHOICES, Segment, Stakeholder
from stakeholders.selectors import search


class StableOrderingFilter(django_filters.OrderingFilter):
    """Orders as asked, then by name and id: rows that tie keep one order from page to page."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value in EMPTY_VALUES:
            return qs
        return qs.order_by(*qs.query.order_by, "name", "pk")


# Touches due within this many days: "due soon" on the register.
DUE_SOON_DAYS = 14


class EngagementOrderingFilter(StableOrderingFilter):
    """The register's orders, with the engagement plan's (stakeholders/engagement.py's
    annotations) in the direction that helps: the largest gap first, the stakeholder touched
    longest ago (or never) first, the earliest touch due first. The not-assessed come last."""

    EXPRESSIONS = {
        "gap": F("gap").desc(nulls_last=True),
        "-gap": F("gap").asc(nulls_last=True),
        "last_touched": F("last_touched_on").asc(nulls_first=True),
        "-last_touched": F("last_touched_on").desc(nulls_last=True),
    }
    LABELS = {
        "gap": "Gap to target, largest first",
        "-gap": "Gap to target, smallest first",
        "last_touched": "Last touched, longest ago first",
        "-last_touched": "Last touched, latest first",
        "touch_due": "Touch due, earliest first",
        "-touch_due": "Touch due, latest first",
    }

    def build_choices(self, fields, labels):
        return [(value, self.LABELS.get(value, label)) for value, label in super().build_choices(fields, labels)]

    def get_ordering_value(self, param):
        if param in self.EXPRESSIONS:
            return self.EXPRESSIONS[param]
        return super().get_ordering_value(param)


class StakeholderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name, e-mail, job title or unit", "type": "search"}),
    )
    segment = django_filters.ModelChoiceFilter(queryset=Segment.objects.none(), empty_label="All segments")
    owner = django_filters.ModelChoiceFilter(
        queryset=Membership.objects.none(), label="Owner", empty_label="All owners"
    )
    influence = django_filters.ChoiceFilter(choices=LEVEL_CHOICES, empty_label="Any influence")
    interest = django_filters.ChoiceFilter(choices=LEVEL_CHOICES, empty_label="Any interest")
    active = django_filters.ChoiceFilter(
        field_name="is_active",
        choices=[("true", "Active"), ("false", "Inactive")],
        empty_label="All",
        method="filter_active",
        label="Status",
    )
    gap = django_filters.ChoiceFilter(
        choices=[("below", "Below target"), ("reached", "At or above target"), ("not_assessed", "Not assessed")],
        empty_label="Any gap",
        method="filter_gap",
        label="Gap to target",
    )
    touch = django_filters.ChoiceFilter(
        choices=[("overdue", "Overdue"), ("due_soon", f"Due in the next {DUE_SOON_DAYS} days")],
        empty_label="Any",
        method="filter_touch",
        label="Touch",
    )
    sort = EngagementOrderingFilter(
        fields=[
            ("name", "name"),
            ("segment__name", "segment"),
            ("influence", "influence"),
            ("interest", "interest"),
            ("updated_at", "updated"),
            ("gap", "gap"),
            ("last_touched_on", "last_touched"),
            ("touch_due_on", "touch_due"),
        ],
        field_labels={
            "name": "Name",
            "segment__name": "Segment",
            "influence": "Influence",
            "interest": "Interest",
            "updated_at": "Last updated",
        },
        empty_label="Name",
        label="Sort by",
    )

    class Meta:
        model = Stakeholder
        fields = []

    def __init__(self, data=None, *args, pmo, today, **kwargs):
        """`queryset` is read through stakeholders.engagement.with_engagement; `today` is the PMO's."""
        self.today = today
        super().__init__(data, *args, **kwargs)
        self.filters["segment"].queryset = pmo.segments.all()
        self.filters["owner"].queryset = pmo.memberships.select_related("user").order_by("user__name")
        self.form.fields["owner"].label_from_instance = lambda membership: str(membership.user)

    def search(self, queryset, name, value):
        return search(queryset, value)

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=(value == "true"))

    def filter_gap(self, queryset, name, value):
        return {
            "below": queryset.filter(gap__gt=0),
            "reached": queryset.filter(gap__lte=0),
            "not_assessed": queryset.filter(gap__isnull=True),
        }[value]

    def filter_touch(self, queryset, name, value):
        if value == "overdue":
            return queryset.filter(touch_due_on__lt=self.today)
        return queryset.filter(
            touch_due_on__gte=self.today, touch_due_on__lte=self.today + timedelta(days=DUE_SOON_DAYS)
        )
