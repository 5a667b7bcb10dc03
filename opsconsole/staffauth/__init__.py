"""Staff sign-in: the second factor (TOTP with recovery codes, passkeys), lockout after failed
passwords (django-axes), the login audit, and what ops leads do about them.

The console is the Django admin; ``OpsConsoleAdminSite.has_permission`` lets a staff session in
only once it passed a second factor (``second_factor_satisfied``). Signing in is two steps:
the password (``/login/``, counted by the lockout), then the second factor
(``/login/verify/``), or enrolling one when the user has none (``/login/enrol/``).

Why django-otp (with django-otp-webauthn) rather than allauth's MFA: the console *is* the
Django admin, and django-otp is built around it (``user.is_verified()``, the ``OTPAdminSite``
check that ``has_permission`` repeats here), with one device model per factor, so TOTP,
recovery codes and passkeys all answer the same ``is_verified()``. allauth would bring its own
account views and flows beside the admin's login and guard the admin only once its login is
wrapped (``secure_admin_login``); the console needs none of its accounts machinery.
"""
