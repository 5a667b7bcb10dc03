from tests.opsconsole.conftest import fail_import  # noqa: F401  (a fixture: an import.failed event)
