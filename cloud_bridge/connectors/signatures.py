"""Webhook signatures: base64(HMAC-SHA256(raw body, secret)), the scheme of WooCommerce and Shopify.

The MAC is computed over the raw bytes as received, before any JSON parsing, and compared in constant time.
Several secrets may be valid at once (Shopify takes up to an hour to switch to a rotated secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


def signature_matches(body: bytes, signature: str, secrets: Sequence[str]) -> bool:
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except ValueError:
        return False
    found = False
    for secret in secrets:
        if not secret.strip():  # an empty key is no key: anybody can sign with it
            continue
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        found |= hmac.compare_digest(expected, given)
    return found


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive; web frameworks hand them over in any case."""
    return {str(k).lower(): str(v) for k, v in headers.items()}
