#!/usr/bin/env bash
# Best effort: test/service/postgres.test.ts starts a throwaway PostgreSQL server (initdb, pg_ctl,
# postgres from PATH or /usr/lib/postgresql/*/bin) to test the DATABASE_URL path, and is skipped
# without them. On a fresh Debian machine without them, install Debian's postgresql. Never fails the
# build: a machine where this cannot be done just skips that test.
has_postgres() {
  local dir
  for dir in $(printf '%s' "${PATH:-}" | tr ':' ' ') /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && return 0
  done
  return 1
}
if has_postgres; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing postgresql for the Postgres (DATABASE_URL) test" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends postgresql || { apt-get update && apt-get install -y --no-install-recommends postgresql; }; } >/dev/null 2>&1 || true
fi
has_postgres || echo "no PostgreSQL binaries: the Postgres (DATABASE_URL) test will be skipped" >&2
exit 0
