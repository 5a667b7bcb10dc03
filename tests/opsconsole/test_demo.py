"""The demo registry: each app registers its part; seed_demo runs them in layer order, base
data of every layer before the walk-throughs that stage cases on it."""

from opsconsole import demo


def test_seeders_run_in_layer_order_with_walk_throughs_last():
    names = [seeder.name for seeder in demo.seeders()]
    assert names == [
        "opsconsole",
        "accounts",
        "routing",
        "support",
        "actions",
        "billing",
        "constraints",
        "gates",
    ]


def test_a_seeder_declares_its_own_command_line_options():
    (accounts,) = [seeder for seeder in demo.seeders() if seeder.name == "accounts"]
    assert "--accounts" in accounts.options
    assert accounts.option_values({"accounts": 20, "seed": 1}) == {"accounts": 20}


def test_the_login_lines_say_whether_a_second_factor_is_asked(settings):
    settings.TWO_FACTOR_REQUIRED = False
    assert "No second factor in this demo (OPSCONSOLE_2FA_REQUIRED=0)" in demo.login_lines("http://x/")[0]

    settings.TWO_FACTOR_REQUIRED = True
    assert "sets up a second factor" in demo.login_lines("http://x/")[0]
