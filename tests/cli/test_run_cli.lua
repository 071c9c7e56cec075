-- The command line: exit codes, load errors with file:line, --set, --limit, stdout output,
-- --max-error-rate, srm check, and the summary.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")

local dir = C.tmpdir("cli")
local data = C.write_jsonl(dir .. "/data.jsonl", {
  { id = 1, value = 1, expected = 1 },
  { id = 2, value = 2, expected = 1 },
  { id = 3, value = 3, expected = 3, delay = 0.01 },
  { id = 4, value = 4, expected = 4 },
})
local slow = "tests/data/skills/slow_number.lua"

T.case("no arguments is a usage error (exit 2)", function()
  local code, _, err = C.srm({ "run" }, dir)
  T.eq(code, 2, "exit")
  T.truthy(err:find("expected SKILL and DATA", 1, true), err)
end)

T.case("unknown option is a usage error (exit 2)", function()
  local code, _, err = C.srm({ "run", slow, data, "--frobnicate" }, dir)
  T.eq(code, 2, "exit")
  T.truthy(err:find("--frobnicate", 1, true), err)
end)

T.case("missing data file is a usage error naming it", function()
  local code, _, err = C.srm({ "run", slow, dir .. "/nope.jsonl" }, dir)
  T.eq(code, 2, "exit")
  T.truthy(err:find("nope.jsonl", 1, true), err)
end)

T.case("--set of an undeclared setting is a usage error listing the declared ones", function()
  local code, _, err = C.srm({ "run", slow, data, "--set", "scael=2" }, dir)
  T.eq(code, 2, "exit")
  T.truthy(err:find("scael", 1, true) and err:find("scale", 1, true), err)
end)

T.case("srm check takes --set like srm run, with the same usage errors", function()
  local code, _, err = C.srm({ "check", slow, "--set", "scale" }, dir)
  T.eq(code, 2, "exit")
  T.truthy(err:find("srm check: --set expects KEY=VALUE", 1, true), err)
  code, _, err = C.srm({ "check", slow, "--set", "scale=fast" }, dir)
  T.eq(code, 2, "exit")
  T.truthy(err:find("expected a number", 1, true), err)
  T.eq((C.srm({ "check", slow, "--set", "scale=2" }, dir)), 0, "a good --set")
end)

T.case("--set with a value of the wrong type is a usage error", function()
  local code, _, err = C.srm({ "run", slow, data, "--set", "scale=fast" }, dir)
  T.eq(code, 2, "exit")
  T.truthy(err:find("expected a number", 1, true), err)
end)

T.case("a syntax error in the skill exits 3 with file:line", function()
  local code, _, err = C.srm({ "run", "tests/data/skills/broken_syntax.lua", data }, dir)
  T.eq(code, 3, "exit")
  T.truthy(err:find("broken_syntax.lua:5:", 1, true), err)
end)

T.case("an unknown option key in an evidence constructor exits 3 with file:line", function()
  local code, _, err = C.srm({ "run", "tests/data/skills/unknown_option.lua", data }, dir)
  T.eq(code, 3, "exit")
  T.truthy(err:find("unknown_option.lua:5:", 1, true) and err:find("fiel", 1, true), err)
end)

T.case("a policy naming undeclared evidence exits 3 with file:line", function()
  local code, _, err = C.srm({ "run", "tests/data/skills/unknown_evidence.lua", data }, dir)
  T.eq(code, 3, "exit")
  T.truthy(err:find("unknown_evidence.lua:5:", 1, true) and err:find("'b'", 1, true), err)
end)

T.case("an endless loop at the skill's top level exits 3 instead of hanging", function()
  local code, _, err = C.srm({ "run", "tests/data/skills/top_level_loop.lua", data,
    "--max-instructions", "1000000" }, dir)
  T.eq(code, 3, "exit")
  T.truthy(err:find("budget", 1, true), err)
end)

