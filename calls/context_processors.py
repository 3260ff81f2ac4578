"""The header's missed-calls badge, on every page a signed-in user sees."""

from django.http import HttpRequest

from calls.selectors import missed_calls_unseen_count


def missed_calls(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"missed_calls": missed_calls_unseen_count(user=user)}
