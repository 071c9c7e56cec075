/* srm: `srm report OUT.jsonl` (one self-contained HTML page about a run) and `srm diff A B`
** (rows joined by id: what changed between two runs). Both run stdlib/srm/report/main.lua in a
** trusted host state; the report modules are host code and never reachable from skills. See
** docs/report.md. */
#include "srm_cmd.h"
#include "srm_host.h"

int srm_cmd_report(int argc, char **argv) {
  return srm_host_run_main("srm report", "srm.report.main", "report_main", argc, argv);
}

int srm_cmd_diff(int argc, char **argv) {
  return srm_host_run_main("srm diff", "srm.report.main", "diff_main", argc, argv);
}
