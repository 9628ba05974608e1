# The libFuzzer build, driven by tools/fuzz: clang only, in its own build tree (build-fuzz/), with
# -fsanitize=fuzzer,address,undefined. Included by CMakeLists.txt instead of the normal targets when
# REDUNDANCY_FUZZ is on.
#
# clang 14 cannot compile the coroutine translation units with fuzzer coverage, so fuzz_lib holds only
# the sources without coroutines: every parser and the HTTP request path (src/http/wire.cpp) are among
# them, and a static library pulls in only the objects a target uses.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "REDUNDANCY_FUZZ needs clang and libFuzzer: cmake -DCMAKE_CXX_COMPILER=clang++-14 -DREDUNDANCY_FUZZ=ON")
endif()

set(fuzz_compile_flags -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -gline-tables-only)
set(fuzz_link_flags -fsanitize=fuzzer,address,undefined)

file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/*.cpp)
set(fuzz_lib_sources "")
foreach(source ${all_sources})
  file(STRINGS ${source} coroutine_lines REGEX "co_await|co_return|co_yield")
  # The CLI and the program's assembly (app/) are no fuzz target's input; some of their files run
  # coroutines through io_context::run or need definitions only the normal build sets.
  if(NOT coroutine_lines AND NOT source MATCHES "/src/(main\\.cpp|cli/|app/)")
    list(APPEND fuzz_lib_sources ${source})
  endif()
endforeach()
list(APPEND fuzz_lib_sources ${CMAKE_SOURCE_DIR}/test/fuzz/support/boost_json_src.cpp)

add_library(fuzz_lib STATIC ${fuzz_lib_sources})
target_include_directories(fuzz_lib PUBLIC include test)
target_compile_definitions(fuzz_lib PUBLIC
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION BOOST_PROCESS_V2_SEPARATE_COMPILATION
  BOOST_PROCESS_V2_DISABLE_PIDFD_OPEN BOOST_ASIO_NO_DEPRECATED BOOST_JSON_NO_LIB
  REDUNDANCY_VERSION="${PROJECT_VERSION}")
target_compile_options(fuzz_lib PUBLIC ${fuzz_compile_flags})
# Boost.JSON comes from boost_json_src.cpp above, not from the uninstrumented Boost::json.
target_link_libraries(fuzz_lib
  PUBLIC Boost::headers Boost::log Boost::log_setup Boost::filesystem Boost::system
         CLI11::CLI11 Threads::Threads prometheus-cpp::core OpenSSL::SSL OpenSSL::Crypto SQLite::SQLite3 yaml-cpp
  PRIVATE redundancy_warnings)
include(${CMAKE_SOURCE_DIR}/cmake/workflow_schema.cmake)
redundancy_embed_workflow_schema(fuzz_lib)

# One fuzzer per test/fuzz/*.cpp (but the replay driver of the normal build): build-fuzz/fuzz_<name>.
file(GLOB fuzz_targets CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/test/fuzz/*.cpp)
list(REMOVE_ITEM fuzz_targets ${CMAKE_SOURCE_DIR}/test/fuzz/replay_main.cpp)
foreach(source ${fuzz_targets})
  get_filename_component(name ${source} NAME_WE)
  add_executable(fuzz_${name} ${source})
  target_link_libraries(fuzz_${name} PRIVATE fuzz_lib redundancy_warnings)
  target_link_options(fuzz_${name} PRIVATE ${fuzz_link_flags})
  set_target_properties(fuzz_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
endforeach()
