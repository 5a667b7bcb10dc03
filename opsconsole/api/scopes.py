"""Token scopes: each API view names the scope a token needs per method, and fails closed.

``token_scopes = {"GET": "accounts:read"}`` on a view. A request authenticated by a service
token is let through only when the view declares a scope for its method and the token holds
it; a view that declares none refuses every token. Console sessions are not scoped (their
role's permissions decide, as ``DeclaredPermissions`` does for everyone).

The set of scopes is what the views declare, found by walking the URL configuration, so an app
adds an endpoint and its scope without touching the framework. A new token gets, by default,
the scopes of every endpoint its role may call.
"""

from dataclasses import dataclass
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import BasePermission

from opsconsole.models import ServiceToken


@dataclass(frozen=True)
class Endpoint:
    path: str
    view: type
    method: str
    scope: str
    permissions: tuple[str, ...]


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


@cache
def endpoints() -> tuple[Endpoint, ...]:
    """Every (path, method) of the API with its scope and the permissions it requires."""
    found = []
    for path, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        for method, scope in (getattr(view, "token_scopes", None) or {}).items():
            needed = tuple((getattr(view, "required_permissions", None) or {}).get(method, ()))
            found.append(Endpoint(path, view, method, scope, needed))
    return tuple(found)


def all_scopes() -> list[str]:
    return sorted({endpoint.scope for endpoint in endpoints()})


def scopes_for_permissions(permissions: set[str]) -> list[str]:
    """The scopes of the endpoints someone holding ``permissions`` may call."""
    return sorted({e.scope for e in endpoints() if set(e.permissions) <= permissions})


class TokenScopes(BasePermission):
    """Fail closed for tokens: the view must declare a scope for the method, and the token hold it."""

    message = "This token's scopes do not include this endpoint."

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ServiceToken):
            return True
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        scope = (getattr(view, "token_scopes", None) or {}).get(method)
        if scope is None:
            self.message = "This endpoint declares no token scope, so no token may call it."
            return False
        if scope not in token.scopes:
            self.message = f"This token lacks the scope {scope!r}."
            return False
        return True
