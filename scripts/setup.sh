# Sourced by scripts/demo and scripts/test: installs the Debian packages salama's build
# needs, and only those that are missing.

# Packages for building the library, its examples and tests.
SALAMA_BUILD_PACKAGES=(
  cmake ninja-build g++ pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libfmt-dev libhiredis-dev libssl-dev
)
# What the test suite runs against: Catch2, Google Benchmark, a real redis-server,
# promtool (from prometheus), python3 for the packaging checks, gzip/xz for the traces, clang
# and its libFuzzer runtime for the fuzz targets.
SALAMA_TEST_PACKAGES=(
  catch2 libbenchmark-dev redis-server redis-tools prometheus python3 gzip xz-utils
  clang libclang-rt-14-dev
)

salama_install() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "salama: missing packages: ${missing[*]}" >&2
      echo "salama: run as root or install sudo, or install them yourself:" >&2
      echo "  apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "salama: installing ${missing[*]}"
  local log
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${sudo[@]}" apt-get update -qq && \
         "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "salama: apt-get failed for: ${missing[*]}" >&2
    exit 1
  fi
  rm -f "$log"
}

