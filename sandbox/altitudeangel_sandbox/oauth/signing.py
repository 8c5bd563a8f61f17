"""The RSA key that signs access tokens: made once, kept in Redis so restarts share it."""

from __future__ import annotations

import json
from typing import Any

import redis
from joserfc.jwk import RSAKey

from altitudeangel_sandbox.store import key

SIGNING_KEY = key("signing-key")
ALGORITHM = "RS256"


def load_signing_key(db: redis.Redis) -> RSAKey:
    """Return the shared signing key, generating and storing it if none exists yet."""
    stored = db.get(SIGNING_KEY)
    if stored is None:
        candidate = RSAKey.generate_key(2048, parameters={"alg": ALGORITHM, "use": "sig"})
        candidate.ensure_kid()
        # NX: when two sandboxes start together, both end up using whichever key won.
        db.set(SIGNING_KEY, json.dumps(candidate.as_dict(private=True)), nx=True)
        stored = db.get(SIGNING_KEY)
    return RSAKey.import_key(json.loads(str(stored)))


def public_jwks(signing_key: RSAKey) -> dict[str, Any]:
    """Return the JWK Set that verifies the sandbox's access tokens."""
    return {"keys": [signing_key.as_dict(private=False)]}
