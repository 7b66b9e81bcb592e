"""The signature and timestamp check of a webhook delivery (api-reference §5).

The platform signs the exact bytes `<X-Webhook-Timestamp>.<raw body>` with
HMAC-SHA256 keyed by the webhook secret and sends `X-Webhook-Signature: sha256=<hex>`.
This module checks that over the raw bytes, in constant time, before anything of the
body is parsed, so a forged body never reaches the JSON parser or the converter.

Nothing here reads the clock: `now` is always an argument (design.md, "Not to copy"),
so the tolerance can be tested at its edges and a receiver can be driven by a fake
clock. The signer in `musicapi.sandbox` is written separately on purpose; the two are
pinned by `tests/vectors/webhook_signatures.json`, not by shared code.

Error messages say what is wrong and name the header at fault, but never contain a
secret (nor a computed signature, which would help nobody but a forger).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, cast

import attrs

from musicapi._errors import WebhookVerificationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "HEADER_EVENT",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "SignedDelivery",
    "authenticate",
    "check_now",
    "check_tolerance",
    "prepare_secrets",
]

HEADER_ID: Final = "X-Webhook-Id"
HEADER_EVENT: Final = "X-Webhook-Event"
HEADER_TIMESTAMP: Final = "X-Webhook-Timestamp"
HEADER_SIGNATURE: Final = "X-Webhook-Signature"

_REQUIRED: Final = (HEADER_ID, HEADER_EVENT, HEADER_TIMESTAMP, HEADER_SIGNATURE)
_WANTED: Final = {name.lower(): name for name in _REQUIRED}

_SIGNATURE: Final = re.compile(r"(?i:sha256)=([0-9a-fA-F]{64})")
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")
"""Unix seconds as plain ASCII digits: no sign, exponent, NaN, infinity or other digits."""

MAX_ID_LENGTH: Final = 256
"""The longest `X-Webhook-Id` or `X-Webhook-Event` accepted: both end up in memory."""


@attrs.frozen(kw_only=True)
class SignedDelivery:
    """A delivery whose signature and timestamp were checked; its body not parsed yet.

    Attributes:
        id: `X-Webhook-Id`.
        type: `X-Webhook-Event`.
        timestamp: `X-Webhook-Timestamp`, unix seconds.
        body: The raw body the signature covers.
    """

    id: str
    type: str
    timestamp: float
    body: bytes = attrs.field(repr=False)


def prepare_secrets(secret: object) -> tuple[bytes, ...]:
    """Return the HMAC keys for one secret or several (rotation), checked.

    Args:
        secret: The webhook secret, or a sequence of them: during a rotation, pass
            the new and the old one; a delivery signed with any of them verifies.

    Raises:
        WebhookVerificationError: No secret, or one that is empty, blank, not a
            string, or not encodable as UTF-8. A blank secret is refused because it
            is almost always an unset environment variable, and anyone could sign
            with it.
    """
    if isinstance(secret, str):
        secrets: tuple[object, ...] = (secret,)
    elif isinstance(secret, (bytes, bytearray, memoryview)):
        raise WebhookVerificationError("the webhook secret must be a str, not bytes")
    elif isinstance(secret, Iterable):
        secrets = tuple(cast("Iterable[object]", secret))
    else:
        raise WebhookVerificationError("the webhook secret must be a str or a sequence of str")
    if not secrets:
        raise WebhookVerificationError("no webhook secret was given")
    keys: list[bytes] = []
    for position, one in enumerate(secrets):
        if not isinstance(one, str):
            raise WebhookVerificationError(
                f"webhook secret #{position + 1} is a {type(one).__name__}, not a str"
            )
        if not one.strip():
            raise WebhookVerificationError(f"webhook secret #{position + 1} is empty or blank")
        try:
            keys.append(one.encode("utf-8"))
        except UnicodeEncodeError:
            raise WebhookVerificationError(
                f"webhook secret #{position + 1} cannot be encoded as UTF-8"
            ) from None
    return tuple(keys)


def check_tolerance(tolerance: object) -> float:
    """Return `tolerance` as a float if it is a finite, non-negative number of seconds.

    Raises:
        WebhookVerificationError: It is not (NaN or infinity would disable the replay
            check without anyone noticing).
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise WebhookVerificationError(
            f"tolerance must be a number of seconds, not {type(tolerance).__name__}"
        )
    value = float(tolerance)
    if not math.isfinite(value) or value < 0:
        raise WebhookVerificationError(
            f"tolerance must be a finite, non-negative number of seconds, not {value!r}"
        )
    return value


def check_now(now: object) -> float:
    """Return `now` as a float if it is a finite number of unix seconds.

    Raises:
        WebhookVerificationError: It is not (a NaN would pass every comparison).
    """
    if isinstance(now, bool) or not isinstance(now, (int, float)):
        raise WebhookVerificationError(f"now must be unix seconds, not {type(now).__name__}")
    value = float(now)
    if not math.isfinite(value):
        raise WebhookVerificationError(
            f"now must be a finite number of unix seconds, not {value!r}"
        )
    return value


