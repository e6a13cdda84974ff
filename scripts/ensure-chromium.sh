#!/usr/bin/env bash
# Browser tests drive Debian's Chromium. Install it when we can (root, apt); otherwise the
# browser tests skip and say why.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests …"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "Could not install chromium; browser tests will be skipped."
else
  echo "chromium is missing and we are not root: browser tests will be skipped (apt-get install chromium)."
fi
exit 0
