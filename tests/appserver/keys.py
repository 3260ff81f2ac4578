"""What an application backend does with keys: make a pair, publish the public half,
sign its users' tokens with the private half."""

import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def key_pair(kind: str):
    """(private key, public key PEM) for `ed25519` or `p256`."""
    private = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else ec.generate_private_key(ec.SECP256R1())
    )
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, pem.decode()


ALGORITHM = {"ed25519": "EdDSA", "p256": "ES256", "hmac": "HS256"}


def app_token(app_id: str, user_id: str, key, algorithm: str, **claims) -> str:
    """A user token as the app signs it: iss = app id, sub = user id, exp in 10 min."""
    now = int(time.time())
    body = {"iss": app_id, "sub": user_id, "iat": now, "exp": now + 600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm)
