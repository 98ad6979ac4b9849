"""`Cache-Control: no-store` on every response of the app (pmo5p.middleware.NoStoreMiddleware):
signed-in pages, exports and downloads, the API, the /s/ survey pages, the public sign-in
pages and the errors. Static files keep their cache headers.

The page and API routes are the tenancy walks' (tests/test_tenancy.py, tests/test_api_tenancy.py),
so a new route is checked as soon as it is routed.
"""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests import test_api_tenancy, test_tenancy
from tests.factories import UserFactory
from tests.survey_helpers import open_survey
from tests.test_api_tenancy import API_ROUTES, api_url, bearer
from tests.test_tenancy import PUBLIC, ROUTES, own_values, url_for

# The walks' fixtures: `invitation`, the rows every page needs; `own`, one of each API resource.
invitation = test_tenancy.invitation
own = test_api_tenancy.own


def assert_not_stored(response):
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    url = response.request["PATH_INFO"]
    assert {"no-store", "no-cache", "private", "max-age=0"} <= directives, f"{url}: {response.get('Cache-Control')!r}"


def _ids(routes):
    return [name for name, _ in routes]


def values(world, invitation):
    # The public links' tokens are unknown here: their refusal pages are checked.
    return {**own_values(world, invitation), "token": "unknown-token", "uidb64": "MQ"}


@pytest.mark.parametrize(("name", "kwargs"), ROUTES, ids=_ids(ROUTES))
def test_every_page_signed_in_is_not_stored(client, world, invitation, name, kwargs):
    """Every GET route as the lead: pages, CSV/XLSX exports, the full export, report PDFs."""
    client.force_login(world.lead)
    response = client.get(url_for(name, kwargs, values(world, invitation)))
    assert response.status_code < 500
    assert_not_stored(response)


PUBLIC_ROUTES = [(name, kwargs) for name, kwargs in ROUTES if name in PUBLIC]


@pytest.mark.parametrize(("name", "kwargs"), PUBLIC_ROUTES, ids=_ids(PUBLIC_ROUTES))
def test_every_public_page_is_not_stored(client, world, invitation, name, kwargs):
    response = client.get(url_for(name, kwargs, values(world, invitation)))
    assert response.status_code < 500
    assert_not_stored(response)


def test_the_downloads_are_not_stored(client, world, invitation):
    client.force_login(world.lead)
    values = own_values(world, invitation)
    downloads = [
        reverse("report_pdf", kwargs={"slug": world.pmo.slug, "report_id": values["report_id"]}),
        reverse("export_full", kwargs={"slug": world.pmo.slug}),
        reverse("export_stakeholders_csv", kwargs={"slug": world.pmo.slug}),
        reverse("export_stakeholders_xlsx", kwargs={"slug": world.pmo.slug}),
    ]
    for url in downloads:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "filename=" in response.get("Content-Disposition", ""), url
        assert_not_stored(response)


def test_the_survey_form_and_its_refusals_are_not_stored(client, world, settings):
    cache.clear()
    settings.SURVEY_RATE_LIMIT = "1/m"
    survey, (link,) = open_survey(world.pmo, [world.stakeholder])
    page = client.get(link.path)
    assert page.status_code == 200
    assert_not_stored(page)
    save_url = reverse("survey_save", kwargs={"token": link.token})
    assert_not_stored(client.post(save_url, {"nps": "3"}))
    save = client.post(save_url, {"nps": "4"})
    assert save.status_code == 429
    assert_not_stored(save)
    cache.clear()


@pytest.mark.parametrize(("name", "kwargs"), API_ROUTES, ids=_ids(API_ROUTES))
def test_every_api_route_is_not_stored(client, world, own, name, kwargs):
    """Token-authenticated: the session is empty, so the API is marked by path, not by user."""
    response = client.get(api_url(name, kwargs, world.pmo.slug, own), **bearer(world.lead))
    assert response.status_code < 500
    assert_not_stored(response)


def test_api_errors_are_not_stored(client, world):
    response = client.get(reverse("api-pmo-list"))
    assert response.status_code == 401
    assert_not_stored(response)


def test_the_admin_is_not_stored(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert_not_stored(client.get(reverse("admin:index")))
    assert_not_stored(Client().get(reverse("admin:login")))


def test_a_csrf_failure_is_not_stored(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.lead)
    response = client.post(reverse("pmo_create"), {"name": "No token"})
    assert response.status_code == 403
    assert_not_stored(response)


def test_static_files_keep_their_cache_headers(settings, db):
    """WhiteNoise answers before the middleware: CSS and scripts stay cacheable."""
    settings.WHITENOISE_USE_FINDERS = True
    response = Client().get(f"{settings.STATIC_URL.rstrip('/')}/css/app.css".replace("//", "/"))
    assert response.status_code == 200
    cache_control = response.get("Cache-Control", "")
    assert "max-age" in cache_control
    assert "no-store" not in cache_control
