-- srm.verdicts: the shared verdict parser, on tables of replies written the way judges write
-- them (MT-Bench/Arena-Hard brackets, AlpacaEval "Output (a)", JudgeBench "A>B", Prometheus
-- "[RESULT]"-less lines, reasoning models' <think> blocks, IF-RewardBench checklist answers).
local T = dofile("tests/lua/testlib.lua")
local V = require "srm.verdicts"
local judge = require "srm.judge"
local agent = require "srm.agent"

local function check_rows(kind, rows, spec)
  for i, row in ipairs(rows) do
    local v, form = V.parse(row[1], kind, spec or row.spec)
    T.eq(v, row[2], kind .. " row " .. i .. ": " .. row[1])
    if row[3] then T.eq(form, row[3], kind .. " row " .. i .. " form") end
  end
end

T.case("pair: brackets, Winner lines, Output (a), A>B, JSON keys, think blocks", function()
  check_rows("pair", {
    { "After comparing both, my final verdict is: [[A]]", "A", "brackets" },
    { "Assistant B is slightly better: [[B>A]]", "B", "brackets" },
    { "[[A]] would be the format, but on reflection the answer is [[B]].", "B", "brackets" },
    { "Both are equally good. [[C]]", "tie", "brackets" },
    { "It is a draw: [[Tie]]", "tie", "brackets" },
    { "**Winner: Response B**", "B", "keys" },
    { "Winner: Response (a)", "A", "keys" },
    { "The winner is Assistant A.", "A", "keys" },
    { "Final Verdict: Tie.", "tie", "keys" },
    { "**Final verdict**: `B`", "B", "keys" },
    { "Decision = A", "A", "keys" },
    { "Output (b)", "B", "output" },
    { "Output (a) is more accurate than output (b). Therefore: Output (a)", "A", "output" },
    { "Response (B) handles the edge case.", "B", "output" },
    { "Overall A>B because B miscounts.", "A", "relation" },
    { "I'd say B >> A here.", "B", "relation" },
    { "A<B", "B", "relation" },
    { "A = B, neither is better", "tie", "relation" },
    { '{"reason": "B is right", "winner": "B"}', "B", "json" },
    { '```json\n{"verdict": "Tie", "reason": "same"}\n```', "tie", "json" },
    { 'Thinking done. {"decision": "A"} trailing words', "A", "json" },
    { "<think>Maybe [[A]]... no.</think>\n[[B]]", "B", "brackets" },
    { "<think>I lean [[A]] but the reply was cut", nil },
    { "the template ate my tag </think> so: [[A]]", "A", "brackets" },
    { "Response A is better in places and Response B in others.", nil },
    { "DATA=BASE and BETA>ALPHA are not verdicts", nil },
    { "[[D]]", nil },
    { "", nil },
  })
end)

T.case("pair: occurrence first/last, forms, keys and labels are configurable", function()
  local text = "Draft: [[A]]\nWinner: B\nFinal: [[B]]\n"
  T.eq({ V.parse(text, "pair") }, { "B", "brackets" })
  T.eq({ V.parse(text, "pair", { occurrence = "first" }) }, { "A", "brackets" })
  T.eq({ V.parse(text, "pair", { forms = { "keys" } }) }, { "B", "keys" })
  T.eq({ V.parse("Pick: A\nPick: B", "pair", { forms = { "keys" }, labels = { "pick" }, occurrence = "first" }) },
    { "A", "keys" })
  T.eq(V.parse('{"pick": "B", "verdict": "A"}', "pair", { keys = { "pick" } }), "B")
  T.eq(V.parse('{"pick": "B", "verdict": "A"}', "pair"), "A")
  T.raises(function() V.parse("x", "pair", { occurence = "first" }) end, "verdicts.parse: unknown spec key 'occurence'")
  T.raises(function() V.parse("x", "pair", { occurrence = "middle" }) end, "occurrence must be 'first' or 'last'")
  T.raises(function() V.parse("x", "pairs") end, "verdicts.parse: unknown kind 'pairs'")
  T.raises(function() V.parse("x", "pair", { forms = { "regex" } }) end, "unknown form 'regex'")
end)

T.case("scaled: A>>B ... B>>A, mirrored and spaced forms", function()
  check_rows("scaled", {
    { "My final verdict is: [[A>>B]]", "A>>B", "brackets" },
    { "[[B>A]]", "B>A", "brackets" },
    { "[[A=B]]", "A=B", "brackets" },
    { "[[A<<B]]", "B>>A", "brackets" },
    { "Verdict: B > A", "B>A", "keys" },
    { "Final verdict: **A >> B**", "A>>B", "keys" },
    { "Final verdict: tie", "A=B", "keys" },
    { "Clearly B>>A.", "B>>A", "relation" },
    { '{"verdict": "B<A"}', "A>B", "json" },
    { "[[A]]", nil },
    { "A is much better", nil },
  })
end)

T.case("index: letters and numbers within n, 'Best: Candidate 3'", function()
  local spec = { n = 4 }
  check_rows("index", {
    { "The best is [[C]]", 3, "brackets" },
    { "[[2]]", 2, "brackets" },
    { "[[E]]", nil },
    { '{"best": 2, "reason": "x"}', 2, "json" },
    { '{"best": "D"}', 4, "json" },
    { "Best: Candidate 3", 3, "keys" },
    { "Final answer: (b)", 2, "keys" },
    { "Output (d)", 4, "output" },
    { "Best: 9", nil },
  }, spec)
end)

T.case("score: Score lines, Rating [[N]], JSON, scale bounds", function()
  local spec = { scale = { 1, 10 } }
  check_rows("score", {
    { "Score: 7", 7, "keys" },
    { "Rating: [[8]]", 8, "brackets" },
    { "Final score = 6.5/10", 6.5, "keys" },
    { '{"score": 3.5}', 3.5, "json" },
    { "Score: 70", nil },
    { "Score: -3", nil },
    { "score: 4\nOverall score: 9", 9, "keys" },
  }, spec)
  T.eq(V.parse("Score: 2\nScore: 5", "score", { scale = { 1, 10 }, occurrence = "first" }), 2)
end)

T.case("truncated replies: only the tail counts", function()
  local body = "I will answer with [[A]] or [[B]] at the end. " .. string.rep("Comparing step by step. ", 40)
  T.eq(V.parse(body, "pair"), "B", "a complete reply: the last label")
  T.eq(V.parse(body, "pair", { truncated = true }), nil, "cut mid-reasoning: the format quote does not count")
  T.eq(V.parse(body .. "So the verdict: [[A]]. Let me also add", "pair", { truncated = true }), "A")
  T.eq(V.parse(string.rep("x", 50) .. "[[B]]" .. string.rep("y", 100), "pair", { truncated = true, tail = 90 }), nil)
  T.eq(V.parse(string.rep("x", 50) .. "[[B]]" .. string.rep("y", 100), "pair", { truncated = true, tail = 120 }), "B")
  -- the agent reads a reply with finish_reason "length" the same way
  T.eq(agent.parse_text("pairwise", body, 2, { 1, 10 }, true), nil)
  T.eq(agent.parse_text("pairwise", body, 2, { 1, 10 }, false), "B")
end)

T.case("checklist: per-item yes/no lines, blocks, last complete block", function()
  T.eq(V.checklist("1. Yes\n2. No\n3. Yes", 3), { true, false, true })
  T.eq(V.checklist([[
**Item 1:** YES - all lowercase
**Item 2:** NO - 143 words, over the limit
- Q3: not satisfied
[4] pass
5) Does it end with a question? -> Yes.
(6) [x] title in double angular brackets
7. [ ] no commas]], 7), { true, false, false, true, true, true, false })
  -- a draft, then the final answers: the last complete block wins; "first" takes the draft
  local two = "Draft:\n1. No\n2. No\nFinal:\n1. Yes\n2. No"
  T.eq(V.checklist(two, 2), { true, false })
  T.eq(V.checklist(two, 2, { occurrence = "first" }), { false, false })
  -- an incomplete last block falls back to the last complete one
  T.eq(V.checklist("1. Yes\n2. Yes\n1. No", 2), { true, true })
  -- nothing complete: nil and the answers that were there
  local got, partial = V.checklist("1. Yes\n3. No", 3)
  T.eq(got, nil)
  T.eq(partial, { [1] = true, [3] = false })
  -- n = nil: the block's highest item
  T.eq(V.checklist("1: true\n2: false", nil), { true, false })
  T.eq(V.checklist("<think>1. No\n2. No</think>1. Yes\n2. Yes", 2), { true, true })
  T.eq(V.checklist("1. N/A\n2. Yes", 2), nil, "N/A is no answer")
  T.eq(V.checklist("No checklist here.", 1), nil)
  T.raises(function() V.checklist("1. Yes", 0) end, "verdicts.checklist: n must be a positive integer or nil")
end)

