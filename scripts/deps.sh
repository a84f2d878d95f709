#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# Install the Debian 12 packages that building and testing libnomad needs.
# Does nothing when they are all present, so `make` can call it every time.
# With --check it only reports (exit 1) whether something is missing.
set -eu

PKGS="
build-essential
pkg-config
clang
libclang-rt-14-dev
llvm
libevent-dev
libprotobuf-c-dev
protobuf-c-compiler
libsqlite3-dev
libcjson-dev
libbsd-dev
libmbedtls-dev
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0
if [ "${1:-}" = "--check" ]; then
	echo "deps: missing:$missing" >&2
	exit 1
fi

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
