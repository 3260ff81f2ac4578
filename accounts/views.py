"""Pages: sign up, and the home list of people with their online state."""

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import SignUpForm
from accounts.selectors import user_list_with_state
from calls.strings import call_ui_strings


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def home(request):
    return render(
        request,
        "home.html",
        {
            "people": user_list_with_state(viewer=request.user),
            "call_strings": call_ui_strings(),
        },
    )
