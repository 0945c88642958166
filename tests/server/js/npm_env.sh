# npm_env.sh — sourced by the JS-driven tests: installs this directory's package.json into
# a cache dir only when something is missing, then exports NODE_PATH.
NPM_DIR=${VOX_NPM_CACHE:-$HOME/.cache/vox-npm-server}
JS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v node >/dev/null || { echo "node not found"; exit 1; }
need_install=0
mkdir -p "$NPM_DIR"
cmp -s "$JS_DIR/package.json" "$NPM_DIR/package.json" || need_install=1
for m in openai playwright-core; do [ -f "$NPM_DIR/node_modules/$m/package.json" ] || need_install=1; done
if [ $need_install = 1 ]; then
  cp "$JS_DIR/package.json" "$NPM_DIR/package.json"
  echo "installing npm packages into $NPM_DIR"
  (cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error) || { echo "npm install failed"; exit 1; }
fi
export NODE_PATH=$NPM_DIR/node_modules
