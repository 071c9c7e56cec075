-- srm eval and srm bench expand from the command line: golden metrics.json and Markdown on the
-- fixtures in tests/data/bench/, byte-reproducible seeded expansion, usage and data errors.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")

local dir = C.tmpdir("eval")
local D = "tests/data/bench/"

T.case("srm eval judgebench on JudgeBench's own output format: golden JSON and Markdown", function()
  local out, md = dir .. "/jb.json", dir .. "/jb.md"
  local code, stdout, err = C.srm({ "eval", "judgebench", D .. "judgebench_outputs_sample.jsonl", "-o", out, "--md", md }, dir)
  T.eq(code, 0, "exit: " .. err)
  T.eq(stdout, "", "both outputs went to files")
  T.eq(C.read(out), C.read(D .. "judgebench_sample.metrics.json"), "metrics.json")
  T.eq(C.read(md), C.read(D .. "judgebench_sample.summary.md"), "summary.md")
end)

T.case("srm eval rewardbench2 on srm rows: golden JSON (Ties weighting) and Markdown", function()
  local out = dir .. "/rb.json"
  local code, stdout, err = C.srm({ "eval", "rewardbench2", D .. "rewardbench2_rows.jsonl", "-o", out }, dir)
  T.eq(code, 0, "exit: " .. err)
  T.eq(C.read(out), C.read(D .. "rewardbench2_rows.metrics.json"), "metrics.json")
  T.eq(stdout, C.read(D .. "rewardbench2_rows.summary.md"), "without --md the summary goes to stdout")
end)

T.case("without -o the metrics JSON goes to stdout", function()
  local code, stdout = C.srm({ "eval", "judgebench", D .. "judgebench_outputs_sample.jsonl" }, dir)
  T.eq(code, 0, "exit")
  T.eq(stdout, C.read(D .. "judgebench_sample.metrics.json"), "stdout")
end)

T.case("srm bench expand: the same seed gives the same bytes, another seed other positions", function()
  local a, b, c = dir .. "/a.jsonl", dir .. "/b.jsonl", dir .. "/c.jsonl"
  T.eq((C.srm({ "bench", "expand", "rmbench", D .. "rmbench_sample.json", a, "--seed", "5" }, dir)), 0, "a")
  T.eq((C.srm({ "bench", "expand", "rmbench", D .. "rmbench_sample.json", b, "--seed", "5" }, dir)), 0, "b")
  T.eq((C.srm({ "bench", "expand", "rmbench", D .. "rmbench_sample.json", c, "--seed", "6" }, dir)), 0, "c")
  T.eq(C.read(a), C.read(b), "reproducible")
  T.truthy(C.read(a) ~= C.read(c), "seeded")
  local rows = C.read_rows(a)
  T.eq(#rows, 18, "tasks")
  T.eq(rows[1].id, "chat:1:c1r1", "first id")
end)

T.case("srm bench expand judgebench: golden first task (keys sorted, labels only in bench)", function()
  local out = dir .. "/jb.jsonl"
  local code, _, err = C.srm({ "bench", "expand", "judgebench", D .. "judgebench_pairs.jsonl", out }, dir)
  T.eq(code, 0, "exit")
  T.truthy(err:find("6 tasks written", 1, true), err)
  local first = C.read(out):match("^[^\n]*")
  T.eq(first, '{"bench":{"bench":"judgebench","game":1,"games":2,"index":1,"label":"A>B",'
    .. '"sample":"p1","source":"mmlu-pro-law","swapped":false},"id":"p1:g1","prompt":"Q1?",'
    .. '"response_A":"a1","response_B":"b1"}', "line 1")
end)

T.case("usage errors exit 2, bad rows exit 1", function()
  local code, _, err = C.srm({ "eval", "nosuch", D .. "judgebench_outputs_sample.jsonl" }, dir)
  T.eq(code, 2, "unknown benchmark")
  T.truthy(err:find("unknown benchmark 'nosuch'", 1, true), err)
  code, _, err = C.srm({ "eval", "judgebench" }, dir)
  T.eq(code, 2, "missing PREDICTIONS")
  code, _, err = C.srm({ "eval", "judgebench", dir .. "/missing.jsonl" }, dir)
  T.eq(code, 2, "unreadable predictions")
  T.truthy(err:find("missing.jsonl", 1, true), err)
  code, _, err = C.srm({ "eval", "judgebench", D .. "judgebench_outputs_sample.jsonl", "--frob" }, dir)
  T.eq(code, 2, "unknown option")
  code, _, err = C.srm({ "eval", "rmbench", D .. "rewardbench2_rows.jsonl" }, dir)
  T.eq(code, 1, "rows of another benchmark")
  T.truthy(err:find("line 1: row belongs to benchmark 'rewardbench2', not 'rmbench'", 1, true), err)
  local bad = C.write(dir .. "/bad.jsonl", '{"id": 1, "status": "ok"}\nnot json\n')
  code, _, err = C.srm({ "eval", "judgebench", bad }, dir)
  T.eq(code, 2, "invalid JSON line")
  T.truthy(err:find("bad.jsonl:2: invalid JSON", 1, true), err)
  code, _, err = C.srm({ "bench", "expand", "rmbench:sideways", D .. "rmbench_sample.json", dir .. "/x" }, dir)
  T.eq(code, 2, "unknown loader option")
  T.truthy(err:find("rmbench has no option 'sideways' (options: both, pointwise)", 1, true), err)
  code, _, err = C.srm({ "bench", "expand", "judgebench", D .. "rmbench_sample.json", dir .. "/x" }, dir)
  T.eq(code, 1, "records the loader cannot expand")
  T.truthy(err:find("element 1: record has no string 'pair_id'", 1, true), err)
  code = C.srm({ "bench", "expand", "rmbench", D .. "rmbench_sample.json", dir .. "/x", "--seed", "x" }, dir)
  T.eq(code, 2, "bad seed")
end)

T.case("srm bench list names every benchmark and its options", function()
  local code, out = C.srm({ "bench", "list" }, dir)
  T.eq(code, 0, "exit")
  T.eq(out, "judgebench\nrewardbench2  options: ratings\nrmbench  options: both, pointwise\n"
    .. "ifrewardbench  options: checklist\njetts\nbestofn\n", "list")
end)

T.done()
