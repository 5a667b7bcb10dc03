from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        # Registration with the framework, which never imports routing.
        from opsconsole import demo as demo_seeders
        from routing import demo

        demo_seeders.register("routing", demo.seed_demo, app_label=self.label)
