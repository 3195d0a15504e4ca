# Every dependency comes from a Debian 12 package (see README and .ci/run).
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc icu-i18n)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)  # sd_notify for Type=notify
find_package(cppzmq REQUIRED)
find_package(msgpack CONFIG REQUIRED)
find_package(Boost REQUIRED)
find_package(GTest REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(rapidcheck REQUIRED)
if(TUPHAP_BENCH)
  find_package(benchmark REQUIRED)
endif()
find_package(Threads REQUIRED)
find_package(spdlog REQUIRED)  # logs (obs/)
find_package(prometheus-cpp CONFIG REQUIRED)  # metrics (obs/): core only
