"""The account's credit balance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from musicapi._models.common import EMPTY_RAW


@attrs.frozen(kw_only=True)
class Credits:
    """Both credit pools of the account (`GET /get-credits`).

    Attributes:
        credits: Subscription credits (reset each billing cycle).
        extra_credits: One-time pack credits (never expire; spent first).
        raw: The JSON the balance came from, unknown fields included.
    """

    credits: int | float
    extra_credits: int | float = 0
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)

    @property
    def total(self) -> int | float:
        """Both pools together."""
        return self.credits + self.extra_credits
