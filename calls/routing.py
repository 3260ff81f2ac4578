from django.urls import path

from calls.consumers import SocketConsumer

websocket_urlpatterns = [path("ws/", SocketConsumer.as_asgi())]
