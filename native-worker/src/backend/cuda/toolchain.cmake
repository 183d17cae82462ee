# Included from the top-level CMakeLists.txt (the CUDA language must be enabled there, the highest directory
# common to everything that links CUDA code). Decides whether the real CUDA backend, grove_cuda, is built:
#   GROVE_CUDA=AUTO (default): when nvcc and cuBLAS are found; otherwise a status message and no grove_cuda.
#   GROVE_CUDA=ON: required; configuring fails and names what is missing.   GROVE_CUDA=OFF: never.
# cuBLAS comes from the CUDA toolkit (CUDA::cublas) or, when the toolkit has none, from GROVE_CUBLAS_ROOT
# (include/ + lib/), by default the nvidia-cublas wheel in the repo's .venv (scripts/setup-venv.sh installs it).
# Sets GROVE_CUBLAS_TARGET for src/backend/cuda/CMakeLists.txt when the backend is built.
set(GROVE_CUDA AUTO CACHE STRING "Build the real CUDA backend (grove_cuda): AUTO, ON or OFF")
set_property(CACHE GROVE_CUDA PROPERTY STRINGS AUTO ON OFF)

get_filename_component(_grove_repo_root "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
if(NOT GROVE_CUBLAS_ROOT)
  # Re-evaluated on every configure until found, so a venv created after the first configure is picked up.
  file(GLOB _grove_venv_cu13 "${_grove_repo_root}/.venv/lib/python3*/site-packages/nvidia/cu13")
  set(_grove_venv_cu13_last "")
  if(_grove_venv_cu13)  # no venv yet (a fresh clone before setup-venv.sh): no default, AUTO then skips grove_cuda
    list(SORT _grove_venv_cu13)
    list(GET _grove_venv_cu13 -1 _grove_venv_cu13_last)
  endif()
  set(GROVE_CUBLAS_ROOT "${_grove_venv_cu13_last}" CACHE PATH
      "cuBLAS headers (include/) and libraries (lib/) to use when the CUDA toolkit has no cuBLAS" FORCE)
endif()

set(GROVE_CUBLAS_TARGET "")
if(NOT GROVE_CUDA STREQUAL "OFF")
  set(_grove_cuda_missing "")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # sm_90 machine code plus PTX that newer GPUs JIT-compile.
      set(CMAKE_CUDA_ARCHITECTURES "90-real;90-virtual" CACHE STRING "CUDA architectures of grove_cuda")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit QUIET)
    if(NOT TARGET CUDA::cudart)
      list(APPEND _grove_cuda_missing "the CUDA runtime (CUDAToolkit's CUDA::cudart)")
    endif()
    if(TARGET CUDA::cublas)
      set(GROVE_CUBLAS_TARGET CUDA::cublas)
    else()
      find_path(GROVE_CUBLAS_INCLUDE_DIR cublas_v2.h HINTS "${GROVE_CUBLAS_ROOT}/include" NO_DEFAULT_PATH)
      find_library(GROVE_CUBLAS_LIBRARY NAMES cublas libcublas.so.13 HINTS "${GROVE_CUBLAS_ROOT}/lib"
                   NO_DEFAULT_PATH)
      if(GROVE_CUBLAS_INCLUDE_DIR AND GROVE_CUBLAS_LIBRARY)
        add_library(grove_cublas SHARED IMPORTED)
        set_target_properties(grove_cublas PROPERTIES
          IMPORTED_LOCATION "${GROVE_CUBLAS_LIBRARY}"
          INTERFACE_INCLUDE_DIRECTORIES "${GROVE_CUBLAS_INCLUDE_DIR}")
        set(GROVE_CUBLAS_TARGET grove_cublas)
      else()
        list(APPEND _grove_cuda_missing
             "cuBLAS (no CUDA::cublas in the toolkit; no cublas_v2.h + libcublas under GROVE_CUBLAS_ROOT='${GROVE_CUBLAS_ROOT}': run native-worker/scripts/setup-venv.sh)")
      endif()
    endif()
  else()
    list(APPEND _grove_cuda_missing "nvcc (no CUDA compiler on PATH or in CUDACXX)")
  endif()

  if(_grove_cuda_missing)
    list(JOIN _grove_cuda_missing "; " _grove_cuda_missing_text)
    if(GROVE_CUDA STREQUAL "ON")
      message(FATAL_ERROR "GROVE_CUDA=ON but the real CUDA backend cannot be built: missing ${_grove_cuda_missing_text}")
    endif()
    message(STATUS "grove_cuda (real CUDA backend) skipped: missing ${_grove_cuda_missing_text}")
    set(GROVE_CUBLAS_TARGET "")
  else()
    message(STATUS "grove_cuda (real CUDA backend): nvcc ${CMAKE_CUDA_COMPILER_VERSION}, cuBLAS ${GROVE_CUBLAS_TARGET}")
  endif()
endif()
