"""The console fixtures (a running service, logged-in clients) serve these tests too."""

from tests.unit.console.conftest import client_factory, console_service  # noqa: F401
