"""The REST API at /api/ (django-ninja; OpenAPI page at /api/docs).

Every 4xx answers `{"error": "<slug>", "message": "…"}` with a stable slug.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

api = NinjaAPI(
    title="Parley API",
    version="1",
    description="Accounts, user tokens, presence, call history and rooms; and under "
    "/api/server/ the application server API (X-App-Id + X-App-Key). See "
    "docs/protocol.md for the socket protocol and docs/server-api.md for the server API.",
    urls_namespace="api",
)

_STATUS_SLUGS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def _error(request: HttpRequest, status: int, slug: str, message: str, **extra):
    return api.create_response(
        request, {"error": slug, "message": message, **extra}, status=status
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    slug = getattr(exc, "slug", None) or _STATUS_SLUGS.get(exc.status_code, "error")
    return _error(request, exc.status_code, slug, str(exc))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    if request.path.startswith("/api/server/"):
        message = "Send your application's X-App-Id and X-App-Key headers."
    else:
        message = "Sign in or send a valid user token."
    return _error(request, 401, "unauthenticated", message)


@api.exception_handler(ValidationError)
def on_invalid(request, exc: ValidationError):
    return _error(
        request, 422, "invalid_request", "The request is not valid.", detail=exc.errors
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return _error(request, 413, "request_too_large", "The request body is too large.")


@api.exception_handler(RawPostDataException)
def on_form_body(request, exc):
    # A form-encoded POST was parsed (by the CSRF check) before the API could read it.
    return _error(request, 415, "unsupported_media_type", "Send bodies as JSON.")


def api_not_found(request, path: str = ""):
    """Paths under /api/ that match no endpoint answer JSON too, not an HTML page."""
    return _error(request, 404, "not_found", "No such API endpoint.")


api.add_router("/", "accounts.api.router")
api.add_router("/", "calls.api.router")
api.add_router("/", "rooms.api.router")
api.add_router("/", "appserver.api.router")
