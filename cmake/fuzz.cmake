# srm fuzzing (tests/fuzz, docs/reliability.md), included from tests/CMakeLists.txt.
#
# Every build: fuzz_replay_<target>, each fuzz target linked with tests/fuzz/replay.c instead of
# libFuzzer, and the ctests fuzz.replay_<target> that feed it the committed seed corpus
# (tests/fuzz/corpus/<target>) and every saved crash input (tests/fuzz/regressions/<target>), so
# CI replays them with the normal and the sanitizer builds.
#
# -DSRM_FUZZ=ON (with CC=clang; scripts/fuzz.sh configures build-fuzz so): srmcore and everything
# linked with it are compiled with -fsanitize=fuzzer-no-link,address,undefined, and the libFuzzer
# binaries fuzz_<target> are built (the target fuzz_all builds them all).
option(SRM_FUZZ "Build the libFuzzer targets (clang; srmcore gets ASan+UBSan+coverage)" OFF)

set(SRM_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
set(SRM_FUZZ_TARGETS jsonl json llm_reply judge math ifeval re tok)

if(SRM_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SRM_FUZZ=ON needs clang (configure with CC=clang)")
  endif()
  set(SRM_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
  target_compile_options(srmcore PUBLIC ${SRM_FUZZ_FLAGS})
  target_link_options(srmcore INTERFACE -fsanitize=address,undefined)
  add_custom_target(fuzz_all)
endif()

foreach(t IN LISTS SRM_FUZZ_TARGETS)
  set(src ${SRM_FUZZ_DIR}/fuzz_${t}.c)
  add_executable(fuzz_replay_${t} ${src} ${SRM_FUZZ_DIR}/replay.c)
  target_compile_options(fuzz_replay_${t} PRIVATE ${SRM_WARNINGS})
  target_link_libraries(fuzz_replay_${t} PRIVATE srmcore)
  add_test(NAME fuzz.replay_${t}
    COMMAND fuzz_replay_${t} ${SRM_FUZZ_DIR}/corpus/${t} ${SRM_FUZZ_DIR}/regressions/${t}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  if(SRM_FUZZ)
    add_executable(fuzz_${t} ${src})
    target_compile_options(fuzz_${t} PRIVATE ${SRM_WARNINGS} -fsanitize=fuzzer)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${t} PRIVATE srmcore)
    add_dependencies(fuzz_all fuzz_${t})
  endif()
endforeach()

# The JSONL target serves the reader's read(2) calls from the input (see fuzz_jsonl.c).
target_link_options(fuzz_replay_jsonl PRIVATE -Wl,--wrap=read)
if(SRM_FUZZ)
  target_link_options(fuzz_jsonl PRIVATE -Wl,--wrap=read)
endif()

# Super-linear parsers found while fuzzing (tests/fuzz/test_linear_parsers.lua): each case must
# stay fast on the inputs that used to stall a worker.
add_test(NAME fuzz.linear_parsers COMMAND ${SRM_BIN} lua ${SRM_FUZZ_DIR}/test_linear_parsers.lua
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
