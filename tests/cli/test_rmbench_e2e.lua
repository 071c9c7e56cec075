-- RM-Bench end to end through the agent judge: `srm run skills/reward_judge/main.lua FILE
-- --bench rmbench` in the skill_operational setting against srm-mock, then `srm eval rmbench`.
-- The judge is the "longer" mock script (--set mock_script=longer): per conversation use_skill,
-- two parallel views, run_lua, final_answer naming the longer response as shown (bytes; equal
-- lengths: tie), so both of the agent's orders agree and every task has a valid verdict.
--
-- Expected rows and metrics are computed here from the raw benchmark files alone (byte lengths;
-- the domain from the file name or a table below), independently of srm's loader and metric:
-- with this judge, chosen style i beats rejected style j exactly when #chosen[i] > #rejected[j]
-- (whichever side the seeded coin shows it on; a tie is a loss). RM-Bench's metric
-- (compute_accuracy of the official scripts/utils.py): acc[i][j] = mean over samples of that
-- win; hard = mean of the cells i < j, normal = the diagonal, easy = i > j, total = all 9 cells;
-- per domain and over all samples; avg = mean of the domain totals.
--
-- Runs on tests/data/rmbench_e2e/samples.json (5 samples of our own text) always, then on the
-- four files of ../shared/data/rmbench/ (798 samples, 7,182 rows); without that directory it
-- ends as skipped (exit 77) after the small runs passed.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local M = dofile("tests/lua/mocklib.lua")
local json = require "srm.json"
M.require_mock()

local SMALL = "tests/data/rmbench_e2e/samples.json"
-- the domains of the small file's samples (by their subset; sample 104 names "domain": "code")
local SMALL_DOMAINS = { [101] = "chat", [102] = "math", [103] = "safety", [104] = "code", [105] = "safety" }
local SHARED = os.getenv("SRM_RMBENCH_DIR") or "../shared/data/rmbench" -- env: tests the skip
local SHARED_FILES = { -- file, domain (RM-Bench names its files after the domain)
  { "chat_filtered.json", "chat" }, { "code_filtered.json", "code" },
  { "safety-refuse_filtered.json", "safety" }, { "safety-response_filtered.json", "safety" },
}
local TURNS = 4 -- use_skill, view x2, run_lua, final_answer
local dir = C.tmpdir("rmbench-e2e")

-- The scripted judge's verdict on two texts as shown: the longer one (bytes), else a tie.
local function longer(a, b)
  if #a > #b then return "A" elseif #b > #a then return "B" end
  return "tie"
end

local function sample_id(r)
  return type(r.id) == "string" and r.id or string.format("%d", r.id)
end

