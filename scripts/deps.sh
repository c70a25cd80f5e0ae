#!/usr/bin/env bash
# Installs and starts what the tests need on a Debian machine. Idempotent: a second run
# finds everything in place and changes nothing. Called by `make deps` (and so `make test`).
set -euo pipefail
log() { echo "deps: $*" >&2; }

need_apt=()
command -v git >/dev/null || need_apt+=(git)
if [ ${#need_apt[@]} -gt 0 ]; then
	log "installing ${need_apt[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
log "ready"
