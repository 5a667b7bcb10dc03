"""The console's routing pages, one module per topic; importing them registers them."""

from routing.admin import queues, rules, sla, tickets  # noqa: F401
from routing.support import admin as support_admin  # noqa: F401
