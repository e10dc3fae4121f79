# Project-wide compile settings and helpers for libraries, tests and benchmarks.
add_library(shardwise_options INTERFACE)
target_compile_options(shardwise_options INTERFACE -Wall -Wextra -Wno-unused-parameter
  # Designated initializers that leave members at their defaults are intended.
  -Wno-missing-field-initializers
  # GCC 12 reports false positives through std::variant and std::optional.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
if(SHARDWISE_WERROR)
  target_compile_options(shardwise_options INTERFACE -Werror)
endif()
# Boost 1.74's asio/awaitable.hpp misses <utility> under GCC 12; Beast in header-only mode.
target_compile_definitions(shardwise_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
target_include_directories(shardwise_options INTERFACE ${PROJECT_SOURCE_DIR})
target_compile_definitions(shardwise_options INTERFACE SHARDWISE_VERSION="${PROJECT_VERSION}")

# Sanitized builds (hack/sanitize.sh, the sanitizer stage of hack/test.sh):
#   -DSHARDWISE_SANITIZE=address,undefined   or   -DSHARDWISE_SANITIZE=thread
# Everything is instrumented, libraries and tests alike; UBSan findings are fatal.
set(SHARDWISE_SANITIZE "" CACHE STRING "Sanitizers to build with (-fsanitize=...)")
if(SHARDWISE_SANITIZE)
  add_compile_options(-fsanitize=${SHARDWISE_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${SHARDWISE_SANITIZE})
  if(SHARDWISE_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  # GCC warns that TSan does not model std::atomic_thread_fence, which Boost.Asio's
  # std_fenced_block issues around handler calls (third-party code; Asio's queues hand work
  # over under mutexes, which TSan does see).
  if(SHARDWISE_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
endif()


# While several people add files at once, a target whose sources are not written yet is
# skipped with a warning instead of breaking everyone's configure. CI sets
# SHARDWISE_STRICT_SOURCES=ON so a missing file fails the build there.
option(SHARDWISE_STRICT_SOURCES "Fail configure when a test/benchmark source is missing" OFF)
function(_shardwise_sources_exist out)
  set(ok TRUE)
  foreach(src ${ARGN})
    if(NOT IS_ABSOLUTE ${src})
      set(src ${CMAKE_CURRENT_SOURCE_DIR}/${src})
    endif()
    if(NOT EXISTS ${src})
      set(ok FALSE)
    endif()
  endforeach()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

# shardwise_test(NAME SOURCES a_test.cc ... LIBS lib ... [LABELS l ...] [TIMEOUT s])
# A GoogleTest binary registered with ctest; tests live beside the code they test.
function(shardwise_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  _shardwise_sources_exist(have ${T_SOURCES})
  if(NOT have AND NOT SHARDWISE_STRICT_SOURCES)
    message(WARNING "skipping test ${name}: a source file is missing")
    return()
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} shardwise_options GTest::gtest GTest::gtest_main GTest::gmock)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # Sanitized code runs 2-15x slower (TSan the most); the bound stays, scaled.
  if(SHARDWISE_SANITIZE)
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 3")
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
  _shardwise_sources_exist(have ${B_SOURCES})
  if(NOT have AND NOT SHARDWISE_STRICT_SOURCES)
    message(WARNING "skipping benchmark ${name}: a source file is missing")
    return()
  endif()
  add_executable(${name} ${B_SOURCES})
  target_link_libraries(${name} PRIVATE ${B_LIBS} shardwise_options benchmark::benchmark benchmark::benchmark_main)
endfunction()

# shardwise_embed_assets(LIB NAMESPACE ns DIR dir FILES ...): a static library LIB whose
# generated source (cmake/EmbedAssets.cmake) holds FILES (relative to DIR) as bytes, returned
# by `ns::EmbeddedAssets()` (declare it in a header of the component; common/http/assets.h
# serves them). Regenerated when a file changes.
function(shardwise_embed_assets lib)
  cmake_parse_arguments(E "" "NAMESPACE;DIR" "FILES" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${lib}_generated.cc")
  set(deps "")
  foreach(f IN LISTS E_FILES)
    list(APPEND deps "${E_DIR}/${f}")
  endforeach()
  string(REPLACE ";" "," files_arg "${E_FILES}")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${out} -DBASE_DIR=${E_DIR} -DNAMESPACE=${E_NAMESPACE}
            -DFILES=${files_arg} -P ${PROJECT_SOURCE_DIR}/cmake/EmbedAssets.cmake
    DEPENDS ${deps} ${PROJECT_SOURCE_DIR}/cmake/EmbedAssets.cmake
    COMMENT "Embedding ${lib} assets"
    VERBATIM)
  add_library(${lib} STATIC "${out}")
  target_link_libraries(${lib} PUBLIC shardwise_common)
endfunction()
