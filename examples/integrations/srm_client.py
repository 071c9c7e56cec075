"""A tiny client for `srm serve`, Python standard library only (for trainers that should not
grow dependencies). Every integration in this folder goes through post_json."""
import json
import os
import urllib.request

SRM_URL = os.environ.get("SRM_URL", "http://127.0.0.1:8000")


def post_json(path, payload, url=None, timeout=600.0):
    """POSTs payload as JSON to srm serve and returns the decoded reply. Raises on HTTP errors
    with the server's reason (srm answers {"error": ...} for bad requests)."""
    req = urllib.request.Request(
        (url or SRM_URL).rstrip("/") + path,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        reason = e.read().decode("utf-8", "replace")
        raise RuntimeError(f"srm serve answered {e.code}: {reason}") from None
