# runtime/cpp/fuzz/: one fuzz target per parser reached by untrusted bytes (fuzz_<name>.cpp, each an
# LLVMFuzzerTestOneInput). Two builds use them:
# - FROZENSEG_FUZZ=ON (clang; scripts/fuzz.sh): fuzz_<name>, a libFuzzer executable;
# - the builds with tests: one executable, fuzz_replay, holding every target (each source compiled
#   once more with its entry point renamed fs_fuzz_<name>) behind replay_main.cpp, and the ctest
#   test FuzzReplay.<name> running `fuzz_replay <name>` over corpus/<name>/, regressions/<name>/
#   and the test fixtures seeds.txt names for it. These are parsers of untrusted bytes, so they run
#   under the sanitizers too (as frozenseg_test's SANITIZED suites). One executable, not one per
#   target: 16 links and 16 copies of the replay loop cost more than the targets themselves.
#   FROZENSEG_FUZZ_REPLAY=OFF leaves it out (the aarch64 cross build does: parsing is the same
#   code, and the replay under qemu would only repeat the native run).
set(FS_FUZZ_DIR ${FS_ROOT}/fuzz)

# frozenseg_fuzz_target(<name> LIBS targets...); skipped when FROZENSEG_AREAS leaves out a library.
function(frozenseg_fuzz_target name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  foreach(lib IN LISTS ARG_LIBS)
    if(NOT TARGET ${lib})
      return()
    endif()
  endforeach()
  set(source ${FS_FUZZ_DIR}/fuzz_${name}.cpp)
  if(FROZENSEG_FUZZ)
    add_executable(fuzz_${name} ${source})
    target_link_libraries(fuzz_${name} PRIVATE ${ARG_LIBS})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_compile_options(fuzz_${name} PRIVATE -Wall -Wextra)
    add_dependencies(frozenseg_fuzzers fuzz_${name})
  endif()
  if(FROZENSEG_BUILD_TESTS AND FROZENSEG_FUZZ_REPLAY)
    add_library(fuzz_replay_${name} OBJECT ${source})
    target_link_libraries(fuzz_replay_${name} PRIVATE ${ARG_LIBS})
    target_compile_options(fuzz_replay_${name} PRIVATE ${FS_TEST_COMPILE_OPTIONS})
    target_compile_definitions(fuzz_replay_${name} PRIVATE LLVMFuzzerTestOneInput=fs_fuzz_${name})
    set_property(GLOBAL APPEND PROPERTY FS_FUZZ_REPLAY_TARGETS ${name})
    set_property(GLOBAL APPEND PROPERTY FS_FUZZ_REPLAY_LIBS ${ARG_LIBS})
    # The seeds: the committed folders, then the fixtures seeds.txt lists for this target.
    set(inputs "")
    foreach(folder corpus regressions)
      if(IS_DIRECTORY ${FS_FUZZ_DIR}/${folder}/${name})
        list(APPEND inputs ${FS_FUZZ_DIR}/${folder}/${name})
      endif()
    endforeach()
    file(STRINGS ${FS_FUZZ_DIR}/seeds.txt lines REGEX "^${name} ")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^${name} +" "" pattern "${line}")
      file(GLOB matches ${CMAKE_CURRENT_SOURCE_DIR}/${pattern})
      list(APPEND inputs ${matches})
    endforeach()
    add_test(NAME FuzzReplay.${name} COMMAND fuzz_replay ${name} ${inputs})
    set_tests_properties(FuzzReplay.${name} PROPERTIES ${FS_TEST_PROPERTIES})
  endif()
endfunction()

option(FROZENSEG_FUZZ_REPLAY "the fuzz targets' replay (fuzz_replay, ctest FuzzReplay.*) in builds with tests" ON)
if(FROZENSEG_FUZZ)
  add_custom_target(frozenseg_fuzzers)
endif()

# Images: the whole loader, the EXIF / XMP orientation readers, the PNG chunk walk, and the C ABI's
# caller-owned pixels (fs_image) as c_api.cpp views and copies them.
frozenseg_fuzz_target(image_bytes LIBS frozenseg_image)
frozenseg_fuzz_target(exif LIBS frozenseg_image)
frozenseg_fuzz_target(png_chunks LIBS frozenseg_image)
frozenseg_fuzz_target(image_view LIBS frozenseg_image)
# Vocabularies and the tokenizer's text cleaning.
frozenseg_fuzz_target(vocabulary_text LIBS frozenseg_text)
frozenseg_fuzz_target(vocabulary_json LIBS frozenseg_text)
frozenseg_fuzz_target(vocabulary_file LIBS frozenseg_text)
frozenseg_fuzz_target(tokenizer LIBS frozenseg_text)
frozenseg_fuzz_target(text_fixer LIBS frozenseg_text)
frozenseg_fuzz_target(pyregex LIBS frozenseg_text)
# Files the runtime reads back: the vocabulary cache, .npz / .npy, the manifest, TensorRT's index
# and sidecars.
frozenseg_fuzz_target(cache_file LIBS frozenseg_text)
frozenseg_fuzz_target(zip LIBS frozenseg_common)
frozenseg_fuzz_target(npy LIBS frozenseg_common)
frozenseg_fuzz_target(manifest LIBS frozenseg_core)
frozenseg_fuzz_target(engine_index LIBS frozenseg_runner)
frozenseg_fuzz_target(engine_metadata LIBS frozenseg_runner)

# The replay executable: replay_main.cpp dispatches on the target's name through a generated list.
get_property(fs_replay_targets GLOBAL PROPERTY FS_FUZZ_REPLAY_TARGETS)
if(fs_replay_targets)
  get_property(fs_replay_libs GLOBAL PROPERTY FS_FUZZ_REPLAY_LIBS)
  list(REMOVE_DUPLICATES fs_replay_libs)
  set(fs_replay_list "")
  set(fs_replay_objects "")
  foreach(name IN LISTS fs_replay_targets)
    string(APPEND fs_replay_list "FS_FUZZ_TARGET(${name})\n")
    list(APPEND fs_replay_objects $<TARGET_OBJECTS:fuzz_replay_${name}>)
  endforeach()
  file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/generated/fuzz_targets.inc CONTENT "${fs_replay_list}")
  add_executable(fuzz_replay ${FS_FUZZ_DIR}/replay_main.cpp ${fs_replay_objects})
  target_include_directories(fuzz_replay PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
  target_link_libraries(fuzz_replay PRIVATE ${fs_replay_libs})
  target_compile_options(fuzz_replay PRIVATE ${FS_TEST_COMPILE_OPTIONS})
endif()
