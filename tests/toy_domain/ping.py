"""What a vendor's command does for the toy action: read the word on standard input, say it to SEGUR_TOY_URL over
mutual TLS with the bench's certificates."""

from __future__ import annotations

import json
import os
import ssl
import sys

import httpx

payload = json.load(sys.stdin)
context = ssl.create_default_context(cafile=os.environ["SEGUR_CA_FILE"])
context.load_cert_chain(os.environ["SEGUR_CLIENT_CERT_FILE"], os.environ["SEGUR_CLIENT_KEY_FILE"])
with httpx.Client(verify=context, timeout=10) as client:
    client.post(os.environ["SEGUR_TOY_URL"], content=payload["word"].encode())