-- The raw samples of a file, each {key = "<domain>:<id>", domain, chosen, rejected}.
local function read_samples(path, domain_of)
  local doc = assert(json.decode(assert(C.read(path))), path)
  local out = {}
  for _, r in ipairs(doc) do
    local d = domain_of(r)
    out[#out + 1] = { key = d .. ":" .. sample_id(r), domain = d, chosen = r.chosen, rejected = r.rejected }
  end
  return out
end

-- Metric summary of samples (each with .win[i][j] = 1 or 0), as srm eval writes it.
local function summary(samples)
  local n = #samples
  local acc = {}
  for i = 1, 3 do
    acc[i] = {}
    for j = 1, 3 do
      local wins = 0
      for _, s in ipairs(samples) do wins = wins + s.win[i][j] end
      acc[i][j] = wins / n
    end
  end
  local total = 0
  for i = 1, 3 do for j = 1, 3 do total = total + acc[i][j] end end
  return { samples = n, matrix = acc, total = total / 9,
    hard = (acc[1][2] + acc[1][3] + acc[2][3]) / 3,
    normal = (acc[1][1] + acc[2][2] + acc[3][3]) / 3,
    easy = (acc[2][1] + acc[3][1] + acc[3][2]) / 3 }
end

-- Expected metrics of a list of samples: overall, per domain, avg of the domain totals.
local function expected_metrics(samples)
  local by_domain, names = {}, {}
  for _, s in ipairs(samples) do
    s.win = {}
    for i = 1, 3 do
      s.win[i] = {}
      for j = 1, 3 do s.win[i][j] = #s.chosen[i] > #s.rejected[j] and 1 or 0 end
    end
    if not by_domain[s.domain] then
      by_domain[s.domain] = {}
      names[#names + 1] = s.domain
    end
    table.insert(by_domain[s.domain], s)
  end
  local m = summary(samples)
  m.domains = {}
  local sum = 0
  for _, d in ipairs(names) do
    m.domains[d] = summary(by_domain[d])
    sum = sum + m.domains[d].total
  end
  m.avg = sum / #names
  m.games = 9 * #samples
  return m
end

local function check_summary(got, want, what)
  T.eq(got.samples, want.samples, what .. " samples")
  for _, k in ipairs { "total", "easy", "normal", "hard" } do T.near(got[k], want[k], 1e-12, what .. " " .. k) end
  for i = 1, 3 do
    for j = 1, 3 do T.near(got.matrix[i][j], want.matrix[i][j], 1e-12, what .. " acc[" .. i .. "][" .. j .. "]") end
  end
end

local function check_metrics(got, want, games)
  T.eq({ got.benchmark, got.games, got.no_verdict }, { "rmbench", games, 0 }, "games")
  check_summary(got, want, "all samples")
  local gd, wd = {}, {}
  for d in pairs(got.domains) do gd[#gd + 1] = d end
  for d in pairs(want.domains) do wd[#wd + 1] = d end
  table.sort(gd)
  table.sort(wd)
  T.eq(gd, wd, "domains")
  for _, d in ipairs(wd) do check_summary(got.domains[d], want.domains[d], d) end
  T.near(got.avg, want.avg, 1e-12, "avg")
end

local function eval(rows_path, name)
  local metrics = dir .. "/" .. name .. ".metrics.json"
  local code, _, err = C.srm({ "eval", "rmbench", rows_path, "-o", metrics, "--md", metrics .. ".md" })
  T.eq(code, 0, "srm eval exit (" .. err .. ")")
  return json.decode(assert(C.read(metrics))), C.read(metrics .. ".md")
end

-- One end-to-end run on one benchmark file: rows (and the tasks srm showed the judge) checked
-- against the raw samples, then srm eval against the independent metrics. spec: "rmbench" or
-- "rmbench:both". Returns {rows, samples, metrics, requests, label_a}.
local function run_e2e(name, path, samples, spec, log)
  local both = spec == "rmbench:both"
  local out = dir .. "/" .. name .. ".rows.jsonl"
  -- C.tmpdir names can repeat within a second (srm seeds math.random the same way each run)
  for _, f in ipairs { out, out .. ".tasks.jsonl", log or "" } do os.remove(f) end
  local mock <close> = M.start(log and { "--log", log } or {})
  local code, _, err = C.srm({ "run", "skills/reward_judge/main.lua", path, "--bench", spec,
    "-o", out, "--endpoint", mock.url, "--model", "mock", "--no-progress", "--no-cache",
    "--set", "mock_script=longer", "--map", "response_a=response_A,response_b=response_B" })
  T.eq(code, 0, "srm run exit (" .. err .. ")")
  local rows, tasks = C.read_rows(out), C.read_rows(out .. ".tasks.jsonl")
  local games = both and 2 or 1
  T.eq({ #rows, #tasks }, { 9 * games * #samples, 9 * games * #samples }, "one row per task")
  -- rows in input order: per sample c<i>r<j> for i, j = 1..3 (":ab" then ":ba" with both)
  local k, label_a = 0, 0
  for _, s in ipairs(samples) do
    for i = 1, 3 do
      for j = 1, 3 do
        for g = 1, games do
          k = k + 1
          local row, task = rows[k], tasks[k]
          local id = s.key .. ":c" .. i .. "r" .. j .. (both and (g == 1 and ":ab" or ":ba") or "")
          T.eq({ row.id, task.id }, { id, id }, "row " .. k .. " id")
          local b = row.bench
          T.eq({ b.bench, b.sample, b.domain, b.mode, b.chosen_style, b.rejected_style, b.games },
            { "rmbench", s.key, s.domain, "pairwise", i, j, games }, id .. " bench")
          if both then T.eq(b.label, g == 1 and "A" or "B", id .. " label") end
          T.truthy(b.label == "A" or b.label == "B", id .. " label")
          if b.label == "A" then label_a = label_a + 1 end
          -- what the judge saw: the raw chosen i and rejected j, the chosen on the label's side
          local ca, cb = s.chosen[i], s.rejected[j]
          if b.label == "B" then ca, cb = cb, ca end
          T.truthy(task.response_A == ca and task.response_B == cb, id .. ": shown texts")
          T.eq({ row.status, row.verdict }, { "ok", longer(ca, cb) }, id .. ": " .. tostring(row.reason))
          local o = row.components.agent.detail.orders
          T.eq({ #o, o[1].path, o[2].path, o[1].turns, o[2].turns, o[1].views, o[1].runs },
            { 2, "final_answer", "final_answer", TURNS, TURNS, 2, 1 }, id .. " orders")
        end
      end
    end
  end
  local requests = mock.stats().requests
  T.eq(requests, #rows * 2 * TURNS, "model requests: rows x 2 orders x 4 turns")
  local want = expected_metrics(samples)
  local got, md = eval(out, name)
  check_metrics(got, want, #rows)
  T.truthy(md:find("| all samples | " .. #samples .. " |", 1, true), "Markdown summary")
  return { rows = rows, out = out, samples = samples, metrics = got, want = want,
    requests = requests, label_a = label_a }
end

local function small_domain(r) return SMALL_DOMAINS[r.id] end

T.case("small file: rows, shown texts, metrics (hand-computed); no label reaches the model", function()
  local log = dir .. "/small.requests.log"
  local r = run_e2e("small", SMALL, read_samples(SMALL, small_domain), "rmbench", log)
  -- Byte lengths (chosen c1,c2,c3 | rejected r1,r2,r3) and the wins of chosen i over rejected j
  -- (rows i, columns j; "=" equal lengths, a tie, counted as a loss):
  --   101 chat    70,286,280 |  77,292,252   0 0 0 / 1 0 1 / 1 0 1   4 wins
  --   102 math    13,105,91  |  13,105,91    = 0 0 / 1 = 1 / 1 0 =   3 wins (3 ties)
  --   103 safety  70,297,244 |  70,278,236   = 0 0 / 1 1 1 / 1 0 1   5 wins (1 tie)
  --   104 code    61,177,195 |  61,159,194   = 0 0 / 1 1 0 / 1 1 1   5 wins (1 tie)
  --   105 safety 107,304,198 |  42,150,123   1 0 0 / 1 1 1 / 1 1 1   7 wins
  -- acc over the 5 samples: row 1 = 1/5, 0, 0; row 2 = 1, 3/5, 4/5; row 3 = 1, 2/5, 4/5.
  -- hard = (0 + 0 + 4/5)/3 = 4/15; normal = (1/5 + 3/5 + 4/5)/3 = 8/15;
  -- easy = (1 + 1 + 2/5)/3 = 12/15; total = 24/45 (24 wins of 45 comparisons).
  -- Domains: chat 4/9, math 3/9, code 5/9, safety 12/18 (easy 5/6, normal 5/6, hard 1/3);
  -- avg = (4/9 + 3/9 + 5/9 + 6/9)/4 = 1/2.
  local m = r.metrics
  T.near(m.total, 24 / 45, 1e-12, "total")
  T.near(m.hard, 4 / 15, 1e-12, "hard")
  T.near(m.normal, 8 / 15, 1e-12, "normal")
  T.near(m.easy, 12 / 15, 1e-12, "easy")
  T.near(m.avg, 0.5, 1e-12, "avg")
  T.near(m.domains.chat.total, 4 / 9, 1e-12, "chat")
  T.near(m.domains.math.total, 3 / 9, 1e-12, "math")
  T.near(m.domains.code.total, 5 / 9, 1e-12, "code")
  T.eq({ m.domains.safety.samples, m.domains.safety.total * 18 }, { 2, 12 }, "safety")
  T.near(m.domains.safety.hard, 1 / 3, 1e-12, "safety hard")
  local ties = 0
  for _, row in ipairs(r.rows) do if row.verdict == "tie" then ties = ties + 1 end end
  T.eq(ties, 5, "equal lengths: the scripted judge ties")
  -- the requests carried the texts, never the bookkeeping
  local bodies = assert(C.read(log))
  local n = 0
  for _ in bodies:gmatch("[^\n]+") do n = n + 1 end
  T.eq(n, r.requests, "every request logged")
  for _, key in ipairs { '"bench"', "chosen_style", "rejected_style", "math-prm", "safety:103" } do
    T.eq(bodies:find(key, 1, true), nil, key .. " sent to the model")
  end
  T.truthy(bodies:find("neighbour's wifi", 1, true), "the prompt reached the model")
end)

T.case("small file, rmbench:both: 18 games per sample, same metrics (the judge is order-free)", function()
  local r = run_e2e("small-both", SMALL, read_samples(SMALL, small_domain), "rmbench:both")
  T.eq({ #r.rows, r.metrics.games }, { 90, 90 })
  T.near(r.metrics.total, 24 / 45, 1e-12, "total")
end)

local shared_runs = {}

T.case("the four RM-Bench files (../shared/data/rmbench): each -> rows -> srm eval", function()
  for _, f in ipairs(SHARED_FILES) do
    if not io.open(SHARED .. "/" .. f[1], "rb") then
      T.skip_rest(SHARED .. " is missing; only the small file was checked")
      return
    end
  end
  local samples_all = 0
  for _, f in ipairs(SHARED_FILES) do
    local path = SHARED .. "/" .. f[1]
    local samples = read_samples(path, function() return f[2] end)
    local r = run_e2e(f[1]:match("^[^_]+"), path, samples, "rmbench")
    shared_runs[#shared_runs + 1] = r
    samples_all = samples_all + #samples
    local m = r.metrics
    io.stdout:write(string.format("RM-Bench e2e %-30s %4d samples %5d rows %6d requests: total %.2f "
      .. "easy %.2f normal %.2f hard %.2f\n", f[1], #samples, #r.rows, r.requests, 100 * m.total,
      100 * m.easy, 100 * m.normal, 100 * m.hard))
  end
  T.eq(samples_all, 798, "129 chat + 228 code + 284 safety-refuse + 157 safety-response")
  -- the seeded coin shows the chosen as A about half the time (7,182 draws: +-5 sigma is 44-56%)
  local a, n = 0, 0
  for _, r in ipairs(shared_runs) do a, n = a + r.label_a, n + #r.rows end
  T.truthy(a > 0.44 * n and a < 0.56 * n, string.format("chosen shown as A in %d of %d", a, n))
end)

T.case("the four files' rows in one srm eval: chat, code, safety and the average", function()
  if #shared_runs < #SHARED_FILES then return end -- skipped or failed above
  local parts, samples = {}, {}
  for _, r in ipairs(shared_runs) do
    parts[#parts + 1] = assert(C.read(r.out))
    for _, s in ipairs(r.samples) do samples[#samples + 1] = s end
  end
  local all = C.write(dir .. "/all.rows.jsonl", table.concat(parts))
  local got = eval(all, "all")
  local want = expected_metrics(samples)
  check_metrics(got, want, 9 * #samples)
  T.eq({ got.domains.chat.samples, got.domains.code.samples, got.domains.safety.samples }, { 129, 228, 441 })
  io.stdout:write(string.format("RM-Bench e2e all files: total %.2f, avg of domains %.2f\n",
    100 * got.total, 100 * got.avg))
end)

T.done_or_skip()
