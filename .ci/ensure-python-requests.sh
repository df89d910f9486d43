#!/usr/bin/env bash
# Best effort: test/e2e/server-process.test.ts runs BFL's Python client and needs a python3 that can
# import `requests` (it is skipped otherwise). On a fresh Debian machine without one, install Debian's
# python3-requests. Never fails the build: a machine where this cannot be done just skips that test.
has_requests() {
  local py
  for py in python3 /usr/bin/python3; do
    command -v "$py" >/dev/null 2>&1 && "$py" -c 'import requests' >/dev/null 2>&1 && return 0
  done
  return 1
}
if has_requests; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing python3-requests for the seed-client test" >&2
  { apt-get install -y --no-install-recommends python3-requests || { apt-get update && apt-get install -y --no-install-recommends python3-requests; }; } >/dev/null 2>&1 || true
fi
has_requests || echo "no python3 with requests: the seed-client e2e test will be skipped" >&2
exit 0
