#!/usr/bin/env bash
# check.sh (make schemas-check): schema evolution against a fresh registry. Starts Apicurio
# Registry with in-memory storage (deploy/local/stack.sh registry-up --memory, VAR_DIR
# <repo>/var/schemas-check, port SCHEMAS_CHECK_PORT, 39080), sets the stack's global
# compatibility (FULL_TRANSITIVE), registers every version of schemas/catalog.tsv in order
# (schemas/register.py) and checks that each tests/schemas/*.avsc is refused; stops the
# registry again, also on failure. Exit 0 when all of that held.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export VAR_DIR=${SCHEMAS_CHECK_VAR_DIR:-$REPO/var/schemas-check}
export REGISTRY_PORT=${SCHEMAS_CHECK_PORT:-39080}
STACK=$REPO/deploy/local/stack.sh

"$STACK" registry-down >/dev/null 2>&1 || true
rm -rf "$VAR_DIR/registry" "$VAR_DIR/log/registry.log"
trap '"$STACK" registry-down >/dev/null 2>&1 || true' EXIT
start=$SECONDS
"$STACK" registry-up --memory
refuse=()
for f in "$REPO"/tests/schemas/*.avsc; do refuse+=(--refuse "$f"); done
python3 "$REPO/schemas/register.py" "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7" "${refuse[@]}"
echo "schemas-check: every catalog version registered in order, $((${#refuse[@]} / 2))" \
    "incompatible schemas refused ($((SECONDS - start))s)"
