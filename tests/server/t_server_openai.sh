#!/usr/bin/env bash
# The official OpenAI Node SDK (npm "openai", unmodified) against voxd.
cd "$(dirname "$0")" && source ./lib.sh
source ./js/npm_env.sh
MODELS=${VOX_SHARED:-../shared}/models
[ -f "$MODELS/en_US-rand-medium.onnx" ] || MODELS=$(cd ../../.. && pwd)/shared/models
start_server open --workers 2 --data-dir "$MODELS"
P1=$PORT
VOX_API_KEY=k3y start_server keyed --workers 1
node ./js/openai_client.js "$P1" "$PORT"
