# Fails when a shared library exports anything beyond its public API: every
# defined dynamic symbol must be a public px_ name (never an internal px__ one),
# and the names in EXPECT must be there (so an empty or broken listing fails too).
# cmake -DNM=nm -DLIB=libpktexpect.so -DEXPECT="px_ctx_new;px_expect" -P check_exports.cmake
cmake_minimum_required(VERSION 3.25)
execute_process(COMMAND ${NM} -D --defined-only ${LIB}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${LIB} failed: ${err}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(bad "")
set(names "")
foreach(line IN LISTS lines)
  # "<address> <type> <name>[@version]"
  if(line MATCHES "^[0-9a-fA-F]* *[A-Za-z] ([^ @]+)")
    set(name ${CMAKE_MATCH_1})
    list(APPEND names ${name})
    if(name MATCHES "^px__" OR NOT name MATCHES "^px_")
      list(APPEND bad ${name})
    endif()
  endif()
endforeach()
if(bad)
  list(JOIN bad " " bad)
  message(FATAL_ERROR "${LIB} exports symbols outside its public API: ${bad}")
endif()
foreach(want IN LISTS EXPECT)
  if(NOT want IN_LIST names)
    message(FATAL_ERROR "${LIB} does not export ${want}")
  endif()
endforeach()
list(LENGTH names n)
message(STATUS "${LIB}: ${n} symbols, all public")
