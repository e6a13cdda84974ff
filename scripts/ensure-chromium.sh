#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; the PDF tests render pages with poppler-utils
# (pdftoppm, pdftotext). Install what is missing when we can (root, apt); otherwise those tests
# skip and say why.
set -u
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
if [ -z "$missing" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's$missing for the browser and PDF tests …"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq $missing >/dev/null) || echo "Could not install$missing; the tests that need it will be skipped."
else
  echo "Missing:$missing, and we are not root: the tests that need it will be skipped (apt-get install$missing)."
fi
exit 0
