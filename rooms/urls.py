from django.urls import path

from rooms import views

urlpatterns = [
    path("<str:room_id>/", views.room_detail, name="room_detail"),
]
