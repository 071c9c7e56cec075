/* srm: `srm eval BENCH PREDICTIONS` (official benchmark metrics from srm rows) and `srm bench
** expand|list` (benchmark files to judge tasks). Both run stdlib/srm/bench/eval.lua in a trusted
** host state; see docs/eval.md. */
#include "srm_cmd.h"
#include "srm_host.h"

int srm_cmd_eval(int argc, char **argv) {
  return srm_host_run_main("srm eval", "srm.bench.eval", "main", argc, argv);
}

int srm_cmd_bench(int argc, char **argv) {
  return srm_host_run_main("srm bench", "srm.bench.eval", "expand_main", argc, argv);
}
