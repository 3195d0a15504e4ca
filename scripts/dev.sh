#!/usr/bin/env bash
# One entry point on a fresh Debian 12 machine (as root, or with sudo):
#   scripts/dev.sh demo       install packages, build (Release), run the quickstart
#   scripts/dev.sh test       install packages, build (Release), run the whole test suite
#   scripts/dev.sh test-asan  the same suite under AddressSanitizer + UBSan
#   scripts/dev.sh bench      build and run the benchmark programs
#   scripts/dev.sh stress [KILLS]  build (Release), SIGKILL real processes KILLS times (1000)
#   scripts/dev.sh build      install packages and build only
#   scripts/dev.sh docs       regenerate the schema tables in docs/record-format.md
#   scripts/dev.sh simulate [SEEDS]  the one-seed simulation over SEEDS seeds (default 10000)
#   scripts/dev.sh fuzz [S]   build with clang + libFuzzer, run every fuzz target S seconds (60)
#   scripts/dev.sh package    build the Debian package (deploy build) into build/package/
# `test`, `test-asan`, `bench`, `stress`, `simulate` and `fuzz` build with
# -DTUPHAP_TEST_KDF=ON (new key files may use the weak test KDF,
# TUPHAP_KDF=weak); `demo`, `build`, `docs` and `package` with it OFF, the way
# to build a binary to deploy. `test` ends with tests/package/install_test.sh:
# the package installed into a clean Debian 12 root.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys paths relative to the checkout, so build/release and
# build/package-build (the same depth) share their objects.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"

PACKAGES=(build-essential cmake ninja-build ccache pkg-config python3
  libsqlite3-dev libsodium-dev libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libtomlplusplus-dev libicu-dev
  librapidcheck-dev libspdlog-dev prometheus-cpp-dev strace gettext libsystemd-dev
  dpkg-dev lintian debootstrap systemd systemd-container  # the package and its install test
  chromium chromium-driver python3-selenium fonts-dejavu-core)  # the web app's browser tests
JOBS=$(nproc 2>/dev/null || echo 2)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {  # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j"$JOBS"
}

case "${1:-}" in
  demo)
    install_deps
    build build/release -DCMAKE_BUILD_TYPE=Release -DTUPHAP_TEST_KDF=OFF
    ./build/release/cli/tuphap demo
    ;;
  test)
    install_deps
    build build/release -DCMAKE_BUILD_TYPE=Release -DTUPHAP_TEST_KDF=ON
    ctest --test-dir build/release -j"$JOBS" --output-on-failure --timeout 900
    "$0" package
    tests/package/install_test.sh build/package
    ;;
  package)  # the .deb of a deploy build (Release, TUPHAP_TEST_KDF=OFF), only what it installs
    install_deps
    # Full RELRO at link time (the objects stay those of build/release, so
    # ccache serves them).
    cmake -S . -B build/package-build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTUPHAP_TEST_KDF=OFF \
      -DTUPHAP_BENCH=OFF "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-z,relro,-z,now" >/dev/null
    cmake --build build/package-build -j"$JOBS" --target tuphap tuphap_package_files
    rm -f build/package/tuphap_*.deb
    (cd build/package-build && cpack -G DEB >/dev/null)
    deb=$(ls build/package/tuphap_*.deb)
    echo "built $deb ($(du -k "$deb" | cut -f1) KB)"
    if command -v lintian >/dev/null; then
      lintian --suppress-tags-from-file packaging/lintian-suppressed "$deb" || true
    fi
    ;;
  test-asan)
    install_deps
    build build/asan -DCMAKE_BUILD_TYPE=Debug -DTUPHAP_SANITIZE=ON -DTUPHAP_BENCH=OFF -DTUPHAP_TEST_KDF=ON
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build/asan -j"$JOBS" --output-on-failure --timeout 1800
    ;;
  bench)
    install_deps
    build build/release -DCMAKE_BUILD_TYPE=Release -DTUPHAP_TEST_KDF=ON
    ./build/release/tests/store_bench
    ./build/release/tests/import_bench
    ./build/release/tests/security_bench
    ./build/release/tests/sync_bench
    ./build/release/tests/reconcile_bench
    ./build/release/tests/web_bench
    ./build/release/tests/hello_bench
    ./build/release/tests/serve_latency_bench
    ./build/release/tests/load_bench --communes 20 --per-commune 1000 --runs 2
    # The issue's own workload, where the shared generator is beside the project.
    if [ -f ../shared/workload/gen.py ]; then
      gen_file=$(mktemp --suffix=.jsonl)
      python3 ../shared/workload/gen.py --records 100000 --seed 1 --province 56 --communes 50 --out "$gen_file"
      ./build/release/tests/import_bench --file "$gen_file" --province 56
      rm -f "$gen_file"
    fi
    # Sync through links cut every 20-300 KB, 100 KB-1 MB, and never (exits 1
    # if a range does not converge; last, so the figures above are printed).
    python3 tests/bench/bad_link_bench.py --tuphap ./build/release/cli/tuphap
    ;;
  stress)  # kill points: tests/stress/kill_stress.py; its last line is the counts
    install_deps
    build build/release -DCMAKE_BUILD_TYPE=Release -DTUPHAP_TEST_KDF=ON
    python3 tests/stress/kill_stress.py ./build/release/cli/tuphap --kills "${2:-1000}"
    ;;
  simulate)  # the one-seed deterministic simulation (tests/sim); its last line is the counts
    install_deps
    build build/release -DCMAKE_BUILD_TYPE=Release -DTUPHAP_TEST_KDF=ON
    ./build/release/tests/tuphap_sim --seeds "${2:-10000}"
    ;;
  docs)  # regenerate the field tables in docs/record-format.md from `tuphap schema`
    build build/release -DCMAKE_BUILD_TYPE=Release -DTUPHAP_TEST_KDF=OFF
    ./build/release/cli/tuphap schema > build/release/schema.txt
    python3 - build/release/schema.txt docs/record-format.md <<'PY'
