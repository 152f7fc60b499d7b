#!/usr/bin/env bash
# Rebuild the example reports in docs/reports/ from the bundled sample notes and demo model:
# verify the sample notes into a fresh history, review two suspect notes, write the batch report,
# a certificate and the hand-over forms (PDF and HTML), render the PDF pages to PNG, and take a
# screenshot of the Reports page previewing the batch.
#
#   bash docs/reports/make_examples.sh          # from the repository root; needs poppler-utils (pdftoppm)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bg=${BANKNOTE_GUARD:-.venv/bin/banknote-guard}
out=docs/reports
work=$(mktemp -d -t banknote_guard_examples.XXXXXX)
trap 'rm -rf "$work"' EXIT
export BANKNOTE_GUARD_DATA_DIR="$work/data"
hist="$work/history.sqlite"
batch="shift-example-desk-3"

"$bg" verify assets/demo_model.bgm assets/sample_notes -q --history "$hist" --batch-id "$batch" \
    --station "desk 3" --operator "A. Teller" || true   # exit 1: suspect notes were found
suspects=$("$bg" history list --history "$hist" --batch "$batch" --verdict suspect --json \
    | .venv/bin/python -c 'import json, sys; print(" ".join(r["id"] for r in json.load(sys.stdin)))')
read -r first second _ <<<"$suspects"
"$bg" history review "$first" --history "$hist" --decision confirmed --by "B. Supervisor" \
    --handover-ref "POL-2026-0117" --serial "KA4471902" \
    --comment "Paid in at the counter with two other 10 KRT notes; customer details recorded."
"$bg" history review "$second" --history "$hist" --decision confirmed --by "B. Supervisor"

rm -f "$out"/*.pdf "$out"/*.html "$out"/*.csv "$out"/*.png
"$bg" report --history "$hist" --batch "$batch" --kind batch -q --out "$out/batch_report.pdf"
"$bg" report --history "$hist" --batch "$batch" --kind batch -q --out "$out/batch_report.html"
"$bg" report --history "$hist" --record "$first" --kind certificate -q --out "$out/certificate.pdf"
"$bg" report --history "$hist" --record "$first" --kind certificate -q --out "$out/certificate.html"
"$bg" report --history "$hist" --batch "$batch" --kind handover -q --out "$out/handover_forms.pdf"
"$bg" report --history "$hist" --batch "$batch" --kind handover -q --out "$out/handover_forms.html"
"$bg" report --history "$hist" --batch "$batch" --kind batch -q --out "$out/batch_report.csv"

for pdf in "$out"/*.pdf; do
    pdftoppm -r 72 -png "$pdf" "${pdf%.pdf}-page"
done
QT_QPA_PLATFORM=offscreen .venv/bin/python docs/reports/reports_page_screenshot.py "$hist" "$batch" "$out/reports_page.png"
ls -l "$out"
