-- Skill-RM packages (SKILL.md + resources.yaml) through srm.package and the agent loop, and the
-- srm.yaml reader they rely on.
local T = dofile("tests/lua/testlib.lua")
local json = require "srm.json"
local yaml = require "srm.yaml"
local package = require "srm.package"
local evaluate = require "srm.evaluate"
local trace = require "srm.trace"

local PKG = "tests/data/skillrm_pkg"

T.case("yaml: mappings, sequences, core-schema scalars; aliases, depth and errors refused", function()
  local rows = {
    { "a: 1\nb: two\nc: 2.5\nd: true\ne: null\nf: '3'", { a = 1, b = "two", c = 2.5, d = true, f = "3" } },
    { "- x\n- [1, 2]\n- {k: v}", { "x", { 1, 2 }, { k = "v" } } },
    { "text: |\n  line one\n  line two\n", { text = "line one\nline two\n" } },
    { "n: -7\nm: 1e3\nh: 0x10\nv: 1.2.3", { n = -7, m = 1000.0, h = "0x10", v = "1.2.3" } },
    { "list: [a, ~, b]", { list = { "a", false, "b" } } },
    { "k: \"\\u00e9\"", { k = "é" } },
  }
  for i, row in ipairs(rows) do T.eq(yaml.decode(row[1]), row[2], "row " .. i) end
  local function fails(text, msg)
    local v, err = yaml.decode(text)
    T.eq(v, nil, text)
    T.truthy(err and err:find(msg, 1, true), "'" .. text:sub(1, 20) .. "': " .. tostring(err))
  end
  fails("a: &x [1]\nb: *x", "aliases are not supported")
  fails(string.rep("[", 200), "nested deeper than 64 levels")
  fails("a: [1, 2", "line 2")
  fails("", "empty document")
  fails("? [1]\n: 2", "mapping keys must be plain text")
  fails("a: \"\xff\"", "invalid")
  T.raises(function() yaml.decode(nil) end, "string expected")
end)

T.case("front matter: the YAML head and the Markdown body", function()
  local meta, body = package.front_matter("---\nname: x\n---\n# Body\n")
  T.eq(meta, { name = "x" })
  T.eq(body, "# Body\n")
  local m2, err = package.front_matter("# no front matter")
  T.eq(m2, nil)
  T.truthy(err:find("must start with a '---' line", 1, true))
  m2, err = package.front_matter("---\nname: x\n")
  T.truthy(err:find("no closing", 1, true))
end)

T.case("the package loads unchanged: cards, stamp over every file, agent options", function()
  T.truthy(package.is_package(PKG))
  T.eq(package.is_package("tests/data"), false)
  local skill, err = package.load(PKG .. "/")
  T.truthy(skill, err)
  T.eq(skill.name, "short-answer-pair")
  T.eq(skill.version, "0.3")
  local ids = {}
  for i, c in ipairs(skill.resources) do ids[i] = c.id .. ":" .. c.type .. ":" .. c.hard_or_soft end
  T.eq(ids, { "rubric:rubric:soft", "hedging:principle:soft", "reference_match:verifier:hard" })
  T.eq(skill.resources[2].description, "answers that list several options")
  T.eq(skill.files, { "SKILL.md", "resources.yaml", "tools/reference_match.py", "resources/rubric.md",
    "resources/hedging.md" })
  T.eq(#skill.sha256, 64)
  T.truthy(skill.evidence.agent.describe:find("pairwise, skill_operational; 6 turns, 3 views, 2 runs", 1, true),
    skill.evidence.agent.describe)
  local _, uerr, kind = package.load(PKG, { colour = "x" })
  T.eq(kind, "usage", uerr)
  local _, lerr, lkind = package.load("tests/data/no_such_pkg")
  T.eq(lkind, "load", lerr)
end)

T.case("the package runs through the agent loop; its script verifier is hard evidence", function()
  T.require_python("test_agent_package")
  local skill = assert(package.load(PKG))
  local function tc(name, args)
    return { id = "c_" .. name, type = "function", ["function"] = { name = name, arguments = json.encode(args) } }
  end
  local function calls(...) return { tool_calls = { ... } } end
  local path = os.tmpname()
  assert(trace.open(path))
  local r = evaluate.evaluate(skill,
    { prompt = "Capital of France?", response_a = "Lyon", response_b = "The capital is Paris.", reference = "Paris",
      label = "B" }, skill.ctx, {
      calls(tc("use_skill", { name = "short-answer-pair" })), calls(tc("use_skill", { name = "short-answer-pair" })),
      calls(tc("view_resource", { id = "rubric" }), tc("run_resource", { id = "reference_match" })),
      calls(tc("view_resource", { id = "rubric" }), tc("run_resource", { id = "reference_match" })),
      calls(tc("final_answer", { verdict = "A", reason = "Lyon is a big city" })),
      calls(tc("final_answer", { verdict = "B", reason = "Lyon" })),
    })
  trace.close()
  local f = assert(io.open(path))
  local tr = json.decode(f:read("l")).trace
  f:close()
  os.remove(path)
  T.eq({ r.status, r.verdict, r.score }, { "ok", "B", 0 }, r.reason)
  T.eq(r.components.agent.detail.readout.decision, "overridden")
  local turn2 = tr.orders[1].turns[2].calls
  T.truthy(turn2[1].result.content:find("names the asked-for thing", 1, true))
  T.eq(turn2[2].result.results.A.score, 0)
  T.eq(turn2[2].result.results.B.score, 1)
  T.eq(turn2[2].result.results.B.reason, "matches the reference")
  local first = tr.orders[1].turns[1].calls[1].result
  T.truthy(first.instructions:find("Short-answer pair judge", 1, true), "SKILL.md body is the instructions")
end)

T.done()
