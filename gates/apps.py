from django.apps import AppConfig


class GatesConfig(AppConfig):
    name = "gates"

    def ready(self):
        # Reports may not import gates: gates tells it which channels ramp and what to do
        # after each snapshot run (evaluate the stop rules and restart conditions).
        from gates import selectors, services
        from reports import hooks

        hooks.register_ramping_channels(selectors.ramping_channel_codes)
        hooks.register_after_snapshot(services.after_snapshot)