def authenticate(
    body: bytes, headers: Mapping[str, str], keys: Sequence[bytes], *, tolerance: float, now: float
) -> SignedDelivery:
    """Check a delivery's headers, signature and timestamp; parse nothing of the body.

    The order is: every header present and well formed, then the signature against
    every key (each comparison in constant time, all of them made), then the
    timestamp against `now`. The signature comes before the timestamp so that a
    correctly signed but stale delivery says "stale" (a clock problem or a replay)
    rather than something vaguer.

    Args:
        body: The raw request body, exactly as received.
        headers: The request headers; names are matched case-insensitively.
        keys: The HMAC keys, from `prepare_secrets`.
        tolerance: How far, in seconds, the timestamp may be from `now` either way,
            from `check_tolerance`.
        now: The current unix time, from `check_now`.

    Returns:
        The delivery's id, type, timestamp and body.

    Raises:
        WebhookVerificationError: Any check failed; the message says which.
    """
    data = cast("object", body)  # checked: callers pass what their framework gave them
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(cast("bytearray | memoryview[int]", data))
    if not isinstance(data, bytes):
        raise WebhookVerificationError(
            f"the body must be the raw request bytes, not {type(data).__name__}: the signature "
            "covers the exact bytes received"
        )
    body = data
    found = _find_headers(headers)
    timestamp_text = found[HEADER_TIMESTAMP].strip()
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise WebhookVerificationError(
            f"malformed {HEADER_TIMESTAMP} header: expected unix seconds as digits"
        )
    match = _SIGNATURE.fullmatch(found[HEADER_SIGNATURE].strip())
    if match is None:
        raise WebhookVerificationError(
            f"malformed {HEADER_SIGNATURE} header: expected sha256=<64 hex digits>"
        )
    event_id = _short_text(found, HEADER_ID)
    event_type = _short_text(found, HEADER_EVENT)
    if not _signature_matches(keys, timestamp_text, body, bytes.fromhex(match.group(1))):
        raise WebhookVerificationError(
            f"the {HEADER_SIGNATURE} does not match the body for "
            + ("the secret" if len(keys) == 1 else f"any of the {len(keys)} secrets")
        )
    timestamp = float(timestamp_text)
    age = now - timestamp
    if age > tolerance:
        raise WebhookVerificationError(
            f"the {HEADER_TIMESTAMP} is {age:.0f} s old, beyond the tolerance of {tolerance:g} s"
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"the {HEADER_TIMESTAMP} is {-age:.0f} s in the future, "
            f"beyond the tolerance of {tolerance:g} s"
        )
    return SignedDelivery(id=event_id, type=event_type, timestamp=timestamp, body=body)


def _find_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return the four webhook headers by their canonical names, case-insensitively.

    Raises:
        WebhookVerificationError: One is missing (all missing ones are named), not a
            string, or given twice with different values.
    """
    try:
        items: list[tuple[Any, Any]] = list(headers.items())
    except (AttributeError, TypeError):
        raise WebhookVerificationError("the headers must be a mapping of names to values") from None
    found: dict[str, str] = {}
    for name, value in items:
        canonical = _WANTED.get(name.lower()) if isinstance(name, str) else None
        if canonical is None:
            continue
        if not isinstance(value, str):
            raise WebhookVerificationError(f"malformed {canonical} header: not a string")
        if found.get(canonical, value) != value:
            raise WebhookVerificationError(f"the {canonical} header is given twice, differently")
        found[canonical] = value
    missing = [name for name in _REQUIRED if name not in found]
    if missing:
        raise WebhookVerificationError(
            f"missing webhook header{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
        )
    return found


def _short_text(found: Mapping[str, str], name: str) -> str:
    """Return a header's value stripped, if it is non-empty and not too long."""
    value = found[name].strip()
    if not value or len(value) > MAX_ID_LENGTH:
        raise WebhookVerificationError(
            f"malformed {name} header: expected 1 to {MAX_ID_LENGTH} characters"
        )
    return value


def _signature_matches(
    keys: Sequence[bytes], timestamp_text: str, body: bytes, signature: bytes
) -> bool:
    """Tell whether `signature` is the HMAC of `<timestamp>.<body>` under any key.

    Every key is tried (no early exit) and every comparison is `hmac.compare_digest`,
    so the time taken says nothing about how close a forgery came.
    """
    prefix = timestamp_text.encode("ascii") + b"."
    matched = False
    for key in keys:
        mac = hmac.new(key, prefix, hashlib.sha256)
        mac.update(body)
        matched |= hmac.compare_digest(mac.digest(), signature)
    return matched