T.case("normalize: raw values per kind", function()
  T.eq(V.normalize("pair", "Response B"), "B")
  T.eq(V.normalize("pair", " tied "), "tie")
  T.eq(V.normalize("pair", 1), nil)
  T.eq(V.normalize("scaled", "a << b"), "B>>A")
  T.eq(V.normalize("index", 3.0, { n = 3 }), 3)
  T.eq(V.normalize("index", 3.5, { n = 3 }), nil)
  T.eq(V.normalize("index", "Candidate B", { n = 3 }), 2)
  T.eq(V.normalize("score", "7", { scale = { 1, 10 } }), 7)
  T.eq(V.normalize("score", 0 / 0, { scale = { 1, 10 } }), nil)
  T.raises(function() V.normalize("rank", "A") end, "verdicts.normalize: unknown kind 'rank'")
end)

T.case("judge.lua's parsers go through srm.verdicts (first occurrence, winner key)", function()
  T.eq(judge.parse_winner('{"winner": "A"}'), "A")
  T.eq(judge.parse_winner('Reasoning. "winner": "B"'), "B")
  T.eq(judge.parse_winner("first [[A]] then [[B]]"), "A")
  T.eq(judge.parse_winner("Winner: Response B"), "B")
  T.eq(judge.parse_winner('{"winner": "tie"}'), "tie")
  T.eq(judge.parse_winner("nothing"), nil)
  T.eq(judge.json_object('x ```json\n{"a": 1}\n``` y'), { a = 1 })
end)

T.case("untrusted text: linear time, invalid UTF-8, NUL bytes", function()
  local clock = os.clock
  local nasty = {
    string.rep("<think>", 100000),
    string.rep("```json", 100000),
    string.rep("[[", 200000) .. "[[A]]",
    string.rep("winner: ", 50000),
    string.rep("output (", 100000),
    string.rep("1. ", 100000),
    string.rep("A>", 200000),
    string.rep("{", 200000) .. "}",
    "\xff\xfe\0 [[B]]",
  }
  for i, text in ipairs(nasty) do
    local t0 = clock()
    for _, kind in ipairs { "pair", "scaled", "index", "score" } do
      local ok, err = pcall(V.parse, text, kind, { n = 4, scale = { 1, 10 } })
      T.truthy(ok, "row " .. i .. " " .. kind .. ": " .. tostring(err))
    end
    T.truthy(pcall(V.checklist, text, 3), "checklist row " .. i)
    T.truthy(clock() - t0 < 2, "row " .. i .. " took " .. (clock() - t0) .. " s")
  end
  T.eq(V.parse("\xff\xfe\0 [[B]]", "pair"), "B")
  T.eq(V.parse(string.rep("[", 100000) .. "[[A]]", "pair"), "A")
end)

T.done()
