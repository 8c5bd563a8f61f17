#!/usr/bin/env bash
# Make sure the system programs the project needs are installed.
# Usage: scripts/ensure-system-deps.sh redis-server [chromium] [nginx] ...
# On Debian/Ubuntu as root the missing ones are installed from Debian's packages;
# anywhere else the script says exactly what to install and fails.
set -euo pipefail

declare -A package_of=(
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [chromium]=chromium
  [nginx]=nginx
  [wrk]=wrk
  [docker-compose]=docker-compose
  [envsubst]=gettext-base
  [node]=nodejs
  [npm]=npm
)

missing=()
for program in "$@"; do
  path="$program"
  [ "$program" = nginx ] && path=/usr/sbin/nginx
  if ! command -v "$path" >/dev/null 2>&1; then
    missing+=("${package_of[$program]:-$program}")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing from Debian's packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "Missing system packages: ${missing[*]}" >&2
echo "Install them first, for example: sudo apt-get install ${missing[*]}" >&2
exit 1
