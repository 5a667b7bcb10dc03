"""Bare DRF views for the ingress benchmarks' baselines: the same server, parser and (for one)
token authentication as the real endpoints, and no work. Mounted only with OPSCONSOLE_BENCHMARKS."""

from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView


class BareView(APIView):
    """Parses the JSON body and answers 200: what any DRF endpoint costs before its own work."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request):
        return Response({"received": len(request.data) if hasattr(request.data, "__len__") else 0})


class BareTokenView(BareView):
    """The same, behind the service-token authentication the API uses (one indexed lookup)."""

    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
