# Warnings are errors on our own code only; third-party headers are included
# as SYSTEM so their warnings do not break the build.
function(tuphap_target target)
  # -Wno-restrict: GCC 12 at -O3 reports impossible overlaps inside
  # libstdc++'s own std::string operator+ (GCC bug 105329).
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# tuphap_test(name SOURCES... LIBS... [PREFIX p]) — one gtest binary, every case
# registered with CTest by name so a failure names its case; PREFIX goes in
# front of each name (binaries sharing one main, e.g. the fuzz smoke tests,
# stay apart and selectable: `ctest -R fuzz_`).
function(tuphap_test name)
  cmake_parse_arguments(T "OWN_MAIN" "TIMEOUT;PREFIX" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  tuphap_target(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest)
  if(NOT T_OWN_MAIN)
    target_link_libraries(${name} PRIVATE GTest::gtest_main)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${T_PREFIX}"
                       PROPERTIES TIMEOUT ${T_TIMEOUT})
endfunction()
