"""Sign-in & security: a staff member's own second factors and sign-in activity; new recovery
codes. An admin page, so only a verified session reaches it."""

from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from opsconsole.staffauth.selectors import recent_sign_in_activity, second_factors_of
from opsconsole.staffauth.services import recovery_codes_issue
from opsconsole.staffauth.session import client_of
from opsconsole.staffauth.views import RECOVERY_CODES_KEY, with_next


@never_cache
def security_view(request, site):
    if request.method == "POST" and request.POST.get("do") == "new_recovery_codes":
        codes = recovery_codes_issue(user=request.user, actor=request.user, client=client_of(request))
        request.session[RECOVERY_CODES_KEY] = codes
        return redirect(with_next("admin:login_recovery_codes", request.path))
    return render(
        request,
        "opsconsole/staffauth/security.html",
        {
            **site.each_context(request),
            "title": "Sign-in & security",
            "factors": second_factors_of(request.user),
            "activity": recent_sign_in_activity(request.user),
        },
    )
