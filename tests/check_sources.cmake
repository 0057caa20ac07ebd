# Fails when a C file of the tree (library, runner, topology, tests, examples,
# benchmarks, fuzz targets) or a VM job is in none of CMakeLists.txt's explicit
# lists (LISTED: one path relative to SRC a line, written at configure time).
# cmake -DSRC=. -DLISTED=build/px_listed_sources.txt -P check_sources.cmake
cmake_minimum_required(VERSION 3.25)
file(STRINGS ${LISTED} listed)
file(GLOB_RECURSE found RELATIVE ${SRC}
  ${SRC}/harness/*.c ${SRC}/predicates/*.c ${SRC}/runner/*.c
  ${SRC}/tests/unit/test_*.c ${SRC}/tests/net/test_*.c ${SRC}/tests/fuzz/fuzz_*.c ${SRC}/tests/vm/*.sh
  ${SRC}/examples/*.c ${SRC}/bench/*.c)
set(missing "")
foreach(f IN LISTS found)
  if(NOT f IN_LIST listed)
    list(APPEND missing ${f})
  endif()
endforeach()
list(LENGTH found n)
if(n LESS 50)
  message(FATAL_ERROR "found only ${n} files under ${SRC}: wrong directory?")
endif()
if(missing)
  list(JOIN missing " " missing)
  message(FATAL_ERROR "in no list of CMakeLists.txt (add them there): ${missing}")
endif()
message(STATUS "all ${n} files are listed")
