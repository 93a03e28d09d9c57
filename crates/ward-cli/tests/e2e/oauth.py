"""Standard OAuth clients against ward (e2e/standards.rs, issue 13).

  oauth.py BASE CLIENT_ID CLIENT_SECRET ACTIVE REVOKE JWT AUDIENCE

Reads the RFC 8414 metadata at BASE/.well-known/oauth-authorization-server,
then with authlib (the service user CLIENT_ID / CLIENT_SECRET as
client_secret_basic) introspects ACTIVE, revokes REVOKE and introspects it
again; with PyJWT verifies JWT with the issuer and jwks_uri from the
metadata and AUDIENCE, and checks that another audience and another issuer
are refused. Prints one JSON object with what each step saw; a step that
raises makes the script exit non-zero.
"""

import json
import sys
import urllib.request

import jwt
from authlib.integrations.requests_client import OAuth2Session


def main():
    base, client_id, client_secret, active, revoke, token, audience = sys.argv[1:8]
    with urllib.request.urlopen(f"{base}/.well-known/oauth-authorization-server", timeout=10) as r:
        meta = json.load(r)

    client = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_basic")
    introspected = client.introspect_token(meta["introspection_endpoint"], token=active)
    revoked = client.revoke_token(meta["revocation_endpoint"], token=revoke, token_type_hint="access_token")
    after = client.introspect_token(meta["introspection_endpoint"], token=revoke)

    keys = jwt.PyJWKClient(meta["jwks_uri"])
    key = keys.get_signing_key_from_jwt(token).key
    claims = jwt.decode(token, key, algorithms=["EdDSA"], issuer=meta["issuer"], audience=audience,
                        options={"require": ["exp", "iat", "iss", "sub", "aud"]})
    refused = {}
    for name, kwargs in {
        "other_audience": {"issuer": meta["issuer"], "audience": "someone-else"},
        "other_issuer": {"issuer": "https://not-ward.example.com", "audience": audience},
    }.items():
        try:
            jwt.decode(token, key, algorithms=["EdDSA"], **kwargs)
            refused[name] = False
        except jwt.InvalidTokenError:
            refused[name] = True

    print(json.dumps({
        "metadata": meta,
        "introspect": {"status": introspected.status_code, "body": introspected.json()},
        "revoke": {"status": revoked.status_code},
        "after_revoke": {"status": after.status_code, "body": after.json()},
        "pyjwt": {"claims": claims, "refused": refused},
    }))


main()
