#!/usr/bin/env bash
# Regenerate the pictures README.md shows, from examples/question.yaml:
#   docs/question-graph.png  `pathgrad graph` (graph view, local partials on the edges)
#   docs/mazur-graph.png     the neuron view of examples/mazur.yaml from w1_1_1
#   docs/rnn-graph.png       examples/rnn.yaml: a column per time step, each use of w lit
#   docs/residual-graph.png  examples/residual.yaml: skip connections as arcs above the blocks
#   docs/question-page.png   the `--format html` page in headless chromium, path 1 lit
#   docs/interactive-*.png   the interactive page (`pathgrad page`) mid-use (docs/interactive_shots.py)
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
"$pathgrad" graph examples/mazur.yaml --weight w1_1_1 -o docs/mazur-graph.png
"$pathgrad" graph examples/rnn.yaml --weight w --label partial -o docs/rnn-graph.png
"$pathgrad" graph examples/residual.yaml --weight x -o docs/residual-graph.png
"$pathgrad" explain examples/question.yaml --weight w11 -o "$tmp/question.html"
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$tmp/profile" --window-size=1100,860 \
  --screenshot="$PWD/docs/question-page.png" "file://$tmp/question.html#path=1" 2>/dev/null
"$pathgrad" lengths examples/rnn.yaml examples/lstm.yaml examples/gru.yaml --by route \
  -o docs/routes.png
"$pathgrad" lengths docs/rnn12.yaml docs/lstm12.yaml --steps 2-12 --measure magnitude \
  -o docs/routes-steps.png
# the interactive page (`pathgrad page`) mid-use, driven by Playwright in the same chromium
.venv/bin/python docs/interactive_shots.py "$chromium"
echo "wrote docs/question-graph.png docs/mazur-graph.png docs/rnn-graph.png docs/residual-graph.png docs/question-page.png docs/routes.png docs/routes-steps.png"
