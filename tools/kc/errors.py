"""The exception every part of the test-server tooling raises."""


class KeycloakServerError(Exception):
    """Downloading, starting, seeding or talking to a test server failed."""
