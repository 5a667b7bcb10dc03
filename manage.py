#!/usr/bin/env python
import os
import sys

# Commands of the bench app, which settings install only for benchmarks (OPSCONSOLE_BENCHMARKS).
BENCHMARK_COMMANDS = {"generate_data"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
    if sys.argv[1:2] and sys.argv[1] in BENCHMARK_COMMANDS:
        os.environ.setdefault("OPSCONSOLE_BENCHMARKS", "1")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings, which check the environment
    except ImproperlyConfigured as exc:
        # Django would carry on without settings and fail later with an unrelated traceback.
        sys.exit(f"{exc}\nFor local work set DJANGO_DEBUG=1 (make run does), or see README.md.")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
