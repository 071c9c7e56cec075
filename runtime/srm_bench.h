/* srm: benchmark task expansion for `srm run --bench NAME` and `srm bench expand`. The loaders
** are trusted Lua modules (stdlib/srm/bench/); this is their C entry point. See docs/eval.md. */
#ifndef SRM_BENCH_H
#define SRM_BENCH_H

#include <stddef.h>
#include <stdint.h>

enum srm_bench_result {
  SRM_BENCH_OK = 0,
  SRM_BENCH_ERROR = -1, /* unreadable input, a record the loader cannot expand, cannot write */
  SRM_BENCH_USAGE = -2, /* unknown benchmark name or option */
};

/* Expands the benchmark file in_path (JSONL or a JSON array) into judge-task records, one JSON
** object per line, written to out_path. bench is "NAME[:OPTION[,OPTION]...]" (judgebench,
** rewardbench2, rmbench, ifrewardbench, jetts). seed selects every seeded shuffle; the same seed
** gives byte-identical output on every machine. stdlib_dir: NULL for the embedded stdlib.
** On success stores the number of tasks in *ntasks (if not NULL) and returns SRM_BENCH_OK;
** otherwise returns SRM_BENCH_ERROR or SRM_BENCH_USAGE with a message in err. */
int srm_bench_expand(const char *bench, const char *in_path, const char *out_path, uint64_t seed,
                     const char *stdlib_dir, size_t *ntasks, char *err, size_t errlen);

#endif
