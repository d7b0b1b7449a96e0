"""POST a JSON body to a webhook (Slack-compatible `{"text": ...}`)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from pos.notify import DeliveryFailed

TIMEOUT_SECONDS = 5


def post_json(url: str, payload: dict[str, Any]) -> None:
    """Raise DeliveryFailed unless the receiver answers 2xx."""
    if not url.startswith(("http://", "https://")):
        raise DeliveryFailed("ALERT_WEBHOOK_URL must start with http:// or https://.")
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "clinic-pos"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"The webhook answered HTTP {error.code}.") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or type(error).__name__
        raise DeliveryFailed(f"Could not reach the webhook: {reason}.") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"The webhook answered HTTP {status}.")
