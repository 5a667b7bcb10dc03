from django.urls import path

from bench.views import BareTokenView, BareView

urlpatterns = [
    path("bare/", BareView.as_view(), name="bench-bare"),
    path("bare-token/", BareTokenView.as_view(), name="bench-bare-token"),
]
