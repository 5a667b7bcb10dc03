"""One way to restrict a queryset to what a user may see or do: ``Model.objects.restrict(user, action)``.

This is NetBox's ``RestrictedQuerySet`` in this project's terms. Every model people can see has
a manager built from a subclass of :class:`RestrictedQuerySet`, and admin pages, API views,
selectors, exports and search all start from ``restrict(...)``, so one place decides.

The rule, in order:

1. No user, an anonymous user or an inactive one sees nothing.
2. A user with the model permission ``<app>.<action>_<model>`` (a role, or a superuser) sees
   every row.
3. Anyone else sees the rows :meth:`RestrictedQuerySet.restrict_by_grants` lets through. By
   default those are the rows guardian grants them one by one. A model whose access follows
   another model (an exception follows its account, a ticket its queue) overrides it.
"""

from __future__ import annotations

from django.db import models
from guardian.shortcuts import get_objects_for_user


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.has_perm(self.permission_for(action)):
            return self
        return self.restrict_by_grants(user, action)

    def permission_for(self, action: str) -> str:
        meta = self.model._meta
        return f"{meta.app_label}.{action}_{meta.model_name}"

    def restrict_by_grants(self, user, action: str) -> RestrictedQuerySet:
        """The rows this user holds an object grant for (guardian); override to follow a parent."""
        if self.model._meta.proxy:
            # Guardian files grants under the concrete model, so none name a proxy's rows (and
            # asking it with the proxy's permission raises): a proxy shows by permission only.
            return self.none()
        return get_objects_for_user(user, self.permission_for(action), klass=self, accept_global_perms=False)

    def restrict_through(self, field: str, user, action: str) -> RestrictedQuerySet:
        """The rows whose parent (the foreign key ``field``) ``user`` may ``action``: what a
        model whose access follows another returns from ``restrict_by_grants``."""
        parents = self.model._meta.get_field(field).related_model._default_manager.all()
        if user.has_perm(parents.permission_for(action)):
            # Every parent is visible: no subquery over the whole parent table.
            return self.filter(**{f"{field}__isnull": False})
        return self.filter(**{f"{field}__in": parents.restrict(user, action)})

    def allows(self, user, obj, action: str = "view") -> bool:
        """Whether ``user`` may ``action`` this one row; no query for holders of the model permission."""
        if obj is None or obj.pk is None:
            return False
        if (
            user is not None
            and getattr(user, "is_authenticated", False)
            and user.is_active
            and user.has_perm(self.permission_for(action))
        ):
            return True
        return self.restrict(user, action).filter(pk=obj.pk).exists()