T.case("a wrong skill result is caught: a failing self-test exits 3 and names the test", function()
  local code, _, err = C.srm({ "run", "tests/data/skills/wrong_selftest.lua", data }, dir)
  T.eq(code, 3, "exit")
  T.truthy(err:find("deliberately wrong", 1, true) and err:find("expected score 1", 1, true), err)
  local ccode, cout = C.srm({ "check", "tests/data/skills/wrong_selftest.lua" }, dir)
  T.eq(ccode, 3, "srm check exit")
  T.truthy(cout:find("1 of 2 failed", 1, true), cout)
end)

T.case("rows go to stdout without -o; --limit stops early; the summary goes to stderr", function()
  local code, out, err = C.srm({ "run", slow, data, "--limit", "3", "--no-progress" }, dir)
  T.eq(code, 0, "exit (" .. err .. ")")
  local n = 0
  for _ in out:gmatch("[^\n]+") do n = n + 1 end
  T.eq(n, 3, "rows on stdout")
  T.truthy(err:find("3 rows", 1, true), "summary: " .. err)
  T.truthy(err:find("ok 3", 1, true), "status counts: " .. err)
  T.truthy(err:find("mean score 0.6667", 1, true), "mean score: " .. err)
end)

T.case("rows carry the schema fields and the skill stamp", function()
  local out = dir .. "/schema.jsonl"
  local code = C.srm({ "run", slow, data, "-o", out, "--no-progress" }, dir)
  T.eq(code, 0, "exit")
  local rows = C.read_rows(out)
  local first = C.read(out):match("^[^\n]+")
  T.truthy(first:find('^{"id":1,"score":1,"status":"ok","reason":[^,]*,"components":{'), "key order: " .. first)
  for _, r in ipairs(rows) do
    T.eq(r.skill.name, "slow_number", "skill name")
    T.truthy(type(r.skill.sha256) == "string" and #r.skill.sha256 == 64, "sha256")
    T.eq(r.skill.generation, 1, "generation")
    T.eq(r.usage.llm_calls, 0, "usage")
    T.truthy(type(r.latency_ms) == "number", "latency")
    T.eq(r.components.value.status, "ok", "component")
  end
  T.eq(rows[2].score, 0, "wrong value scores 0")
end)

T.case("--set changes the stamp only when it changes a value", function()
  local a, b, c = dir .. "/set-a.jsonl", dir .. "/set-b.jsonl", dir .. "/set-c.jsonl"
  C.srm({ "run", slow, data, "-o", a, "--no-progress" }, dir)
  local code = C.srm({ "run", slow, data, "-o", b, "--no-progress", "--set", "scale=0" }, dir)
  T.eq(code, 0, "exit")
  code = C.srm({ "run", slow, data, "-o", c, "--no-progress", "--set", "scale=1" }, dir)
  T.eq(code, 0, "exit")
  local sa, sb, sc = C.read_rows(a)[1].skill.sha256, C.read_rows(b)[1].skill.sha256, C.read_rows(c)[1].skill.sha256
  T.truthy(sa ~= sb, "a changed setting changes the stamp")
  T.eq(sc, sa, "setting the default value (1 for 1.0) keeps the stamp")
end)

T.case("a skill cannot load a tokenizer file outside its directory", function()
  local skill = C.write(dir .. "/tokpath.lua", [[
local srm = require "srm"
return srm.skill {
  name = "tokpath",
  evidence = { short = srm.rule.max_tokens { tokenizer = "/etc/passwd", max = 3 } },
  policy = "short",
}
]])
  local code, _, err = C.srm({ "check", skill }, dir)
  T.eq(code, 3, "exit")
  T.truthy(err:find("relative to the skill's directory", 1, true), err)
end)

T.case("malformed self-tests are load errors", function()
  local skill = C.write(dir .. "/badtests.lua", [[
local srm = require "srm"
return srm.skill {
  name = "badtests",
  evidence = { a = function() return 1 end },
  policy = "a",
  tests = { x = 1 },
}
]])
  local code, _, err = C.srm({ "check", skill }, dir)
  T.eq(code, 3, "exit")
  T.truthy(err:find("badtests.lua:6:", 1, true) and err:find("array of test cases", 1, true), err)
  C.write(skill, [[
local srm = require "srm"
return srm.skill {
  name = "badtests",
  evidence = { a = function() return 1 end },
  policy = "a",
  tests = { { record = {}, expect = { components = { a = { scor = 1 } } } } },
}
]])
  code, _, err = C.srm({ "check", skill }, dir)
  T.eq(code, 3, "exit")
  T.truthy(err:find("unknown option 'scor'", 1, true) and not err:find("options.lua", 1, true), err)
end)

T.case("--max-error-rate exits 4 when too many rows fail", function()
  local recs = {}
  for i = 1, 150 do recs[i] = { id = i, value = 1, expected = 1, fail = (i % 2 == 0) or nil } end
  local d = C.write_jsonl(dir .. "/failing.jsonl", recs)
  local code, _, err = C.srm({ "run", slow, d, "-o", dir .. "/failing-out.jsonl", "--no-progress",
    "--max-error-rate", "0.2" }, dir)
  T.eq(code, 4, "exit (" .. err .. ")")
  T.truthy(err:find("max-error-rate", 1, true), err)
  local code2 = C.srm({ "run", slow, d, "-o", dir .. "/failing-out2.jsonl", "--no-progress",
    "--max-error-rate", "0.6" }, dir)
  T.eq(code2, 0, "under the limit")
end)

T.case("srm check prints the evidence plan and passes the self-tests", function()
  local code, out = C.srm({ "check", "skills/gsm8k.lua" }, dir)
  T.eq(code, 0, "exit (" .. out .. ")")
  T.truthy(out:find("format", 1, true) and out:find("answer", 1, true) and out:find("cascade", 1, true), out)
  T.truthy(out:find("self-tests: 5 passed", 1, true), out)
end)

T.case("non-TTY progress log lines appear periodically", function()
  local recs = {}
  for i = 1, 40 do recs[i] = { id = i, value = 1, expected = 1, delay = 0.01 } end
  local d = C.write_jsonl(dir .. "/progress.jsonl", recs)
  local code, _, err = C.srm({ "run", slow, d, "-o", dir .. "/progress-out.jsonl", "-j", "1",
    "--log-every", "0.1" }, dir)
  T.eq(code, 0, "exit")
  T.truthy(err:find("srm: %d+/40 rows"), "a progress line: " .. err)
end)

T.case("--map dst=src: the skill reads a field under its own name", function()
  local skill = C.write(dir .. "/mapped.lua", [[
local srm = require "srm"
return srm.skill {
  name = "mapped",
  evidence = { same = function(r) return r.answer == r.response end },
  policy = "same",
}
]])
  local data = C.write_jsonl(dir .. "/mapped.jsonl", {
    { id = "a", response = "4", label = "4" },
    { id = "b", response = "5", label = "4" },
  })
  local out = dir .. "/mapped.out.jsonl"
  local code, _, err = C.srm({ "run", skill, data, "-o", out, "--no-progress", "--map", "answer=label" }, dir)
  T.eq(code, 0, "exit: " .. err)
  local rows = C.by_id(C.read_rows(out))
  T.eq({ rows.a.score, rows.b.score }, { 1, 0 }, "mapped field")
  code, _, err = C.srm({ "run", skill, data, "-o", out, "--overwrite", "--map", "id=label" }, dir)
  T.eq(code, 2, "mapping onto id is a usage error")
  T.truthy(err:find("reserved field 'id'", 1, true), err)
  code, _, err = C.srm({ "run", skill, data, "-o", out, "--overwrite", "--map", "answer" }, dir)
  T.eq(code, 2, "no '='")
  T.truthy(err:find("--map expects KEY=VALUE", 1, true), err)
end)

T.done()
