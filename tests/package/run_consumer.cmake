cmake_minimum_required(VERSION 3.22)
# Installs salama from the build tree to a staging prefix, then configures, builds and
# runs the consumer project against it, as a user's project would.
# Inputs: SALAMA_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER
#         EXPECT_COMPONENTS (comma-separated)
string(REPLACE "," ";" EXPECT_COMPONENTS "${EXPECT_COMPONENTS}")
set(stage ${WORK_DIR}/stage)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${SALAMA_BINARY_DIR} --prefix ${stage})
foreach(f include/salama/salama.hpp share/cmake/salama/salamaConfig.cmake
          share/cmake/salama/salamaConfigVersion.cmake share/cmake/salama/salama-targets.cmake)
  if(NOT EXISTS ${stage}/${f})
    message(FATAL_ERROR "staged install lacks ${f}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${build} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${stage} -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
run(${CMAKE_COMMAND} --build ${build})
run(${build}/consumer)
message(STATUS "consumer printed:\n${last_output}")

# The components found by the consumer are the ones the build created.
string(REPLACE ";" " " expect "${EXPECT_COMPONENTS}")
foreach(comp redis cuda)
  if(comp IN_LIST EXPECT_COMPONENTS)
    string(FIND "${last_output}" "component ${comp}: yes" at)
  else()
    string(FIND "${last_output}" "component ${comp}: no" at)
  endif()
  if(at EQUAL -1)
    message(FATAL_ERROR "consumer's view of component ${comp} disagrees with the build (${expect})")
  endif()
endforeach()

# A version the package cannot satisfy is refused.
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${build}-v99 -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${stage} -DSALAMA_REQUIRED_VERSION=99.0
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0)
  message(FATAL_ERROR "find_package(salama 99.0) should have failed")
endif()
