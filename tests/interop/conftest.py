"""A certified OpenID provider (panva's oidc-provider) for proving the client against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.interop.provider import OpenIDProvider, start_provider


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[OpenIDProvider]:
    """oidc-provider with DPoP, PAR (optional), private_key_jwt and 60-second access tokens."""
    provider = start_provider()
    yield provider
    provider.stop()
