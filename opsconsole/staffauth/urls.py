"""Passkey ceremonies (django-otp-webauthn's JSON endpoints), under the ``otp_webauthn`` namespace
its scripts look up. The two "complete" steps are the console's: they rotate the session and
write the audit."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn.views import BeginCredentialAuthenticationView, BeginCredentialRegistrationView

from opsconsole.staffauth.passkeys import AuthenticationComplete, RegistrationComplete

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/", BeginCredentialRegistrationView.as_view(), name="credential-registration-begin"
    ),
    path("registration/complete/", RegistrationComplete.as_view(), name="credential-registration-complete"),
    path(
        "authentication/begin/",
        BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        AuthenticationComplete.as_view(),
        name="credential-authentication-complete",
    ),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]
