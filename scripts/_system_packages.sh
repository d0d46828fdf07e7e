# Sourced by the scripts: install the Debian packages Pustula needs when they are missing.
#   postgresql            the PostgreSQL half of the store tests (pg_virtualenv, pg_dump)
#   libpango, harfbuzz-subset, DejaVu fonts: WeasyPrint's text layout for PDF reports
# Needs root (or sudo) only when something is missing.
need=()
command -v pg_virtualenv >/dev/null 2>&1 || need+=(postgresql postgresql-common)
for lib in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
for pkg in "${PUSTULA_EXTRA_DEBIAN_PACKAGES[@]:-}"; do
  [ -n "$pkg" ] && { dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); }
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
