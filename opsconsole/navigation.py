"""The console's sidebar, grouped by what people do rather than by Django app.

Apps place their pages from ``AppConfig.ready()``: ``place(WORK, "routing.Ticket", ...)``; the
framework names none of them. A registered page nobody placed lands under Admin, with the
internals (outbox messages, Stripe events, idempotency records, sign-in records), which only
ops leads see in the sidebar. The registry is filled at start-up and read-only afterwards.
"""

from opsconsole.roles import OPS_LEAD

WORK = "Work"
ACCOUNTS = "Accounts"
ROUTING_SETUP = "Routing setup"
BILLING = "Billing"
REPORTS = "Reports"
CHANNEL_GATES = "Channel gates"
ADMIN = "Admin"
SECTIONS = (WORK, ACCOUNTS, ROUTING_SETUP, BILLING, REPORTS, CHANNEL_GATES, ADMIN)

_PLACES: dict[str, tuple[str, int]] = {}


def place(section: str, *model_labels: str, rank: int = 100) -> None:
    """Put these pages (``"app_label.ModelName"``) in ``section``, in this order, after the
    pages of a lower ``rank`` (apps placing into one section interleave by rank)."""
    if section not in SECTIONS:
        raise LookupError(f"No sidebar section {section!r}; sections: {', '.join(SECTIONS)}.")
    for offset, label in enumerate(model_labels):
        _PLACES[label.lower()] = (section, rank + offset)


def section_of(model_label: str) -> tuple[str, int]:
    return _PLACES.get(model_label.lower(), (ADMIN, 10_000))


def sees_admin_section(user) -> bool:
    return user.is_superuser or user.groups.filter(name=OPS_LEAD).exists()


def grouped(app_list: list[dict], user) -> list[dict]:
    """Django's per-app list (``AdminSite.get_app_list``) regrouped into the sections, in
    section order, each page in the order it was placed. Empty sections are left out."""
    placed: dict[str, list[tuple[int, dict]]] = {section: [] for section in SECTIONS}
    for app in app_list:
        for model in app["models"]:
            section, order = section_of(f"{app['app_label']}.{model['object_name']}")
            placed[section].append((order, {**model, "name": model["name"]}))
    if not sees_admin_section(user):
        placed[ADMIN] = []
    return [
        {
            "name": section,
            "app_label": section.lower().replace(" ", "-"),
            "app_url": "",
            "has_module_perms": True,
            "models": [model for _, model in sorted(rows, key=lambda row: (row[0], row[1]["name"]))],
        }
        for section, rows in placed.items()
        if rows
    ]


def mark_current(sections: list[dict], path: str) -> list[dict]:
    """Mark the one page ``path`` is on (``current``): the entry whose address is the longest
    start of it, so the Support report at ``/reports/metricsnapshot/support/`` is "Support",
    not also "Metric snapshots" at ``/reports/metricsnapshot/``."""
    entries = [model for section in sections for model in section["models"]]
    matching = [m for m in entries if m.get("admin_url") and path.startswith(m["admin_url"])]
    if matching:
        max(matching, key=lambda m: len(m["admin_url"]))["current"] = True
    return sections
