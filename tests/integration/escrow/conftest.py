from tests.integration.client.conftest import server, world  # noqa: F401
