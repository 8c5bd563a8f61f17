"""DPoP proofs signed with the key directly: what a server checks, and what the flow page shows."""

from __future__ import annotations

import base64
import hashlib
import random
import time
from email.utils import formatdate

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from flask_altitudeangel import _dpop
from flask_altitudeangel._dpop import DPoPKey, ServerHints, describe_jwt

API = "https://api.example.test"


def test_a_proof_verifies_with_the_key_it_carries_and_names_the_request() -> None:
    key, hints = DPoPKey.generate(), ServerHints()
    token = "an-access-token"
    proofs = [key.prove("get", f"{API}/flightReport?page=1#top", token, hints) for _ in range(200)]
    for proof in proofs:
        header = jwt.decode(proof.token, ECKey.import_key(key.key.as_dict(private=False))).header
        carried = ECKey.import_key(header["jwk"])  # the key a server checks the proof with
        decoded = jwt.decode(proof.token, carried)
        assert decoded.header == {
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": key.key.as_dict(private=False),
        }
        assert "d" not in decoded.header["jwk"]
        claims = decoded.claims
        assert claims["htm"] == "GET"
        assert claims["htu"] == f"{API}/flightReport"
        digest = hashlib.sha256(token.encode()).digest()
        assert claims["ath"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        assert abs(claims["iat"] - time.time()) < 5
        assert "nonce" not in claims
    assert len({jwt.decode(p.token, key.key).claims["jti"] for p in proofs}) == len(proofs)


def test_a_token_request_proof_has_no_token_hash_and_carries_the_servers_nonce() -> None:
    key, hints = DPoPKey.generate(), ServerHints()
    hints.note(f"{API}/token", {"DPoP-Nonce": "n-1"})
    claims = jwt.decode(key.proof("POST", f"{API}/token", None, hints), key.key).claims
    assert "ath" not in claims
    assert claims["nonce"] == "n-1"
    assert claims["htm"] == "POST"


def test_a_proof_is_shown_as_the_flow_page_reads_any_jwt() -> None:
    rng = random.Random(9449)
    odd = 'ab"\\/é…\u2028\x7f %&Z0'
    key = DPoPKey.generate()
    for number in range(500):
        hints = ServerHints()
        if number % 2:
            nonce = "".join(rng.choice(odd) for _ in range(rng.randint(1, 30)))
            hints.note(f"{API}/x", {"DPoP-Nonce": nonce})
        path = "".join(rng.choice(odd) for _ in range(rng.randint(0, 12)))
        token = None if number % 3 == 0 else f"token-{number}"
        proof = key.prove(rng.choice(["get", "POST", "Delete"]), f"{API}/{path}?q=1", token, hints)
        assert proof.shown == describe_jwt(proof.token, "DPoP proof")
        claims = jwt.decode(proof.token, key.key).claims
        assert claims["htu"] == f"{API}/{path}"


def test_the_servers_date_is_read_again_only_when_it_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = []
    real = _dpop._clock_offset
    monkeypatch.setattr(_dpop, "_clock_offset", lambda date: read.append(date) or real(date))
    hints = ServerHints()
    ahead = formatdate(time.time() + 100, usegmt=True)
    for _ in range(5):
        hints.note(f"{API}/flightReport?page=1", {"Date": ahead})
    assert read == [ahead]
    assert 95 < hints.clock_offset(f"{API}/other") < 105
    behind = formatdate(time.time() - 300, usegmt=True)
    hints.note(f"{API}/flightReport", {"Date": behind})
    assert read == [ahead, behind]
    assert -305 < hints.clock_offset(API) < -295
    # Another server's clock is its own.
    hints.note("https://auth.example.test/token", {"Date": ahead})
    assert read == [ahead, behind, ahead]
    assert hints.clock_offset("https://auth.example.test/x") > 95


def test_a_key_without_its_private_half_proves_nothing() -> None:
    public = DPoPKey(ECKey.import_key(DPoPKey.generate().key.as_dict(private=False)))
    with pytest.raises(ValueError, match="private"):
        public.proof("GET", f"{API}/x", None, ServerHints())
