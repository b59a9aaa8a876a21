#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# meson install script: copies each example config into DIR unless a file of that name is
# already there (an operator's config is never overwritten). Honors DESTDIR.
#   install-missing.sh DIR MODE FILE...
set -eu
dir="${DESTDIR:-}$1"
mode="$2"
shift 2
mkdir -p "$dir"
for src in "$@"; do
	name=$(basename "$src" .in)
	if [ -e "$dir/$name" ]; then
		echo "tessera: kept $dir/$name (exists; the new example is $src)"
	else
		install -m "$mode" "$src" "$dir/$name"
		echo "tessera: installed $dir/$name"
	fi
done
