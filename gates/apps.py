from django.apps import AppConfig


class GatesConfig(AppConfig):
    name = "gates"

    def ready(self):
        # Reports may not import gates: gates tells it which channels ramp and what to do
        # after each snapshot run (evaluate the stop rules and restart conditions).
        from gates import demo, selectors, services
        from opsconsole import demo as demo_seeders
        from opsconsole import navigation
        from reports import hooks

        hooks.register_ramping_channels(selectors.ramping_channel_codes)
        hooks.register_after_snapshot(services.after_snapshot)
        # The gate meeting's pages, for leadership and ops leads (not under Admin, which
        # leadership does not see).
        navigation.place(
            navigation.CHANNEL_GATES,
            "gates.RampPlan",
            "gates.GateReview",
            "gates.Decision",
            "gates.HardeningCycle",
        )
        # Last of all: it reads the snapshots and the staff work the other seeders made.
        demo_seeders.register("gates", demo.seed_demo, app_label=self.label, stage=demo_seeders.WALK_THROUGH)
