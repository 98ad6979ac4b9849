"""The product's URLs, and the bare reference of the submit benchmark (scripts/benchmark_scale.py).

The bare view is the floor a survey answer is compared with: a Django view behind the same
middleware (sessions, CSRF, security headers), on the same gunicorn, that does one INSERT.
Its table is made by the benchmark in its throwaway database.
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from pmo5p.urls import urlpatterns as product_urlpatterns

BARE_TABLE_SQL = "CREATE TABLE IF NOT EXISTS benchmark_bare_insert (id bigserial PRIMARY KEY, token varchar(64) UNIQUE NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"


@require_POST
def bare_insert(request, token):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO benchmark_bare_insert (token) VALUES (%s)", [token])
    return HttpResponse("Thank you.")


urlpatterns = [
    path("benchmark/bare-insert/<str:token>/", bare_insert, name="benchmark_bare_insert"),
    *product_urlpatterns,
]
