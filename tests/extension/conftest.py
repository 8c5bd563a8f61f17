"""The extension's own tests use the portal as the host app whose routes a ``next`` may name."""

from tests.portal.conftest import portal_app  # noqa: F401 - a fixture, shared
