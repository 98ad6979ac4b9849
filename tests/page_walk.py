"""Every page of the product as a browser first receives it, for checks on the HTML itself.

The routes and the world with data are tests/test_tenancy.py's (its URL walk fails on a
route it has no value for, so a new page shows up here too): each route is opened with GET
as the lead of the world, and the public pages as a visitor holding valid links — a member
invitation, a launched survey's link, a password-reset link — with sign-up switched on.
Used by tests/test_date_inputs.py and tests/test_form_coverage.py.
"""

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.test import override_settings

from tests.test_tenancy import PUBLIC, ROUTES, own_values, public_values, url_for


@dataclass
class Form:
    method: str
    action: str
    inputs: list[dict] = field(default_factory=list)
    submits: int = 0  # buttons that send it: a form without one (the survey preview's) is only shown


class _PageParser(HTMLParser):
    """The page's forms with their inputs, its inputs, its element ids and what its labels point to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.inputs: list[dict] = []
        self.ids: Counter = Counter()
        self.label_targets: list[str] = []
        self._open: Form | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if "id" in attrs:
            self.ids[attrs["id"]] += 1
        if tag == "label" and attrs.get("for"):
            self.label_targets.append(attrs["for"])
        if tag == "form":
            self._open = Form(method=attrs.get("method", "get").lower(), action=attrs.get("action", ""))
            self.forms.append(self._open)
        elif tag == "input":
            self.inputs.append(attrs)
            if self._open is not None:
                self._open.inputs.append(attrs)
        if self._open is not None and (
            (tag == "button" and attrs.get("type", "submit") == "submit")
            or (tag == "input" and attrs.get("type") in ("submit", "image"))
        ):
            self._open.submits += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


@dataclass
class RenderedPage:
    name: str  # the URL name the walk opened
    path: str  # where the browser ends up, after redirects
    status: int
    html: str | None  # None for a file (CSV, PDF, zip...)

    def __post_init__(self):
        parser = _PageParser()
        if self.html is not None:
            parser.feed(self.html)
        self.forms = parser.forms
        self.inputs = parser.inputs
        self.ids = parser.ids
        self.label_targets = parser.label_targets

    def post_forms(self) -> list[Form]:
        """The forms a user can send with POST."""
        return [form for form in self.forms if form.method == "post" and form.submits]


def parse(response) -> RenderedPage:
    """The page a test-client response shows (for a page not reached through the walk)."""
    return _rendered("", response)


def _rendered(name, response) -> RenderedPage:
    is_html = response.get("Content-Type", "").startswith("text/html")
    html = response.content.decode() if is_html and not response.streaming else None
    return RenderedPage(name=name, path=response.wsgi_request.path, status=response.status_code, html=html)


def walk(client, world, invitation) -> list[RenderedPage]:
    """GET every route of the tenancy walk: as the lead, then the public pages as a visitor."""
    values = own_values(world, invitation)
    links = public_values(world)
    pages = []
    client.force_login(world.lead)
    for name, kwargs in ROUTES:
        if name not in PUBLIC:
            pages.append(_rendered(name, client.get(url_for(name, kwargs, values))))
    client.logout()
    with override_settings(SIGNUP_ENABLED=True):
        for name, kwargs in ROUTES:
            if name in PUBLIC:
                link = links.get(name, {})
                assert kwargs <= link.keys(), f"Public page {name!r}: give it a valid link in public_values()."
                # A reset link swaps its token for a session and redirects: follow, as a browser does.
                response = client.get(url_for(name, kwargs, link), follow=True)
                pages.append(_rendered(name, response))
    return pages


def action_path(page: RenderedPage, form: Form) -> str:
    """The path a form posts to: its action, or the page's own URL when it has none."""
    return urlsplit(form.action).path or page.path
