#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian/Ubuntu machine:
# PostgreSQL server + PostGIS, Node.js + npm (to build the console) and Chromium (its browser tests)
# from Debian's packages, and uv (from PyPI). Safe to run again.
set -euo pipefail

need_pg() {
  ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  local v
  v=$(ls -d /usr/lib/postgresql/*/ | sort -V | tail -1 | xargs basename)
  [ -f "/usr/share/postgresql/$v/extension/postgis.control" ] || return 0
  return 1
}

if need_pg; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL and PostGIS are missing. Install them, then run make again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y postgresql postgresql-15-postgis-3" >&2
    echo "(use the postgresql-NN-postgis-3 package matching your PostgreSQL NN)" >&2
    exit 1
  fi
  echo "installing PostgreSQL and PostGIS (apt)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get install -y -qq postgresql-common postgresql >/dev/null
  fi
  v=$(ls -d /usr/lib/postgresql/*/ | sort -V | tail -1 | xargs basename)
  apt-get install -y -qq "postgresql-$v-postgis-3" >/dev/null
fi

# The console (web/) is built with npm; its browser tests drive Debian's Chromium (never a browser
# downloaded by Playwright, which cannot be fetched here).
missing=()
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing ${missing[*]} (apt)…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  elif ! command -v npm >/dev/null 2>&1; then
    echo "Node.js and npm are missing (they build the console). Install them, then run make again:" >&2
    echo "  sudo apt-get install -y nodejs npm chromium" >&2
    exit 1
  else
    echo "note: no /usr/bin/chromium, so the browser tests will be skipped (sudo apt-get install -y chromium)" >&2
  fi
fi

if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  # the embedded cluster runs as this unprivileged user when we are root
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  echo "installing uv (pip)…"
  python3 -m pip install --quiet uv 2>/dev/null || python3 -m pip install --quiet --user uv
fi
