"""What a resource server (the MSSanté operator, the DMP) makes of a PSC access token: verified against the realm's
key as a PSC JWKS would give it (RS256 only, ``typ`` Bearer, not expired), and the professional it was issued to.
The session's end is not seen from here, as for a real resource server checking the JWKS without introspection."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from simulators.psc.professionals import Professional, load_professionals
from simulators.psc.provider import load_signing_key


def bearer_holder(key_path: Path) -> Callable[[str], tuple[Professional, str | None] | None]:
    """A function giving the professional a PSC access token was issued to and the PSC session it belongs to (its
    ``sid``), or None (forged, expired, not an access token). The realm key is read on first use: the PSC simulator
    makes it when it starts."""
    key: list[RSAKey] = []

    def holder(token: str) -> tuple[Professional, str | None] | None:
        if not key:
            key.append(load_signing_key(key_path))
        try:
            claims = jwt.decode(token, key[0], algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return None
        if claims.get("typ") != "Bearer" or not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return None
        professional = load_professionals().get(str(claims.get("preferred_username")))
        if professional is None:
            return None
        return professional, (str(claims["sid"]) if claims.get("sid") else None)

    return holder
