#!/usr/bin/env bash
# vendor-assets.sh: refresh the browser assets vendored from npm.
#
# Every asset is a file of a pinned npm package version, copied into the
# repository (committed: no CDN, no build step for a newcomer) with a
# VENDOR file beside it that records the package, version, the npm
# tarball's integrity and the sha256 of each copied file. A Go test
# (webuitest TestVendoredChecksums) fails when a file no longer matches its
# record. To upgrade: change the version below, run the script, review the
# diff, run the tests, commit.
#
# Usage: scripts/vendor-assets.sh        (needs npm and network access to the registry)
set -euo pipefail
cd "$(dirname "$0")/.."

# package  version  destination directory  files inside the package...
assets=(
  # axe-core: accessibility checks that the browser tests inject into every page (never served).
  "axe-core 4.14.1 internal/webui/webuitest/vendor/axe-core axe.min.js LICENSE"
  # pdfjs-dist: renders the offer's PDFs in the customer UI and the admin UI (internal/webui's static files,
  # served from each surface's own origin, worker included), with the CMaps and standard fonts so that any text renders.
  "pdfjs-dist 5.4.296 internal/webui/static/vendor/pdfjs-dist LICENSE build/pdf.min.mjs build/pdf.worker.min.mjs cmaps/* standard_fonts/*"
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for line in "${assets[@]}"; do
  read -r pkg version dest files <<<"$line"
  echo "vendoring $pkg@$version into $dest"
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
  tarball=$(ls "$tmp"/*.tgz)
  integrity=$(npm view "$pkg@$version" dist.integrity)
  mkdir -p "$tmp/x" "$dest"
  tar -xzf "$tarball" -C "$tmp/x"
  {
    echo "# Vendored from npm by scripts/vendor-assets.sh; do not edit by hand."
    echo "package $pkg"
    echo "version $version"
    echo "integrity $integrity"
    # Patterns (cmaps/*) are expanded inside the package.
    for f in $(cd "$tmp/x/package" && for g in $files; do ls -d $g; done); do
      mkdir -p "$dest/$(dirname "$f")"
      cp "$tmp/x/package/$f" "$dest/$f"
      echo "sha256 $(sha256sum "$dest/$f" | cut -d' ' -f1) $f"
    done
  } >"$dest/VENDOR"
  rm -rf "$tmp/x" "$tarball"
done
