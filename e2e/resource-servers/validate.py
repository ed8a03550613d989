# Validating Gatepass access tokens in Python with PyJWT (pip install "pyjwt[crypto]").
import json
import os
import sys
import urllib.request

import jwt

ISSUER = os.environ["GATEPASS_ISSUER"]  # e.g. https://auth.example.com
AUDIENCE = os.environ["API_AUDIENCE"]  # this service, e.g. https://api.example.com
ALGORITHMS = ["ES256", "EdDSA"]  # never "none", never HMAC

# RFC 8414 metadata, once at start: the JWKS address (keys are cached and refetched for an
# unknown kid, which is how a key rotation arrives).
with urllib.request.urlopen(f"{ISSUER}/.well-known/oauth-authorization-server") as answer:
    metadata = json.load(answer)
if metadata["issuer"] != ISSUER:
    raise RuntimeError(f"metadata names another issuer: {metadata['issuer']}")
jwks = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True, lifespan=300)


def validate(token: str, scope: str) -> dict:
    """The token's claims if it is a Gatepass access token for us holding `scope`."""
    if jwt.get_unverified_header(token).get("typ") != "at+jwt":  # RFC 9068 §4
        raise jwt.InvalidTokenError("not an access token")
    key = jwks.get_signing_key_from_jwt(token)  # by kid
    if key.algorithm_name not in ALGORITHMS:
        raise jwt.InvalidTokenError("unexpected key algorithm")
    claims = jwt.decode(
        token,
        key,
        algorithms=[key.algorithm_name],  # the key's algorithm, not the header's choice
        audience=AUDIENCE,
        issuer=ISSUER,
        leeway=60,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "client_id", "scope"]},
    )
    if scope not in claims["scope"].split():
        raise PermissionError(f"insufficient_scope: needs {scope}")
    return claims


if __name__ == "__main__":
    try:
        claims = validate(sys.argv[1], sys.argv[2])
    except (jwt.PyJWTError, PermissionError) as refused:
        print(f"refused: {type(refused).__name__}: {refused}")
        sys.exit(1)
    print(f"accepted: {claims['client_id']}")
