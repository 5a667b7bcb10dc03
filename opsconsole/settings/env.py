"""Typed reads of environment variables; the only place settings touch os.environ."""

import os

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise KeyError(f"environment variable {name} is required")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def cache_from_env(cache_url: str, broker_url: str) -> dict:
    """Django's default cache: ``CACHE_URL`` when set (``redis://``/``rediss://``, or
    ``locmem://``), else the Celery broker when it is Redis, else local memory (one process)."""
    for url in (cache_url, broker_url):
        if url.startswith(("redis://", "rediss://")):
            return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        if url:
            if url.startswith("locmem://") or url is broker_url:
                break
            raise ValueError(f"CACHE_URL={url!r} is not redis://, rediss:// or locmem://")
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "opsconsole"}
