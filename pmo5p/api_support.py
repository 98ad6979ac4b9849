"""API settings' hooks (pagination, errors), apart from the views: DRF imports these
while its own view classes are still being defined."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, ValidationError
from django.http import Http404
from rest_framework import exceptions, pagination
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from pmo5p.rules import RuleViolation


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = "Results per page: 50 unless given, at most 500."
    max_page_size = 500


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


def _too_large(exc) -> RequestTooLarge:
    """Django's refusal of a request body over its limits, as an API error rather than its HTML 400 page."""
    if isinstance(exc, TooManyFieldsSent):
        limit = f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields"
    elif isinstance(exc, TooManyFilesSent):
        limit = f"{settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} file"
    else:
        limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes"
    return RequestTooLarge(f"The request body is larger than the API takes: at most {limit}.")


def error_handler(exc, context):
    """One error body everywhere: {"error": {"status", "code", "message", "fields"}}."""
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        exc = _too_large(exc)
    if isinstance(exc, ValidationError):
        # A service function's refusal after validation: the same body as a serializer's.
        exc = exceptions.ValidationError(
            exc.as_fields() if isinstance(exc, RuleViolation) else as_serializer_error(exc)
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        message = "Some values are not valid: see fields."
        code = "invalid"
    else:
        fields = {}
        message = str(data.get("detail", "")) if isinstance(data, dict) else str(data)
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, Http404):
            code, message = "not_found", "Not found."
    response.data = {"error": {"status": response.status_code, "code": code, "message": message, "fields": fields}}
    return response
