#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
#
# Install into a temporary prefix (with DESTDIR, as a packager would), then
# build an out-of-tree program with `pkg-config --cflags --libs libnomad`,
# shared and static, and run it; check that the shared library exports only
# nomad_* symbols; uninstall and check that nothing is left behind.
# Usage: test-install.sh [-r results-file]
set -u
B=${B:-build}
CC=${CC:-cc}
res=""
[ "${1:-}" = "-r" ] && res=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/libnomad-test
root=$tmp/root
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok    install::$1"; }
bad() { failed=$((failed + 1)); echo "FAIL  install::$1"; [ -s "$tmp/out" ] && sed 's/^/    /' "$tmp/out"; }

if make -s install PREFIX=$prefix DESTDIR="$root" > "$tmp/out" 2>&1 &&
	[ -f "$root$prefix/include/nomad/nomad.h" ] &&
	[ -f "$root$prefix/lib/libnomad.a" ] &&
	[ -L "$root$prefix/lib/libnomad.so" ] &&
	[ -f "$root$prefix/lib/pkgconfig/libnomad.pc" ]; then
	ok install
else
	bad install
fi

# The .pc file names the final prefix; point pkg-config at the staged tree.
export PKG_CONFIG_PATH="$root$prefix/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$root"
cat > "$tmp/version.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <nomad/nomad.h>
int main(void)
{
	printf("%s\n", nomad_version());
	return strcmp(nomad_version(), NOMAD_VERSION_STRING) != 0;
}
C
want=$(sed -n 's/^#define NOMAD_VERSION_STRING "\(.*\)"/\1/p' include/nomad/core.h)
if $CC -std=c11 -Wall -Werror -o "$tmp/version" "$tmp/version.c" \
	$(pkg-config --cflags --libs libnomad) > "$tmp/out" 2>&1 &&
	[ "$(LD_LIBRARY_PATH="$root$prefix/lib" "$tmp/version")" = "$want" ]; then
	ok pkgconfig_shared
else
	bad pkgconfig_shared
fi
if $CC -std=c11 -Wall -Werror -o "$tmp/version-static" "$tmp/version.c" \
	$(pkg-config --cflags libnomad) "$root$prefix/lib/libnomad.a" \
	$(pkg-config --libs --static libnomad | sed 's/-lnomad//') > "$tmp/out" 2>&1 &&
	[ "$("$tmp/version-static")" = "$want" ]; then
	ok pkgconfig_static
else
	bad pkgconfig_static
fi

so=$(readlink -f "$B/libnomad.so")
nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^nomad_' | grep -v '^$' > "$tmp/out"
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
if [ ! -s "$tmp/out" ] && [ "$soname" = "libnomad.so.$(echo "$want" | cut -d. -f1)" ]; then
	ok exports_only_nomad_symbols
else
	echo "soname: $soname" >> "$tmp/out"
	bad exports_only_nomad_symbols
fi

if make -s uninstall PREFIX=$prefix DESTDIR="$root" > "$tmp/out" 2>&1 &&
	[ -z "$(find "$root" -type f -o -type l)" ]; then
	ok uninstall
else
	find "$root" -type f -o -type l >> "$tmp/out"
	bad uninstall
fi

[ -n "$res" ] && echo "$passed $failed 0" > "$res"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
