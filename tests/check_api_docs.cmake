# Fails when a shared library exports a public function that docs/c-api.md does
# not document: every defined px_ function in the dynamic symbol table of each
# library in LIBS must appear as "NAME(" (its declaration) inside the
# `## Reference` section of DOC. Names all that are missing, not just the first.
# cmake -DNM=nm "-DLIBS=libpktexpect.so;libpktexpect-topology.so" -DDOC=docs/c-api.md -P check_api_docs.cmake
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/nm_defined.cmake)
file(READ ${DOC} doc)
# The section runs from its heading to the next level-2 heading, or the end.
string(FIND "${doc}" "\n## Reference\n" start)
if(start EQUAL -1)
  message(FATAL_ERROR "${DOC} has no '## Reference' section")
endif()
string(SUBSTRING "${doc}" ${start} -1 ref)
string(SUBSTRING "${ref}" 1 -1 rest)
string(FIND "${rest}" "\n## " next)
if(NOT next EQUAL -1)
  string(SUBSTRING "${ref}" 0 ${next} ref)
endif()

set(missing "")
set(all "")
foreach(lib IN LISTS LIBS)
  px_nm_defined(${lib} syms)
  set(n 0)
  foreach(sym IN LISTS syms)
    # T, W and i are functions (data objects such as px_ctl_default_patterns
    # are not called, so have no "(").
    if(sym MATCHES "^[TWi]:(px_[A-Za-z0-9_]+)$")
      set(name ${CMAKE_MATCH_1})
      math(EXPR n "${n} + 1")
      list(APPEND all ${name})
      if(NOT ref MATCHES "(^|[^A-Za-z0-9_])${name}\\(")
        list(APPEND missing ${name})
      endif()
    endif()
  endforeach()
  if(n EQUAL 0)
    message(FATAL_ERROR "${lib} exports no px_ function: the listing is broken")
  endif()
endforeach()
if(missing)
  # The runner library exports the core's API too: name each function once.
  list(REMOVE_DUPLICATES missing)
  list(LENGTH missing nmissing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "${nmissing} exported functions have no row in the Reference section of ${DOC} "
    "(add \"<declaration>\" to their header's table):\n  ${missing}")
endif()
list(REMOVE_DUPLICATES all)
list(LENGTH all total)
message(STATUS "all ${total} exported px_ functions are in the Reference of ${DOC}")
