"""Integration tests against real Keycloak servers and the real ``ansible`` CLI (see conftest.py)."""
