from django.urls import path

from rooms import views

urlpatterns = [
    path("", views.room_list, name="room_list"),
    path("group-call/start/", views.group_call_start, name="group_call_start"),
    path("<str:room_id>/", views.room_detail, name="room_detail"),
]
