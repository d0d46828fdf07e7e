# Sourced by the scripts: install the Debian packages Pustula needs when they are missing.
#   postgresql                                   PostgreSQL half of the store tests (pg_virtualenv, pg_dump)
#   libpango, harfbuzz-subset, DejaVu fonts      WeasyPrint's text layout for PDF reports
#   chromium (tests only: PUSTULA_NEED_BROWSER=1) browser tests, driven by Playwright
#   poppler-utils (tests only)                   the report test renders PDF pages to PNG
#   nginx (tests only)                           the example reverse proxy, run over HTTPS
#   R with metafor, lme4, nlme and emmeans       the live comparisons with R (metafor; the
#     (tests only)                               trial's MMRM against nlme::gls + emmeans)
# Needs root (or sudo) only when something is missing.
need=()
command -v pg_virtualenv >/dev/null 2>&1 || need+=(postgresql postgresql-common)
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${PUSTULA_NEED_BROWSER:-0}" = "1" ] && [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
if [ "${PUSTULA_NEED_BROWSER:-0}" = "1" ] && ! command -v pdftoppm >/dev/null 2>&1; then
  need+=(poppler-utils)
fi
if [ "${PUSTULA_NEED_BROWSER:-0}" = "1" ] && [ ! -x /usr/sbin/nginx ]; then
  need+=(nginx)
fi
if [ "${PUSTULA_NEED_BROWSER:-0}" = "1" ]; then
  for pkg in r-base-core r-cran-metafor r-cran-lme4 r-cran-nlme r-cran-emmeans; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
