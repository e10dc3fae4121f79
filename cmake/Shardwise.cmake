# Project-wide compile settings and helpers for libraries, tests and benchmarks.
add_library(shardwise_options INTERFACE)
target_compile_options(shardwise_options INTERFACE -Wall -Wextra -Wno-unused-parameter
  # GCC 12 reports false positives through std::variant and std::optional.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
if(SHARDWISE_WERROR)
  target_compile_options(shardwise_options INTERFACE -Werror)
endif()
# Boost 1.74's asio/awaitable.hpp misses <utility> under GCC 12; Beast in header-only mode.
target_compile_definitions(shardwise_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
target_include_directories(shardwise_options INTERFACE ${PROJECT_SOURCE_DIR})

# shardwise_test(NAME SOURCES a_test.cc ... LIBS lib ... [LABELS l ...] [TIMEOUT s])
# A GoogleTest binary registered with ctest; tests live beside the code they test.
function(shardwise_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} shardwise_options GTest::gtest GTest::gtest_main GTest::gmock)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
    ENVIRONMENT "SHARDWISE_SOURCE_DIR=${PROJECT_SOURCE_DIR};SHARDWISE_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# shardwise_benchmark(NAME SOURCES ... LIBS ...): a Google Benchmark binary (not run by ctest).
function(shardwise_benchmark name)
  if(NOT SHARDWISE_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(B "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  target_link_libraries(${name} PRIVATE ${B_LIBS} shardwise_options benchmark::benchmark benchmark::benchmark_main)
endfunction()
