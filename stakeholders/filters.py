import django_filters
from django import forms
from django.core.validators import EMPTY_VALUES

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
    sort = StableOrderingFilter(
        fields=[
            ("name", "name"),
            ("segment__name", "segment"),
            ("influence", "influence"),
            ("interest", "interest"),
            ("updated_at", "updated"),
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

    def __init__(self, data=None, *args, pmo, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["segment"].queryset = pmo.segments.all()
        self.filters["owner"].queryset = pmo.memberships.select_related("user").order_by("user__name")
        self.form.fields["owner"].label_from_instance = lambda membership: str(membership.user)

    def search(self, queryset, name, value):
        return search(queryset, value)

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=(value == "true"))
