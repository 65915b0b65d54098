#!/usr/bin/env bash
# Regenerates src/capnp/gen/*.ts from src/capnp/schema/*.capnp with capnp-es (capnpc-ts as a capnp plugin).
# Needs the `capnp` compiler (tested with 0.9.2) and node_modules. The output is committed, so CI never runs this.
#
# capnp-es 0.0.16 emits code that fails the repo's `noImplicitOverride`; the fix-ups below add the missing
# `override` keywords mechanically so the generated files are never edited by hand.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
schema_dir="src/capnp/schema"
gen_dir="$root/src/capnp/gen"
plugin="$root/node_modules/.bin/capnpc-ts"

command -v capnp >/dev/null || { echo "gen-capnp: the capnp compiler is not installed" >&2; exit 1; }
[ -x "$plugin" ] || { echo "gen-capnp: $plugin missing (run npm ci)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$root"
capnp compile -o"$plugin:$tmp" --src-prefix="$schema_dir" "$schema_dir"/tunnelrpc.capnp "$schema_dir"/quic_metadata_protocol.capnp >/dev/null

for f in "$tmp"/*.ts; do
  sed -E \
    -e 's/^( +)static readonly _capnp = \{/\1static override readonly _capnp = {/' \
    -e 's/^( +)toString\(\): string \{/\1override toString(): string {/' \
    -e 's/^( +)readonly target: ([A-Za-z]+\$Server\$Target);/\1override readonly target: \2;/' \
    "$f" >"$f.fixed"
  mv "$f.fixed" "$f"
done

mkdir -p "$gen_dir"
rm -f "$gen_dir"/*.ts
cp "$tmp"/*.ts "$gen_dir"/
echo "gen-capnp: wrote $(ls "$gen_dir" | tr '\n' ' ')"
