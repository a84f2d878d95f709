#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Print one T(name) line for every NMD_TEST(name) in the given test sources;
# test/runner.c includes the result to build its table.
set -eu
sed -n 's/^NMD_TEST(\([A-Za-z0-9_]*\)).*/T(\1)/p' "$@" | sort
