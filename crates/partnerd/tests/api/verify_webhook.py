"""Verifies one captured delivery the way receivers do: with the API document's own
verify_webhook snippet (X-Vellocity-Signature) and with the standardwebhooks package.

usage: verify_webhook.py BODY_FILE HEADERS_JSON_FILE SECRET
"""
import hashlib
import hmac
import json
import sys

from standardwebhooks.webhooks import Webhook


# From partner-api-v1.txt, "Verifying Webhooks", unchanged.
def verify_webhook(payload, signature, secret):
    expected = hmac.new(
        secret.encode(),
        payload.encode(),
        hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(signature, expected)


body = open(sys.argv[1], "rb").read().decode()
headers = json.load(open(sys.argv[2]))
secret = sys.argv[3]

assert verify_webhook(body, headers["x-vellocity-signature"], secret), "X-Vellocity-Signature does not verify"
assert not verify_webhook(body + " ", headers["x-vellocity-signature"], secret), "a changed body must not verify"

standard = {k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
Webhook(secret).verify(body, standard)
try:
    Webhook(secret).verify(body.replace('"', "'", 1), standard)
except Exception:
    pass
else:
    sys.exit("a changed body must not verify (Standard Webhooks)")
print("verified")
