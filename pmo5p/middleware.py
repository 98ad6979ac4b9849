"""Response headers that every page of pmo5p gets."""

from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and `private`, `no-cache`, `max-age=0`) on every response.

    Nearly every response of pmo5p is private: signed-in pages, exports and PDFs, the
    API, a stakeholder's survey form. The few public ones (sign-in, password reset)
    carry a CSRF token. A browser's disk cache, the back button on a shared computer or
    a caching proxy must keep none of them, and one rule for all cannot miss a new
    page. Static files are served by WhiteNoise, which sits above this middleware and
    answers before it, so they keep their long cache lifetimes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
