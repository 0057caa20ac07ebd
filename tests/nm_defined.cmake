# px_nm_defined(LIB OUT): the defined dynamic symbols of shared library LIB, as a
# list of "TYPE:NAME" (nm's one-letter type, the name without @version), into
# OUT. Stops with an error when nm fails. Used by check_exports.cmake and
# check_api_docs.cmake (NM: the nm program).
function(px_nm_defined lib out_var)
  execute_process(COMMAND ${NM} -D --defined-only ${lib}
    OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} -D --defined-only ${lib} failed: ${err}")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  set(syms "")
  foreach(line IN LISTS lines)
    # "<address> <type> <name>[@version]"
    if(line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) ([^ @]+)")
      list(APPEND syms "${CMAKE_MATCH_1}:${CMAKE_MATCH_2}")
    endif()
  endforeach()
  set(${out_var} "${syms}" PARENT_SCOPE)
endfunction()
