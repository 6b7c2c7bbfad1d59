# tests/headers/expect_compile_error.cmake: ctest helper; runs a compiler command that must fail with a given message.
#   cmake -DCOMMAND="cc|-c|x.c" -DEXPECT=regex -P expect_compile_error.cmake
# COMMAND separates its arguments with '|' (ctest would split a ';' list). Passes only when the
# command exits non-zero AND its output matches EXPECT, so an unrelated error cannot pass.
if(NOT DEFINED COMMAND OR NOT DEFINED EXPECT)
    message(FATAL_ERROR "usage: cmake -DCOMMAND=a|b|c -DEXPECT=regex -P expect_compile_error.cmake")
endif()
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(output "${out}${err}")
if(rc EQUAL 0)
    message(FATAL_ERROR "compiled, but must be refused with /${EXPECT}/:\n  ${COMMAND}\n${output}")
endif()
if(NOT output MATCHES "${EXPECT}")
    message(FATAL_ERROR "refused, but without the expected message /${EXPECT}/:\n${output}")
endif()
message(STATUS "refused as expected (/${EXPECT}/)")