import sys
tables = open(sys.argv[1], encoding="utf-8").read()
doc = open(sys.argv[2], encoding="utf-8").read()
head, rest = doc.split("<!-- schema:begin -->\n", 1)
_, tail = rest.split("<!-- schema:end -->", 1)
open(sys.argv[2], "w", encoding="utf-8").write(
    head + "<!-- schema:begin -->\n```text\n" + tables + "```\n<!-- schema:end -->" + tail)
PY
    ;;
  fuzz)  # every decoder of untrusted bytes under libFuzzer (tests/fuzz), SECONDS each
    PACKAGES+=(clang libclang-rt-dev)
    install_deps
    seconds=${2:-60}
    dir=${FUZZ_BUILD_DIR:-build/fuzz}
    CC=clang CXX=clang++ build "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUPHAP_FUZZ=ON \
      -DTUPHAP_BENCH=OFF -DTUPHAP_TEST_KDF=ON
    mkdir -p "$dir/fuzz-logs" "$dir/crashes" "$dir/corpus"
    targets=0 total=0 crashes=0
    # detect_leaks: a leak is a failure like a crash.
    export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # One set of nodes for every target and run (tests/fuzz/fuzz_world.h), so
    # the corpora kept in $dir/corpus stay meaningful from run to run.
    export TUPHAP_FUZZ_WORLD=${TUPHAP_FUZZ_WORLD:-$dir/fuzz-world}
    while read -r t; do
      [ -n "$t" ] || continue
      corpus="$dir/corpus/$t"
      log="$dir/fuzz-logs/$t.log"
      # The corpus starts from the target's seeds and keeps what each run adds.
      "$dir/tests/$t" --dump-seeds "$corpus" >/dev/null
      rc=0
      "$dir/tests/$t" "$corpus" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 \
        -artifact_prefix="$dir/crashes/$t-" >"$log" 2>&1 || rc=$?
      runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
      speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
      cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
      targets=$((targets + 1))
      total=$((total + ${runs:-0}))
      status=ok
      if [ "$rc" -ne 0 ]; then
        crashes=$((crashes + 1))
        status="CRASH (exit $rc): $(grep -m1 -E 'ERROR|invariant broken|runtime error' "$log" || true); see $log"
      fi
      printf '%-24s %12s executions %8s exec/s  cov %6s  %s\n' "$t" "${runs:-0}" "${speed:-0}" \
        "${cov:-?}" "$status"
    done <"$dir/tests/fuzz_targets.txt"
    echo "fuzz: $targets targets, $total executions, $crashes crashes"
    [ "$crashes" -eq 0 ]
    ;;
  build)
    install_deps
    build build/release -DCMAKE_BUILD_TYPE=Release -DTUPHAP_TEST_KDF=OFF
    ;;
  *)
    sed -n '2,/^[^#]/{/^#/p}' "$0"
    exit 2
    ;;
esac
