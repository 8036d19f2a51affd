#!/usr/bin/env bash
# Lints the protos with buf, and checks them for breaking changes against the latest
# release tag (v*) when there is one. Installs a pinned buf from npm into .tools/ (git-ignored).
set -euo pipefail

readonly BUF_VERSION=1.75.0

cd "$(dirname "${BASH_SOURCE[0]}")/.."

buf=.tools/node_modules/.bin/buf
if [ ! -x "$buf" ] || [ "$("$buf" --version 2>/dev/null)" != "$BUF_VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "lint_protos: npm not found; run scripts/setup.sh first" >&2
    exit 1
  fi
  echo "lint_protos: installing @bufbuild/buf@$BUF_VERSION into .tools/" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix .tools \
    "@bufbuild/buf@$BUF_VERSION" >&2
fi

echo "lint_protos: buf lint proto"
"$buf" lint proto

latest_tag=$(git tag -l 'v*' --sort=-v:refname | head -n 1)
if [ -z "$latest_tag" ]; then
  echo "lint_protos: no previous version (no v* tag) yet; skipping buf breaking"
else
  echo "lint_protos: buf breaking proto against $latest_tag"
  "$buf" breaking proto --against ".git#tag=$latest_tag,subdir=proto"
fi
echo "lint_protos: OK"
