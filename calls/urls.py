from django.urls import path

from calls import views

urlpatterns = [
    path("", views.call_history, name="call_history"),
]
