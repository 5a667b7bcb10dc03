from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmarks: the data generator and timed scenarios, as management commands. No models."""

    name = "bench"
    verbose_name = "Benchmarks"
