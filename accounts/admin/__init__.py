"""The console's pages for accounts, one module per page family. Thin: reads come from
selectors, every write calls a service, and account state changes only through services and
guarded actions (invariant 2). Importing the modules registers their ModelAdmins."""

from accounts.admin import accounts, catalogue, exceptions, records  # noqa: F401
