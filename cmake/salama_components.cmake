# Optional components of salama. Each is an INTERFACE target mapped to one folder of
# include/salama/, created only when its dependencies are found. The list of those
# created is left in SALAMA_COMPONENTS_BUILT (used by install and by the tests).
set(SALAMA_COMPONENTS_BUILT "")

# redis: hiredis for RESP (its reader and command formatter), transport on Asio.
find_package(hiredis QUIET)
if(hiredis_FOUND)
  add_library(salama_redis INTERFACE)
  add_library(salama::redis ALIAS salama_redis)
  target_link_libraries(salama_redis INTERFACE salama::salama hiredis::hiredis)
  set_target_properties(salama_redis PROPERTIES EXPORT_NAME redis)
  list(APPEND SALAMA_COMPONENTS_BUILT redis)
endif()

# prometheus and kubernetes: HTTP(S) on Beast, JSON and URLs from Boost, TLS from OpenSSL.
find_package(Boost 1.81 QUIET CONFIG COMPONENTS json url)
find_package(OpenSSL QUIET)
if(Boost_JSON_FOUND AND Boost_URL_FOUND AND OpenSSL_FOUND)
  foreach(comp prometheus kubernetes)
    add_library(salama_${comp} INTERFACE)
    add_library(salama::${comp} ALIAS salama_${comp})
    target_link_libraries(salama_${comp} INTERFACE
      salama::salama Boost::json Boost::url OpenSSL::SSL OpenSSL::Crypto)
    set_target_properties(salama_${comp} PROPERTIES EXPORT_NAME ${comp})
    list(APPEND SALAMA_COMPONENTS_BUILT ${comp})
  endforeach()
endif()

# cuda: the CUDA runtime (cudaMemGetInfo); NVML is loaded at run time with dlopen.
find_package(CUDAToolkit QUIET)
if(CUDAToolkit_FOUND)
  add_library(salama_cuda INTERFACE)
  add_library(salama::cuda ALIAS salama_cuda)
  target_link_libraries(salama_cuda INTERFACE salama::salama CUDA::cudart ${CMAKE_DL_LIBS})
  set_target_properties(salama_cuda PROPERTIES EXPORT_NAME cuda)
  list(APPEND SALAMA_COMPONENTS_BUILT cuda)
endif()

message(STATUS "salama components: ${SALAMA_COMPONENTS_BUILT}")
