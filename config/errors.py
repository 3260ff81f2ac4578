"""The API's error: an HTTP status with a stable slug (see config.api for the body).

Its own module so that the API modules can raise it without importing config.api,
which imports every router.
"""

from ninja.errors import HttpError


class ApiError(HttpError):
    """An API failure with its own slug: `raise ApiError(409, "room_taken", "…")`."""

    def __init__(self, status: int, slug: str, message: str):
        super().__init__(status, message)
        self.slug = slug
