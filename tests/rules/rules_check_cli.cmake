# Runs `zicht rules check` and checks exit code, stdout and stderr.
# -DZICHT=<binary> -DARGS="a;b" -DEXPECT_RC=N -DEXPECT_OUT=<regex> -DEXPECT_ERR=<regex>
# -DWORKDIR=<dir>
execute_process(COMMAND ${ZICHT} rules check ${ARGS}
                WORKING_DIRECTORY ${WORKDIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECT_RC}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(NOT out MATCHES "${EXPECT_OUT}")
  message(FATAL_ERROR "stdout does not match '${EXPECT_OUT}':\n${out}")
endif()
if(NOT err MATCHES "${EXPECT_ERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_ERR}':\n${err}")
endif()
