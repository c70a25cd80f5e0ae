#!/usr/bin/env bash
# Installs and starts what the tests need on a Debian machine. Idempotent: a second run
# finds everything in place and changes nothing. Called by `make deps` (and so `make test`).
set -euo pipefail
log() { echo "deps: $*" >&2; }

# Pinned versions of the external test servers (ARCHITECTURE.md §9).
AZURITE_VERSION=3.37.0
VERSITYGW_VERSION=v1.8.0

need_apt=()
command -v git >/dev/null || need_apt+=(git)
command -v npm >/dev/null || need_apt+=(npm)
command -v dockerd >/dev/null || need_apt+=(docker.io)
[ -x /usr/bin/busybox ] || need_apt+=(busybox-static) # test images are built FROM scratch with it
if [ ${#need_apt[@]} -gt 0 ]; then
	log "installing ${need_apt[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Azurite (Azure Blob emulator) from npm; the adapters/azure tests start azurite-blob themselves.
if [ "$(azurite-blob --version 2>/dev/null)" != "$AZURITE_VERSION" ]; then
	log "installing azurite@$AZURITE_VERSION"
	npm install --global --no-fund --no-audit --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
fi

# versitygw (a real S3 server) with go install; the adapters/s3 tests start it themselves.
gobin="$(go env GOBIN)"
gobin="${gobin:-$(go env GOPATH)/bin}"
if ! go version -m "$gobin/versitygw" 2>/dev/null | grep -Eq "^\s+mod\s+github.com/versity/versitygw\s+$VERSITYGW_VERSION\s"; then
	log "installing versitygw@$VERSITYGW_VERSION"
	GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi
# dockerd for adapters/docker: no bridge and no iptables (tests run containers without network).
if ! docker info >/dev/null 2>&1; then
	log "starting dockerd"
	nohup dockerd --bridge=none --iptables=false >/var/log/strata-dockerd.log 2>&1 &
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && break
		sleep 1
	done
	docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/strata-dockerd.log"; exit 1; }
fi
log "ready"
