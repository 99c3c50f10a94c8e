#!/usr/bin/env bash
# Regenerate the pictures README.md shows, from examples/question.yaml:
#   docs/question-graph.png  `pathgrad graph` (matplotlib)
#   docs/question-page.png   the `--format html` page in headless chromium, path 1 lit
#   docs/routes.png          `pathgrad lengths --by route`: plain RNN vs LSTM vs GRU from x1
#   docs/routes-steps.png    `pathgrad lengths --steps`: each route's |gradient| as T grows
# Run after the README's set-up command: docs/make-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
pathgrad=.venv/bin/pathgrad
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome) || {
  echo "make-images: needs chromium (apt-get install chromium)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$pathgrad" graph examples/question.yaml --weight w11 --label partial -o docs/question-graph.png
"$pathgrad" explain examples/question.yaml --weight w11 -o "$tmp/question.html"
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$tmp/profile" --window-size=1100,860 \
  --screenshot="$PWD/docs/question-page.png" "file://$tmp/question.html#path=1" 2>/dev/null
"$pathgrad" lengths examples/rnn.yaml examples/lstm.yaml examples/gru.yaml --by route \
  -o docs/routes.png
"$pathgrad" lengths docs/rnn12.yaml docs/lstm12.yaml --steps 2-12 --measure magnitude \
  -o docs/routes-steps.png
echo "wrote docs/question-graph.png docs/question-page.png docs/routes.png docs/routes-steps.png"
