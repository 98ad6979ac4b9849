"""Every date and time input the product renders holds a value a browser accepts.

A browser reads an `<input type="date">` only as yyyy-mm-dd (time: hh:mm, datetime-local:
yyyy-mm-ddThh:mm) and shows anything else as an empty field, which then posts nothing: the
self-assessment form rendered today's date as 26/11/2026 (LANGUAGE_CODE en-gb) and could
not be saved in a browser, while the test client, posting the value back as text, saw
nothing wrong. pmo5p/widgets.py owns the format; these tests hold every form to it.
"""

import importlib
import pkgutil
import re
from datetime import timedelta

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from pmo5p import widgets
from tests.page_walk import parse, walk
from tests.test_tenancy import ROUTES, own_values, url_for
from tests.test_tenancy import invitation as tenancy_rows  # noqa: F401 - a fixture, once imported here


@pytest.fixture
def walk_invitation(request):
    """The tenancy walk's rows in the world (an action, an incident, a survey, a report...)."""
    return request.getfixturevalue("tenancy_rows")


BROWSER_FORMATS = {
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "time": re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$"),
    "datetime-local": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$"),
}
PROJECT_APPS = ("pmo5p", "agenda", "stakeholders")


def bad_values(page) -> list[str]:
    """The date and time inputs of the page whose value a browser would drop."""
    return [
        f"{attrs.get('name')}={attrs.get('value')!r} (type {attrs['type']})"
        for attrs in page.inputs
        if attrs.get("type") in BROWSER_FORMATS
        and attrs.get("value")
        and not BROWSER_FORMATS[attrs["type"]].match(attrs["value"])
    ]


def browser_value(page, name: str) -> str:
    """What a browser shows, and posts, for the named date or time input: its value, or
    nothing when it cannot read it."""
    (attrs,) = [a for a in page.inputs if a.get("name") == name]
    value = attrs.get("value", "")
    return value if BROWSER_FORMATS[attrs["type"]].match(value) else ""


def test_every_date_and_time_input_of_every_page_holds_a_value_the_browser_accepts(client, world, walk_invitation):
    pages = walk(client, world, walk_invitation)
    seen = {page.name for page in pages for attrs in page.inputs if attrs.get("type") in BROWSER_FORMATS}
    # The walk does reach the forms with dates and times (a guard against a walk that sees nothing).
    assert {"self_assessment_new", "maturity_new", "action_edit", "incident_edit", "report_schedule"} <= seen
    assert {"interaction_edit", "survey_edit"} <= seen
    problems = {page.name: bad_values(page) for page in pages if bad_values(page)}
    assert problems == {}, f"Date or time inputs a browser shows empty: {problems}"


def _project_forms():
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {cls for cls in subclasses(forms.BaseForm) if cls.__module__.startswith(PROJECT_APPS)}


def test_every_date_or_time_field_of_every_form_uses_the_project_widget():
    """A new form with Django's own DateInput (the locale's format, or type="text") fails here."""
    wanted = {forms.DateField: widgets.DateInput, forms.TimeField: widgets.TimeInput}
    found, wrong = [], []
    for form in _project_forms():
        for name, field in form.base_fields.items():
            if isinstance(field, forms.DateTimeField | forms.SplitDateTimeField):
                wrong.append(
                    f"{form.__module__}.{form.__name__}.{name}: add a datetime-local widget to pmo5p/widgets.py"
                )
                continue
            for field_class, widget in wanted.items():
                if isinstance(field, field_class):
                    found.append(name)
                    if not isinstance(field.widget, widget):
                        wrong.append(f"{form.__module__}.{form.__name__}.{name}: {type(field.widget).__name__}")
    assert {"assessed_on", "recorded_on", "due_on", "occurred_on", "send_at", "closes_on"} <= set(found)
    assert wrong == [], f"Date or time fields without pmo5p.widgets: {wrong}"


# A form re-shown with an error keeps the date or time the browser sent, in a form it takes.
# (URL name, the date or time field, data that makes the rest of the form invalid.)
INVALID_POSTS = [
    ("self_assessment_new", "assessed_on", {}),  # no ratings
    ("maturity_new", "recorded_on", {"stage": "", "rationale": ""}),
    ("action_create", "due_on", {"title": "", "element": "product", "status": "planned"}),
    ("action_edit", "due_on", {"title": "", "element": "product", "status": "planned"}),
    ("incident_create", "occurred_on", {"title": "", "problem": "performance"}),
    ("incident_edit", "occurred_on", {"title": "", "problem": "performance"}),
    ("report_schedule", "send_at", {"frequency": "monthly", "day_of_month": "1"}),  # nobody receives it
    ("interaction_create", "occurred_on", {"kind": "meeting", "summary": ""}),
    ("survey_create", "closes_on", {"title": "", "reminder_delay_days": "7"}),
]


@pytest.mark.parametrize(("name", "field", "data"), INVALID_POSTS, ids=[row[0] for row in INVALID_POSTS])
def test_a_form_shown_again_with_an_error_keeps_the_date_in_the_browsers_format(
    client,
    world,
    walk_invitation,
    name,
    field,
    data,
):
    client.force_login(world.lead)
    (kwargs,) = [kwargs for route, kwargs in ROUTES if route == name]
    url = url_for(name, kwargs, own_values(world, walk_invitation))
    shown = browser_value(parse(client.get(url)), field)
    assert shown, f"{name}: the browser shows {field} empty before anything is typed"
    response = client.post(url, {field: shown, **data})
    assert response.status_code == 200, f"{name}: expected the form again with its errors"
    again = parse(response)
    assert browser_value(again, field) == shown
    assert bad_values(again) == []


def test_a_typed_date_is_kept_as_typed_when_the_form_comes_back(client, world):
    """The value the browser sent (yyyy-mm-dd), not the locale's form of it."""
    client.force_login(world.member)
    typed = (timezone.localdate() - timedelta(days=3)).isoformat()
    response = client.post(reverse("self_assessment_new", kwargs={"slug": world.pmo.slug}), {"assessed_on": typed})
    assert "Rate Product from 1 (poor) to 5 (excellent)." in response.content.decode()
    assert browser_value(parse(response), "assessed_on") == typed
