-- srm run --mode group (best-of-N selection, srm.group) and srm eval bestofn: each strategy on
-- hand-computed groups, identical completions judged once (counted in the row and, for a model
-- judge, on the mock's request counter), seeded picks, input and usage errors, and GSM8K's
-- 1,319 problems x 4 labelled solutions, whose majority vote is recomputed here independently.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local M = dofile("tests/lua/mocklib.lua")
local json = require "srm.json"
M.require_mock()

local dir = C.tmpdir("group-mode")
local BANGS = "tests/data/skills/bang_count.lua"
local LONGER = "tests/data/skills/longer_wins.lua"
local FIRST = "tests/data/skills/first_shown_wins.lua"
local GSM8K = "../shared/data/gsm8k/example_model_solutions.jsonl"

local function run_group(skill, groups, extra, name)
  local data = C.write_jsonl(dir .. "/" .. name .. ".jsonl", groups)
  local out = dir .. "/" .. name .. "-out.jsonl"
  local args = { "run", skill, data, "-o", out, "--overwrite", "--no-progress", "--mode", "group" }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  local code, _, err = C.srm(args, dir)
  T.eq(code, 0, "srm run exit: " .. err)
  return C.read_rows(out), out
end

local function near(a, b, what)
  T.eq(type(a), "number", what)
  if math.abs(a - b) > 1e-12 then error(what .. ": expected " .. b .. ", got " .. tostring(a), 2) end
end

T.case("argmax: highest skill score wins, earliest on a tie; duplicates judged once", function()
  local rows = run_group(BANGS, {
    { id = "g1", prompt = "p", responses = { "a!", "b!!!", "a!", "c!!!", "d" } },
    { id = "g2", prompt = "p", responses = { { content = "x!" }, { text = "y!!" } } },
    { id = "g3", prompt = "p", responses = { "FAIL", "ok!" } },
    { id = "g4", prompt = "p", responses = { "FAIL one", "FAIL two" } },
  }, { "--strategy", "argmax" }, "argmax")
  T.eq(#rows, 4, "one row per group")
  local g1 = rows[1]
  T.eq(g1.status, "ok")
  -- scores 0.1, 0.3, 0.1, 0.3, 0: the max 0.3 first reached by candidate 1 (0-based)
  T.eq(g1.detail.selected, 1, "earliest of the tied best")
  T.eq(g1.verdict, 1, "the verdict names the selection")
  near(g1.score, 0.3, "row score = the selected candidate's score")
  T.eq(#g1.detail.scores, 5, "one score per candidate")
  near(g1.detail.scores[3], 0.1, "a duplicate gets its first copy's score")
  near(g1.detail.scores[5], 0, "no bang")
  T.eq(g1.detail.distinct, 4, "four distinct texts")
  T.eq(g1.detail.judged, 4, "each distinct text judged once")
  T.eq(g1.detail.strategy, "argmax")
  T.eq(rows[2].detail.selected, 1, "candidates may be objects with content / text")
  local g3 = rows[3]
  T.eq(g3.status, "ok", "one failed candidate does not fail the group")
  T.eq(g3.detail.selected, 1)
  T.eq(g3.detail.scores[1], nil, "the failed candidate has no score (null)")
  T.eq(g3.detail.statuses[1], "judge_failed", "its status is listed")
  local g4 = rows[4]
  T.eq(g4.status, "judge_failed", "every candidate failed")
  T.eq(g4.score, nil)
  T.eq(g4.reason:find("scripted failure", 1, true) ~= nil, true, "reason names the failure: " .. g4.reason)
end)

-- Candidates (lengths): 0 "aaa" (3), 1 "bbbbb" (5), 2 "ccccc" (5), 3 "aaa" (dup of 0),
-- 4 "ddddddddd" (9), 5 "e" (1). Distinct texts in order: 0, 1, 2, 4, 5. Judge: the longer wins,
-- equal lengths tie.
local LENGTHS = { "aaa", "bbbbb", "ccccc", "aaa", "ddddddddd", "e" }

T.case("knockout: the champion meets the others in order; a tie keeps the champion", function()
  local rows = run_group(LONGER, { { id = 1, prompt = "p", responses = LENGTHS } },
    { "--strategy", "knockout" }, "knockout")
  local d = rows[1].detail
  -- champion 0; vs 1 -> 1; vs 2 tie -> 1 stays; vs 4 -> 4; vs 5 -> 4. Four matches.
  T.eq(d.selected, 4)
  T.eq(d.judged, 4, "four matches (the duplicate 3 is never judged)")
  -- wins / matches: 0: 0/1, 1: 1/3 (beat 0, tie with 2, lost to 4), 2: 0/1, 3 = 0's, 4: 2/2, 5: 0/1
  local want = { 0, 1 / 3, 0, 0, 1, 0 }
  for i, w in ipairs(want) do near(d.scores[i], w, "score of candidate " .. (i - 1)) end
  near(rows[1].score, 1, "row score = the champion's win fraction")
end)

T.case("tournament: pairs per round, byes for the odd one, the earlier on a tie", function()
  local rows = run_group(LONGER, { { id = 1, prompt = "p", responses = LENGTHS } },
    { "--strategy", "tournament" }, "tournament")
  local d = rows[1].detail
  -- round 1 over distinct [0,1,2,4,5]: 0-1 -> 1, 2-4 -> 4, 5 bye; round 2: 1-4 -> 4, 5 bye;
  -- round 3: 4-5 -> 4. Four matches.
  T.eq(d.selected, 4)
  T.eq(d.judged, 4)
  local want = { 0, 1 / 2, 0, 0, 1, 0 }
  for i, w in ipairs(want) do near(d.scores[i], w, "score of candidate " .. (i - 1)) end
  -- a tie: "ccccc" vs "bbbbb" in round 1 -> the earlier (0-based 0) advances
  local tie = run_group(LONGER, { { id = 2, prompt = "p", responses = { "ccccc", "bbbbb" } } },
    { "--strategy", "tournament" }, "tournament-tie")
  T.eq(tie[1].detail.selected, 0, "tie: the earlier candidate advances")
  near(tie[1].detail.scores[1], 0, "a tie is no win")
end)

T.case("pairwise display order is a seeded coin: same seed same picks, other seeds differ", function()
  local groups = {}
  for g = 1, 60 do
    groups[g] = { id = "g" .. g, prompt = "p", responses = { "one " .. g, "two " .. g, "three " .. g, "four " .. g } }
  end
  local function picks(seed, strategy)
    local rows = run_group(FIRST, groups, { "--strategy", strategy, "--seed", tostring(seed) },
      strategy .. seed)
    local s = {}
    for i, r in ipairs(rows) do s[i] = r.detail.selected end
    return s
  end
  for _, strategy in ipairs { "knockout", "tournament" } do
    local a, b, c = picks(1, strategy), picks(1, strategy), picks(2, strategy)
    T.eq(table.concat(a, ","), table.concat(b, ","), strategy .. ": reproducible")
    T.eq(table.concat(a, ",") ~= table.concat(c, ","), true, strategy .. ": the seed changes the coins")
    local seen = {}
    for _, s in ipairs(a) do seen[s] = true end
    T.eq(seen[0] and seen[1] and seen[2] and seen[3] or false, true,
      strategy .. ": with a position-biased judge every position wins somewhere")
  end
end)

T.case("majority: largest class of equal final answers, first class on a tie; none -> abstain", function()
  local rows = run_group(BANGS, {
    -- answers 12, 7, 12.0, 7, none: classes {12: 0, 2}, {7: 1, 3} tie -> the class seen first
    { id = "m1", prompt = "p", responses = { "#### 12", "so it is \\boxed{7}", "The answer is 12.0", "#### 7", "no idea" } },
    { id = "m2", prompt = "p", responses = { "#### 3", "#### 5", "The answer is 5" } },
    { id = "m3", prompt = "p", responses = { "hello", "world" } },
  }, { "--strategy", "majority" }, "majority")
  local m1 = rows[1]
  T.eq(m1.detail.selected, 0)
  T.eq(m1.detail.votes, 2)
  near(m1.score, 2 / 5, "row score = the vote share")
  T.eq(m1.detail.answers[3], "12.0", "answers as extracted")
  T.eq(m1.detail.answers[5], nil, "no answer: null")
  T.eq(m1.detail.judged, 0, "majority does not call the skill")
  T.eq(rows[2].detail.selected, 1, "5 has two votes")
  T.eq(rows[3].status, "abstain", "nothing to vote on")
  T.eq(rows[3].detail.selected, 0, "an abstaining group still names candidate 0")
end)

T.case("random: seeded uniform pick per record id", function()
  local groups = {}
  for g = 1, 400 do groups[g] = { id = g, prompt = "p", responses = { "a", "b", "c", "d" } } end
  local a = run_group(BANGS, groups, { "--strategy", "random", "--seed", "5" }, "random5")
  local b = run_group(BANGS, groups, { "--strategy", "random", "--seed", "5" }, "random5b")
  local c = run_group(BANGS, groups, { "--strategy", "random", "--seed", "6" }, "random6")
  local counts, same, differ = { [0] = 0, 0, 0, 0 }, true, false
  for i = 1, 400 do
    local s = a[i].detail.selected
    counts[s] = counts[s] + 1
    same = same and s == b[i].detail.selected
    differ = differ or s ~= c[i].detail.selected
    near(a[i].score, 0.25, "row score 1/N")
  end
  T.eq(same, true, "same seed, same picks")
  T.eq(differ, true, "another seed, other picks")
  local w2 = run_group(BANGS, groups, { "--strategy", "random", "--seed", "5", "--workers", "2" }, "random5w2")
  local same_w = true
  for i = 1, 400 do same_w = same_w and w2[i].detail.selected == a[i].detail.selected end
  T.eq(same_w, true, "--workers 2 picks the same")
  for k = 0, 3 do
    T.eq(counts[k] >= 60, true, "index " .. k .. " picked " .. counts[k] .. " times of 400 (expected ~100)")
  end
end)

T.case("a model judge under argmax: identical completions cost one request", function()
  local mock <close> = M.start {}
  local function cand(score, tag)
    return tag .. ' [[mock:reply={"reason": "r", "score": ' .. score .. '}]]'
  end
  local groups = {
    { id = 1, prompt = "q1", responses = { cand(2, "x"), cand(5, "y"), cand(2, "x"), cand(5, "y"), cand(3, "z") } },
    { id = 2, prompt = "q2", responses = { cand(4, "u"), cand(4, "u") } },
  }
  local rows = run_group("tests/data/skills/llm_rubric.lua", groups,
    { "--strategy", "argmax", "--endpoint", mock.url, "--model", "mock", "--no-cache" }, "llm")
  T.eq(rows[1].detail.selected, 1, "score 5 on the 1-5 scale wins")
  near(rows[1].score, 1, "(5 - 1) / 4")
  near(rows[1].detail.scores[5], 0.5, "(3 - 1) / 4")
  T.eq(rows[1].usage.llm_calls, 3, "three distinct texts, three calls")
  T.eq(rows[2].usage.llm_calls, 1)
  T.eq(mock.stats().requests, 4, "the mock saw one request per distinct candidate")
end)

T.case("argmax sends a group's first judge calls together (one batch, all in flight at once)", function()
  local mock <close> = M.start { latency_ms = 300 }
  local cands = {}
  for k = 1, 5 do cands[k] = "candidate " .. k .. ' [[mock:reply={"reason": "r", "score": ' .. k .. '}]]' end
  local rows = run_group("tests/data/skills/llm_rubric.lua", { { id = 1, prompt = "q", responses = cands } },
    { "--strategy", "argmax", "--endpoint", mock.url, "--model", "mock", "--no-cache", "-j", "8" }, "batch")
  T.eq(rows[1].detail.selected, 4, "score 5 wins")
  T.eq(rows[1].usage.llm_calls, 5, "five calls, counted once each")
  local st = mock.stats()
  T.eq(st.requests, 5)
  T.eq(st.peak_in_flight, 5, "the five judge calls were in flight together")
end)

T.case("input errors are rows; usage errors exit 2", function()
  local rows = run_group(BANGS, {
    { id = "ok", prompt = "p", responses = { "a!" } },
    { id = "missing", prompt = "p" },
    { id = "empty", prompt = "p", responses = json.array {} },
    { id = "number", prompt = "p", responses = { "a", 5 } },
  }, nil, "bad")
  T.eq(#rows, 4)
  T.eq(rows[1].status, "ok")
  T.eq(rows[1].detail.strategy, "argmax", "argmax is the default")
  for i = 2, 4 do T.eq(rows[i].status, "input_error", rows[i].id) end
  T.eq(rows[2].reason:find("--candidates", 1, true) ~= nil, true, rows[2].reason)
  T.eq(rows[4].reason:find("candidate 1", 1, true) ~= nil, true, rows[4].reason)
  local other = run_group(BANGS, { { id = 1, completions = { "x", "y!" } } }, { "--candidates", "completions" }, "field")
  T.eq(other[1].detail.selected, 1, "--candidates names the field")
  local data = C.write_jsonl(dir .. "/u.jsonl", { { responses = { "a" } } })
  local code, _, err = C.srm({ "run", BANGS, data, "--mode", "group", "--strategy", "best" }, dir)
  T.eq(code, 2, "unknown strategy")
  T.eq(err:find("argmax, knockout, tournament, majority, random", 1, true) ~= nil, true, err)
  code, _, err = C.srm({ "run", BANGS, data, "--strategy", "argmax" }, dir)
  T.eq(code, 2, "--strategy without --mode group")
  code, _, err = C.srm({ "run", BANGS, data, "--mode", "groups" }, dir)
  T.eq(code, 2, "bad mode: " .. err)
end)

T.case("bench expand bestofn: the generic shape (responses with labels) and a missing label", function()
  local data = C.write_jsonl(dir .. "/generic.jsonl", {
    { id = "p1", prompt = "q", responses = { { content = "a", label = 1 }, { text = "b", is_correct = false },
      { solution = "c", score = 0.5 } } },
  })
  local out = dir .. "/generic.tasks.jsonl"
  local code, _, err = C.srm({ "bench", "expand", "bestofn", data, out }, dir)
  T.eq(code, 0, err)
  local t = C.read_rows(out)[1]
  T.eq({ t.id, t.prompt, t.responses, t.bench.labels }, { "p1", "q", { "a", "b", "c" }, { 1, 0, 0.5 } })
  local bad = C.write_jsonl(dir .. "/nolabel.jsonl", { { prompt = "q", responses = { { content = "a" } } } })
  code, _, err = C.srm({ "bench", "expand", "bestofn", bad, dir .. "/x.jsonl" }, dir)
  T.eq(code, 1, "a candidate without a label")
  T.eq(err:find("response 1 has no label", 1, true) ~= nil, true, err)
end)

T.case("srm eval bestofn: selected / first / random / oracle by hand", function()
  -- labels [1,0,0,0] selected 0 -> 1; [0,1,1,0] selected 3 -> 0; [0,0,0,0] judge_failed -> 0
  local rows = {
    { id = 1, status = "ok", score = 1, detail = { selected = 0 }, bench = { bench = "bestofn", labels = { 1, 0, 0, 0 } } },
    { id = 2, status = "ok", score = 1, detail = { selected = 3 }, bench = { bench = "bestofn", labels = { 0, 1, 1, 0 } } },
    { id = 3, status = "judge_failed", detail = { selected = 0 }, bench = { bench = "bestofn", labels = { 0, 0, 0, 0 } } },
  }
  local path = C.write_jsonl(dir .. "/eval-rows.jsonl", rows)
  local code, stdout, err = C.srm({ "eval", "bestofn", path }, dir)
  T.eq(code, 0, err)
  local m = json.decode(stdout)
  T.eq(m.groups, 3)
  T.eq(m.no_selection, 1, "the failed row has no valid selection")
  near(m.selected, 100 / 3, "selected: (1 + 0 + 0) / 3")
  near(m.first, 100 / 3, "first: (1 + 0 + 0) / 3")
  near(m.random, 100 * (0.25 + 0.5 + 0) / 3, "random: mean label per group, averaged")
  near(m.oracle, 200 / 3, "oracle: (1 + 1 + 0) / 3")
end)

-- GSM8K's released solutions end in "A: N" (N may be a fraction a/b); a generation cut short has
-- no such line, and then its last number counts (srm.math.extract's documented fallback). The
-- majority vote is recomputed from that alone.
local function to_number(text)
  local a, b = text:match("^(-?[%d.]+)/(%d+)$")
  if a then return tonumber(a) / tonumber(b) end
  return tonumber(text)
end

local function final_number(solution)
  local last = solution:match("A:%s*([^\n]*)%s*$")
  if last then
    last = last:gsub("[,$%s]", ""):gsub("%.$", "")
    return to_number(last:match("^-?[%d.]+/%d+") or last:match("^-?%d*%.?%d+") or "")
  end
  local n
  for num in solution:gmatch("%-?%d[%d,]*%.?%d*") do n = num end
  return n and tonumber((n:gsub(",", ""):gsub("%.$", ""))) or nil
end

local function same_number(x, y)
  return math.abs(x - y) <= 1e-9 * math.max(1, math.abs(x), math.abs(y))
end

T.case("GSM8K best-of-4: majority vote and oracle recomputed independently", function()
  local f = io.open(GSM8K, "rb")
  if not f then
    print("SKIPPED: " .. GSM8K .. " is missing")
    return
  end
  f:close()
  local out = dir .. "/gsm8k-majority.jsonl"
  local code, _, err = C.srm({ "run", "skills/gsm8k.lua", GSM8K, "--bench", "bestofn", "--mode", "group",
    "--strategy", "majority", "-o", out, "--overwrite", "--no-progress" }, dir)
  T.eq(code, 0, err)
  local rows = C.read_rows(out)
  T.eq(#rows, 1319, "one row per problem")
  local correct, oracle, mismatches = 0, 0, 0
  local problems = {}
  for l in C.read(GSM8K):gmatch("[^\n]+") do problems[#problems + 1] = json.decode(l) end
  for i, line in ipairs(problems) do
    local keys = {}
    for k, v in pairs(line) do if type(v) == "table" and v.solution then keys[#keys + 1] = k end end
    table.sort(keys)
    local classes, best = {}, nil
    for k, key in ipairs(keys) do
      local n = final_number(line[key].solution)
      if n then
        local found
        for _, c in ipairs(classes) do if not found and same_number(c.n, n) then found = c end end
        if found then found.count = found.count + 1 else classes[#classes + 1] = { n = n, rep = k, count = 1 } end
      end
    end
    for _, c in ipairs(classes) do if not best or c.count > best.count then best = c end end
    local pick = best and best.rep or 1
    if rows[i].detail.selected ~= pick - 1 then mismatches = mismatches + 1 end
    if line[keys[pick]].is_correct then correct = correct + 1 end
    for _, key in ipairs(keys) do
      if line[key].is_correct then oracle = oracle + 1 break end
    end
  end
  T.eq(mismatches, 0, "srm's selection equals the independent majority vote on every problem")
  local m = json.decode((select(2, C.srm({ "eval", "bestofn", out }, dir))))
  near(m.selected, 100 * correct / 1319, "majority-vote accuracy")
  near(m.oracle, 100 * oracle / 1319, "oracle accuracy")
end)

T.done()
