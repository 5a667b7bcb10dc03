from rest_framework.permissions import BasePermission


class DeclaredPermissions(BasePermission):
    """Fail closed: a view must declare ``required_permissions`` per HTTP method.

    ``required_permissions = {"GET": ["accounts.view_account"], "POST": [...]}``. A method
    the mapping does not name, or a view with no mapping, is refused with 403.
    """

    message = "This endpoint or method is not open to your role."

    def has_permission(self, request, view):
        declared = getattr(view, "required_permissions", None)
        if not declared:
            return False
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        needed = declared.get(method)
        if needed is None:
            return False
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.has_perms(needed)


class PublicEndpoint(BasePermission):
    """For endpoints that authenticate by other means (the Stripe signature, the schema)."""

    def has_permission(self, request, view):
        return True
