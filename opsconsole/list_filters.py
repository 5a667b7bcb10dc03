"""List filters that a higher layer adds to a lower layer's admin list.

The account list belongs to accounts, yet reports links a cohort cell to it ("these 12
accounts"), and accounts may not import reports. So the higher app registers a list filter for
the model from its ``AppConfig.ready()`` (``register("accounts.account", CohortCellFilter)``),
and the console's admin pages add whatever is registered after their own ``list_filter``. The
registry is filled at start-up and read-only afterwards, the same in every process.
"""

_FILTERS: dict[str, list] = {}


def register(model_label: str, list_filter) -> None:
    """``model_label`` as ``app_label.model_name`` (lower case), e.g. ``accounts.account``."""
    filters = _FILTERS.setdefault(model_label.lower(), [])
    if list_filter not in filters:
        filters.append(list_filter)


def registered(model_label: str) -> tuple:
    return tuple(_FILTERS.get(model_label.lower(), ()))
