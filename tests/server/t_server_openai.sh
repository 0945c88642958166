#!/usr/bin/env bash
# The official OpenAI Node SDK (npm "openai", unmodified) against voxd.
cd "$(dirname "$0")" && source ./lib.sh
source ./js/npm_env.sh
MODELS=${VOX_SHARED:-../shared}/models
[ -f "$MODELS/en_US-rand-medium.onnx" ] || MODELS=$(cd ../../.. && pwd)/shared/models
# --timeout 600: under ThreadSanitizer a busy 2-core machine took the Piper voice's first
# request (load + 2 sentences) past the default 60 s (CI, stop 24), as for t_server_http
start_server open --workers 2 --data-dir "$MODELS" --timeout 600
P1=$PORT
VOX_API_KEY=k3y start_server keyed --workers 1
node ./js/openai_client.js "$P1" "$PORT"
