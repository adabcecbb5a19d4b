# runtime/cpp/fuzz/: one fuzz target per parser reached by untrusted bytes (fuzz_<name>.cpp, each an
# LLVMFuzzerTestOneInput). Two builds use them:
# - FROZENSEG_FUZZ=ON (clang; scripts/fuzz.sh): fuzz_<name>, a libFuzzer executable;
# - the ordinary and FROZENSEG_SANITIZE builds with tests: replay_<name>, the same source with
#   replay_main.cpp, and the ctest test FuzzReplay.<name> running it over corpus/<name>/,
#   regressions/<name>/ and the test fixtures seeds.txt names for it. These are parsers of untrusted
#   bytes, so they run under the sanitizers too (as frozenseg_test's SANITIZED suites).
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
  if(FROZENSEG_BUILD_TESTS)
    add_executable(replay_${name} ${source} ${FS_FUZZ_DIR}/replay_main.cpp)
    target_link_libraries(replay_${name} PRIVATE ${ARG_LIBS})
    target_compile_options(replay_${name} PRIVATE ${FS_TEST_COMPILE_OPTIONS})
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
    add_test(NAME FuzzReplay.${name} COMMAND replay_${name} ${inputs})
    if(FS_TEST_ENVIRONMENT)
      set_tests_properties(FuzzReplay.${name} PROPERTIES ENVIRONMENT "${FS_TEST_ENVIRONMENT}")
    endif()
  endif()
endfunction()

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
