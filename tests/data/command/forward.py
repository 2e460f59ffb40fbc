"""Test helper for the command adapter: forwards one action to the sample hook service (URL in SEGUR_TEST_HOOK).

Usage: forward.py METHOD PATH  (JSON body on standard input; the answer's JSON, if any, on standard output)."""

import os
import sys
from pathlib import Path

import httpx

method, path = sys.argv[1], sys.argv[2]
body = sys.stdin.read().strip()
if path == "/v1/session/start":
    import json

    given = json.loads(body)
    body = json.dumps(
        {
            "insi_url": given["insi_url"],
            "dmp_url": given.get("dmp_url"),
            "ca_pem": Path(given["ca_file"]).read_text(),
            "client_cert_pem": Path(given["client_cert_file"]).read_text(),
            "client_key_pem": Path(given["client_key_file"]).read_text(),
        }
    )
response = httpx.request(
    method,
    os.environ["SEGUR_TEST_HOOK"] + path,
    content=body if method != "GET" else None,
    headers={"Content-Type": "application/json"},
    timeout=60,
)
if response.status_code >= 400:
    sys.stderr.write(response.text)
    sys.exit(1)
sys.stdout.write(response.text)
