from django.contrib import admin
from django.urls import include, path, re_path

from accounts.views import home
from config.api import api, api_not_found

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("calls/", include("calls.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("rooms/", include("rooms.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/(?P<path>.*)$", api_not_found),
]
