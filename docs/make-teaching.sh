#!/usr/bin/env bash
# Regenerate the teacher's kit examples in docs/teaching/ for examples/question.yaml:
# a 3-variant exam with its key, the Moodle quiz, an answers template, a student's checked
# answers and the slide deck. Run after the set-up command in README.md; needs pdflatex
# (texlive-latex-base, -latex-recommended for beamer, and texlive-pictures).
set -euo pipefail
cd "$(dirname "$0")/.."
pg=.venv/bin/pathgrad
out=docs/teaching
spec=examples/question.yaml
mkdir -p "$out"
# the exam: three variants (seeds 7, 8, 9), then their keys with the points
$pg exercise "$spec" --weight w11 --variants 3 --seed 7 -o "$out/question-exam.pdf"
$pg exercise "$spec" --weight w11 --variants 3 --seed 7 --key -o "$out/question-exam-key.pdf"
$pg exercise "$spec" --weight w11 --variants 3 --seed 7 -o "$out/question-quiz.xml"
$pg exercise "$spec" --weight w11 --variants 3 --seed 7 -o "$out/question-exam.json"
# what a student fills in for variant 2 (seed 8), and a checked hand calculation
$pg exercise "$spec" --weight w11 --seed 8 --blank values --answers-template \
    -o "$out/question-answers-template.yaml"
status=0
COLUMNS=100 $pg check "$spec" "$out/question-answers-student.yaml" \
    > "$out/question-check.txt" || status=$?
[ "$status" -eq 1 ]  # the student's answers have mistakes: check must say so (exit 1)
# the slides: one overlay per path, the sum, backprop's δ's
$pg explain "$spec" --weight w11 --format beamer -o "$out/question-deck.pdf"
# page previews for the README (70 dpi, as a projector shows them)
if command -v pdftoppm >/dev/null 2>&1; then
  pdftoppm -png -r 70 -singlefile "$out/question-exam.pdf" "$out/question-exam"
  # the key of variant 1 comes after the three sheets (two pages each)
  pdftoppm -png -r 70 -singlefile -f 7 "$out/question-exam-key.pdf" "$out/question-exam-key"
  pdftoppm -png -r 70 -singlefile -f 4 "$out/question-deck.pdf" "$out/question-deck"
fi
echo "wrote $(ls "$out" | wc -l) files in $out"
