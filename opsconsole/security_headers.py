"""Security headers django-csp does not set: ``Permissions-Policy``.

The console uses no camera, microphone, location or payment APIs, so each is off for every
origin. Passkeys (WebAuthn) are the exception: the sign-in and security pages create and use
them from the console's own origin, so ``publickey-credentials-*`` stay allowed for ``self``.
"""

PERMISSIONS_POLICY = ", ".join(
    [
        "accelerometer=()",
        "camera=()",
        "display-capture=()",
        "geolocation=()",
        "gyroscope=()",
        "magnetometer=()",
        "microphone=()",
        "midi=()",
        "payment=()",
        "usb=()",
        "interest-cohort=()",
        "publickey-credentials-create=(self)",
        "publickey-credentials-get=(self)",
    ]
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
