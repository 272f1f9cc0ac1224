#!/usr/bin/env bash
# Builds the Autograd documentation as a static site, serves it on localhost and takes a headless-browser
# screenshot of the main article ("What a derivative call computes"), so a person can see that it renders.
#
#   scripts/docs-preview.sh            build, serve, screenshot, then keep serving until Ctrl-C
#   scripts/docs-preview.sh --once     build, serve, screenshot, stop (what CI-like checks want)
#
# Environment: PORT (default 8000), SCRATCH (SwiftPM scratch path, default .build), SITE (default docs-site),
# SHOT (screenshot file, default docs-screenshot.png). The site and the screenshot are build products: never commit
# them (docs-site/ is in .gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8000}"
SCRATCH="${SCRATCH:-.build}"
SITE="${SITE:-docs-site}"
SHOT="${SHOT:-docs-screenshot.png}"
BASE=Autograd                       # the site lives under /Autograd/, as on a project page
ARTICLE=documentation/autograd/whataderivativecallcomputes
once=false
[[ "${1:-}" == "--once" ]] && once=true

echo "==> Building the static site in $SITE/$BASE"
rm -rf "$SITE"
mkdir -p "$SITE"
swift package --scratch-path "$SCRATCH" --allow-writing-to-directory "$SITE" \
    generate-documentation --target Autograd --disable-indexing --transform-for-static-hosting \
    --hosting-base-path "$BASE" --output-path "$SITE/$BASE"

echo "==> Serving $SITE on http://localhost:$PORT/$BASE/documentation/autograd"
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$SITE" > /dev/null 2>&1 &
server=$!
trap 'kill "$server" 2> /dev/null || true' EXIT
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$PORT/$BASE/$ARTICLE/index.html" > /dev/null && break
    sleep 0.2
done

browser=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" > /dev/null; then browser="$candidate"; break; fi
done
if [[ -z "$browser" ]]; then
    echo "==> No headless browser found: installing Debian's chromium with apt-get (needs root and the Debian mirror)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
    browser=chromium
fi

echo "==> Screenshot of the main article with $browser: $SHOT"
# DocC pages are rendered by JavaScript: give the page virtual time to load its data before the capture.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2200 \
    --virtual-time-budget=15000 --screenshot="$PWD/$SHOT" "http://127.0.0.1:$PORT/$BASE/$ARTICLE" 2> /dev/null
echo "Screenshot written to $SHOT"

if ! $once; then
    echo "Serving http://localhost:$PORT/$BASE/documentation/autograd (Ctrl-C to stop)"
    wait "$server"
fi
