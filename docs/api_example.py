#!/usr/bin/env python3
"""A small client of the Mutual Aid Exchange API, with nothing but Python's standard library.

It posts a request for help, then waits until a coordinator has approved a match for it and
prints that match: the helper's first name, how to reach them, and the place.

    MAE_TOKEN=mae_... python3 docs/api_example.py https://aid.example.org --title "Groceries" --zip 54016

Make the token on the site under /account/tokens ("Read and write"). The whole API is described
at /api/openapi.json, with a docs page at /api/docs.
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request


def call(base: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json",
        **({"Content-Type": "application/json"} if data is not None else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        problem = json.load(err)
        sys.exit(f"{method} {path}: {problem['code']} {problem['message']} {problem.get('errors', '')}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the site's address, e.g. https://aid.example.org")
    parser.add_argument("--title", required=True)
    parser.add_argument("--zip", required=True, help="a 5-digit ZIP code")
    parser.add_argument("--category", default="food")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for an approved match")
    args = parser.parse_args(argv)
    token = os.environ.get("MAE_TOKEN") or sys.exit("Set MAE_TOKEN to a token made on /account/tokens.")

    need = call(args.base, token, "POST", "/api/v1/me/posts", {
        "kind": "need", "category": args.category, "title": args.title, "zip_code": args.zip, "flexible": True})
    print(f"posted request {need['id']}: {need['looking_for']}", flush=True)

    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        mine = call(args.base, token, "GET", "/api/v1/me/matches")["items"]
        approved = [m for m in mine if m["need"]["id"] == need["id"] and m["status"] in ("approved", "accepted")]
        if approved:
            match = call(args.base, token, "GET", f"/api/v1/matches/{approved[0]['id']}")
            print(json.dumps(match, indent=2), flush=True)
            return 0
        time.sleep(1)
    print("no approved match yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
