# Cross build for Linux aarch64 (Jetson's architecture) on a Debian/Ubuntu x86-64 host:
#
#   cmake -S . -B build-aarch64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#     -DONNXRUNTIME_ROOT=$PWD/third_party/onnxruntime-linux-aarch64
#
# Compilers: Debian's aarch64-linux-gnu-gcc-11 / g++-11 (GCC 11, as JetPack 6 ships; packages
# g++-11-aarch64-linux-gnu), or FS_AARCH64_GCC_VERSION= (empty) for the distribution's default
# cross compiler. Libraries: the arm64 multiarch packages (dpkg --add-architecture arm64;
# libpng-dev:arm64 ...), found in /usr/lib/aarch64-linux-gnu through CMAKE_LIBRARY_ARCHITECTURE.
# ONNX Runtime: scripts/fetch_onnxruntime_aarch64.sh. scripts/install_jetson_ci_deps.sh installs the rest.
#
# Tests: CMAKE_CROSSCOMPILING_EMULATOR runs every test, and gtest's test discovery, through
# qemu-aarch64 (package qemu-user), so `ctest` works unchanged on the x86-64 host.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(FS_AARCH64_TRIPLE aarch64-linux-gnu)
if(NOT DEFINED FS_AARCH64_GCC_VERSION)
  set(FS_AARCH64_GCC_VERSION 11)
endif()
if(FS_AARCH64_GCC_VERSION)
  set(_fs_suffix "-${FS_AARCH64_GCC_VERSION}")
else()
  set(_fs_suffix "")
endif()
set(CMAKE_C_COMPILER ${FS_AARCH64_TRIPLE}-gcc${_fs_suffix})
set(CMAKE_CXX_COMPILER ${FS_AARCH64_TRIPLE}-g++${_fs_suffix})
set(CMAKE_LIBRARY_ARCHITECTURE ${FS_AARCH64_TRIPLE})

# Headers and libraries for the target only (never the host's x86-64 ones); programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${FS_AARCH64_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# qemu-aarch64 finds the aarch64 loader and libraries through the multiarch paths
# (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu). It runs a Cortex-A76 (the ARMv8.2-A
# features of Orin's Cortex-A78AE) with qemu-aarch64-root/ laid over / for an ARM /proc/cpuinfo,
# without which ONNX Runtime crashes at load: see qemu-aarch64-root/README.md.
find_program(FS_QEMU_AARCH64 qemu-aarch64)
set(FS_QEMU_CPU cortex-a76 CACHE STRING "qemu-aarch64 -cpu for the tests (qemu-aarch64 -cpu help)")
if(FS_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      ${FS_QEMU_AARCH64} -cpu ${FS_QEMU_CPU} -L ${CMAKE_CURRENT_LIST_DIR}/qemu-aarch64-root)
  # For scripts that run the built programs themselves (scripts/jetson_steps.sh reads the cache).
  set(FS_CROSSCOMPILING_EMULATOR "${CMAKE_CROSSCOMPILING_EMULATOR}" CACHE INTERNAL "")
endif()
