"""Staff sign-in: the second factor (TOTP with recovery codes, passkeys), lockout after failed
passwords (django-axes), the login audit, and what ops leads do about them.

The console is the Django admin; ``OpsConsoleAdminSite.has_permission`` lets a staff session in
only once it passed a second factor (``second_factor_satisfied``). Signing in is two steps:
the password (``/login/``, counted by the lockout), then the second factor
(``/login/verify/``), or enrolling one when the user has none (``/login/enrol/``).
"""
