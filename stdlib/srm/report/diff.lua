-- srm.report.diff: `srm diff A.jsonl B.jsonl`, two runs' rows joined by id (typically the same
-- data scored by two versions of a skill). Trusted host code.
--
--   D.compare(path_a, path_b, {eps, top, seed}) -> result | nil, err
--   D.text(result)                             -> the terminal summary (golden-tested)
--   D.html(result)                             -> a self-contained page (srm.report.html frame)
--   D.changed(result)                          -> whether any row changed (for --fail-on-change)
--
-- Memory: rows are read from both files in step; a row waits in a table only until its partner
-- comes, so two files in the same order (srm run writes input order) hold one row at a time.
-- Files in different orders hold the rows read ahead of their partners (a few numbers each).
local json = require "srm.json"
local options = require "srm.options"
local S = require "srm.report.stats"
local V = require "srm.report.svg"
local H = require "srm.report.html"
local R = require "srm.report.rows"

local D = {}

D.DELTA_BINS = 20
D.LIMITS = { components = 32, transitions = 24, ids_listed = 5, skills = 8 }

local num, str = R.num, R.str -- a finite number else nil; a string (numbers as text) else nil

local function gen_text(g)
  g = num(g)
  if g == nil then return "?" end
  if g == math.floor(g) and math.abs(g) < 2^53 then return string.format("%d", g) end
  return tostring(g)
end

-- The few fields of a row the comparison needs.
local function compact(row, seq)
  local c = { id = str(row.id) or "?", seq = seq, score = num(row.score), status = str(row.status) or "?",
    verdict = str(row.verdict) }
  local comps = row.components
  if type(comps) == "table" then
    local t = {}
    local k = 0
    for name, r in pairs(comps) do
      if type(name) == "string" and type(r) == "table" then
        k = k + 1
        if k > D.LIMITS.components then break end
        t[name] = { num(r.score), str(r.status) or "?" }
      end
    end
    c.comps = t
  end
  local sk = row.skill
  if type(sk) == "table" then
    c.skill = string.format("%s %s gen %s", str(sk.name) or "?", (str(sk.sha256) or "?"):sub(1, 12),
      gen_text(sk.generation))
  end
  return c
end

local function reader(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local r = { f = f, seq = 0, lineno = 0, bad = 0, n = 0, done = false, skills = {}, skill_order = {} }
  function r.next()
    while not r.done do
      local line = f:read("l")
      if line == nil then
        r.done = true
        f:close()
        return nil
      end
      r.lineno = r.lineno + 1
      if line:find("%S") then
        local row = json.decode(line)
        if type(row) == "table" then
          r.n = r.n + 1
          local c = compact(row, r.n)
          if c.skill then
            if r.skills[c.skill] then
              r.skills[c.skill] = r.skills[c.skill] + 1
            elseif #r.skill_order < D.LIMITS.skills then
              r.skills[c.skill] = 1
              r.skill_order[#r.skill_order + 1] = c.skill
            end
          end
          return c
        end
        r.bad = r.bad + 1
      end
    end
    return nil
  end
  return r
end

local function new_comp()
  return { n = 0, both_ok = 0, ma = S.moments(), mb = S.moments(), changed = 0, up = 0, down = 0,
    status_changed = 0, only_a = 0, only_b = 0 }
end

-- Adds one joined pair to the result.
local function add_pair(res, a, b)
  res.joined = res.joined + 1
  local eps = res.eps
  local sa, sb = a.score, b.score
  local ok_both = a.status == "ok" and b.status == "ok" and sa and sb
  local delta = 0
  local score_changed = false
  if ok_both then
    res.both_ok = res.both_ok + 1
    res.ma:add(sa)
    res.mb:add(sb)
    delta = sb - sa
    res.delta:add(delta)
    res.scatter:add({ sa, sb })
    if math.abs(delta) > eps then
      score_changed = true
      if delta > 0 then res.up = res.up + 1 else res.down = res.down + 1 end
    end
  elseif (sa == nil) ~= (sb == nil) or (sa and sb and math.abs(sb - sa) > eps) then
    score_changed = true
  end
  local verdict_flipped = a.verdict ~= b.verdict
  local status_changed = a.status ~= b.status
  if score_changed then res.score_changed = res.score_changed + 1 end
  if verdict_flipped then res.verdict_flipped = res.verdict_flipped + 1 end
  if status_changed then
    res.status_changed = res.status_changed + 1
    local key = a.status .. " -> " .. b.status
    if res.transitions[key] then
      res.transitions[key] = res.transitions[key] + 1
    elseif res.ntransitions < D.LIMITS.transitions then
      res.ntransitions = res.ntransitions + 1
      res.transitions[key] = 1
    else
      res.transitions_other = res.transitions_other + 1
    end
  end
  if score_changed or verdict_flipped or status_changed then
    res.changed_rows = res.changed_rows + 1
    -- ranking: a status change or flip outranks any score move; then the size of the move
    local key = (status_changed and 4 or 0) + (verdict_flipped and 2 or 0) +
      math.min(math.abs((sb or 0) - (sa or 0)), 1.999)
    if res.top:would_take(key) then
      res.top:add(key, { id = a.id, a = a, b = b, delta = (sa and sb) and (sb - sa) or nil,
        status_changed = status_changed, verdict_flipped = verdict_flipped })
    end
  end
  -- components
  local names = {}
  if a.comps then for n in pairs(a.comps) do names[n] = true end end
  if b.comps then for n in pairs(b.comps) do names[n] = true end end
  for name in pairs(names) do
    local c = res.comps[name]
    if not c and res.ncomps < D.LIMITS.components then
      c = new_comp()
      res.comps[name] = c
      res.ncomps = res.ncomps + 1
    end
    if c then
      local ca, cb = a.comps and a.comps[name], b.comps and b.comps[name]
      c.n = c.n + 1
      if not ca then
        c.only_b = c.only_b + 1
      elseif not cb then
        c.only_a = c.only_a + 1
      else
        if ca[2] ~= cb[2] then c.status_changed = c.status_changed + 1 end
        if ca[2] == "ok" and cb[2] == "ok" and ca[1] and cb[1] then
          c.both_ok = c.both_ok + 1
          c.ma:add(ca[1])
          c.mb:add(cb[1])
          local d = cb[1] - ca[1]
          if math.abs(d) > eps then
            c.changed = c.changed + 1
            if d > 0 then c.up = c.up + 1 else c.down = c.down + 1 end
          end
        end
      end
    end
  end
end

local function note_only(list, count_key, res, row)
  res[count_key] = res[count_key] + 1
  if #list < D.LIMITS.ids_listed then list[#list + 1] = row.id end
end

-- compare(path_a, path_b, {eps = 1e-9, top = 20, seed = 1}) -> result | nil, err
local COMPARE_OPTS = { eps = "number?", top = "integer?", scatter = "integer?", seed = "integer?" }

function D.compare(path_a, path_b, opts)
  opts = opts or {}
  options.check("report.diff.compare", opts, COMPARE_OPTS, 2)
  local ra, err = reader(path_a)
  if not ra then return nil, err end
  local rb, err2 = reader(path_b)
  if not rb then return nil, err2 end
  local res = { path_a = path_a, path_b = path_b, eps = opts.eps or 1e-9, joined = 0, both_ok = 0,
    ma = S.moments(), mb = S.moments(), up = 0, down = 0, score_changed = 0, verdict_flipped = 0,
    status_changed = 0, changed_rows = 0, transitions = {}, ntransitions = 0, transitions_other = 0,
    comps = {}, ncomps = 0, only_a = 0, only_b = 0, only_a_ids = {}, only_b_ids = {},
    duplicates = 0, delta = S.hist(D.DELTA_BINS, -1, 1),
    scatter = S.reservoir(opts.scatter or 2000, opts.seed or 1), top = S.topn(opts.top or 20) }
  local pend_a, pend_b = {}, {}
  -- A row of one file meets its partner waiting in the other file's pending set, or waits in
  -- its own; `pair` puts the two in (a, b) order.
  local function meet(row, mine, theirs, pair)
    local other = theirs[row.id]
    if other then
      theirs[row.id] = nil
      pair(row, other)
    elseif mine[row.id] then
      res.duplicates = res.duplicates + 1
    else
      mine[row.id] = row
    end
  end
  local function pair_ab(a, b) add_pair(res, a, b) end
  local function pair_ba(b, a) add_pair(res, a, b) end
  while true do
    local a = ra.next()
    local b = rb.next()
    if a == nil and b == nil then break end
    if a then meet(a, pend_a, pend_b, pair_ab) end
    if b then meet(b, pend_b, pend_a, pair_ba) end
  end
  -- rows without a partner, in file order
  local rest_a, rest_b = {}, {}
  for _, r in pairs(pend_a) do rest_a[#rest_a + 1] = r end
  for _, r in pairs(pend_b) do rest_b[#rest_b + 1] = r end
  table.sort(rest_a, function(x, y) return x.seq < y.seq end)
  table.sort(rest_b, function(x, y) return x.seq < y.seq end)
  for _, r in ipairs(rest_a) do note_only(res.only_a_ids, "only_a", res, r) end
  for _, r in ipairs(rest_b) do note_only(res.only_b_ids, "only_b", res, r) end
  res.n_a, res.n_b, res.bad_a, res.bad_b = ra.n, rb.n, ra.bad, rb.bad
  res.skills_a, res.skills_b = ra.skill_order, rb.skill_order
  res.top_list = res.top:sorted()
  return res
end

function D.changed(res)
  return res.changed_rows > 0 or res.only_a > 0 or res.only_b > 0
end

-- Text from the rows made safe for a terminal: control characters (escape sequences included)
-- and bytes of invalid UTF-8 become '?', and long text is cut to n characters.
local function tidy(v, n)
  local s = tostring(v)
  if utf8.len(s) == nil then s = s:gsub("[\128-\255]", "?") end
  s = s:gsub("[%z\1-\31\127]", "?")
  n = n or 60
  if utf8.len(s) > n then s = s:sub(1, utf8.offset(s, n + 1) - 1) .. "..." end
  return s
end
D.tidy = tidy

local function f4(x)
  if x == nil then return "-" end
  return string.format("%.4f", x)
end

local function signed(x)
  if x == nil then return "-" end
  return string.format("%+.4f", x)
end

local function sorted_keys(t)
  local k = {}
  for n in pairs(t) do k[#k + 1] = n end
  table.sort(k)
  return k
end

local function row_state(r)
  local s = tidy(r.status, 20)
  if r.score then s = s .. " " .. f4(r.score) end
  if r.verdict then s = s .. " verdict " .. tidy(r.verdict, 20) end
  return s
end

-- Left-aligned columns padded to their widest cell.
local function columns(rows, right)
  local w = {}
  for _, r in ipairs(rows) do
    for i, c in ipairs(r) do w[i] = math.max(w[i] or 0, utf8.len(c) or #c) end
  end
  local out = {}
  for _, r in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(r) do
      local pad = string.rep(" ", w[i] - (utf8.len(c) or #c))
      cells[i] = (right and right[i]) and (pad .. c) or (i < #r and c .. pad or c)
    end
    out[#out + 1] = "    " .. table.concat(cells, "  ")
  end
  return table.concat(out, "\n")
end

function D.text(res)
  local out = {}
  local function add(fmt_, ...) out[#out + 1] = string.format(fmt_, ...) end
  add("srm diff: %s (%d rows) vs %s (%d rows)", tidy(res.path_a, 200), res.n_a, tidy(res.path_b, 200), res.n_b)
  add("  joined by id: %d; only in A: %d; only in B: %d%s", res.joined, res.only_a, res.only_b,
    res.duplicates > 0 and string.format("; duplicated ids skipped: %d", res.duplicates) or "")
  local function ids(list)
    local t = {}
    for i, id in ipairs(list) do t[i] = tidy(id, 40) end
    return table.concat(t, ", ")
  end
  if res.only_a > 0 then add("    only in A: %s%s", ids(res.only_a_ids), res.only_a > #res.only_a_ids and ", ..." or "") end
  if res.only_b > 0 then add("    only in B: %s%s", ids(res.only_b_ids), res.only_b > #res.only_b_ids and ", ..." or "") end
  if res.bad_a + res.bad_b > 0 then add("  lines that are not rows: A %d, B %d", res.bad_a, res.bad_b) end
  add("  skill A: %s", #res.skills_a > 0 and tidy(table.concat(res.skills_a, "; "), 200) or "-")
  add("  skill B: %s", #res.skills_b > 0 and tidy(table.concat(res.skills_b, "; "), 200) or "-")
  local ma, mb = res.ma:mean(), res.mb:mean()
  add("  mean score over %d rows ok in both: %s -> %s (%s)", res.both_ok, f4(ma), f4(mb),
    (ma and mb) and signed(mb - ma) or "-")
  add("  changed rows: %d of %d joined", res.changed_rows, res.joined)
  add("    score changed: %d (ok in both: up %d, down %d); verdict flipped: %d; status changed: %d",
    res.score_changed, res.up, res.down, res.verdict_flipped, res.status_changed)
  local tk = sorted_keys(res.transitions)
  table.sort(tk, function(x, y)
    if res.transitions[x] ~= res.transitions[y] then return res.transitions[x] > res.transitions[y] end
    return x < y
  end)
  for _, k in ipairs(tk) do add("      %s: %d", tidy(k, 60), res.transitions[k]) end
  if res.transitions_other > 0 then add("      other transitions: %d", res.transitions_other) end
  local names = sorted_keys(res.comps)
  if #names > 0 then
    add("  per component:")
    local rows = { { "component", "rows", "ok both", "mean A", "mean B", "delta", "changed", "up", "down", "status chg", "only A", "only B" } }
    for _, n in ipairs(names) do
      local c = res.comps[n]
      local a, b = c.ma:mean(), c.mb:mean()
      rows[#rows + 1] = { tidy(n, 40), tostring(c.n), tostring(c.both_ok), f4(a), f4(b), (a and b) and signed(b - a) or "-",
        tostring(c.changed), tostring(c.up), tostring(c.down), tostring(c.status_changed), tostring(c.only_a), tostring(c.only_b) }
    end
    out[#out + 1] = columns(rows, { false, true, true, true, true, true, true, true, true, true, true, true })
  end
  if #res.top_list > 0 then
    add("  largest changes (%d shown):", #res.top_list)
    local rows = { { "id", "A", "B", "delta" } }
    for _, t in ipairs(res.top_list) do
      rows[#rows + 1] = { tidy(t.id, 40), row_state(t.a), row_state(t.b), signed(t.delta) }
    end
    out[#out + 1] = columns(rows, { false, false, false, true })
  end
  add("  result: %s", D.changed(res) and "CHANGED" or "no change")
  return table.concat(out, "\n") .. "\n"
end

function D.html(res)
  local body = {}
  local ma, mb = res.ma:mean(), res.mb:mean()
  local summary = H.table({ "", "A", "B" }, {
    { "file", res.path_a, res.path_b },
    { "rows", res.n_a, res.n_b },
    { "only in this file", res.only_a, res.only_b },
    { "skill", table.concat(res.skills_a, "; "), table.concat(res.skills_b, "; ") },
    { "mean score (ok in both)", f4(ma), f4(mb) },
  })
  local changes = H.table({ "joined", "changed rows", "score changed", "up", "down", "verdict flipped", "status changed", "delta of the mean" },
    { { res.joined, res.changed_rows, res.score_changed, res.up, res.down, res.verdict_flipped, res.status_changed,
      (ma and mb) and signed(mb - ma) or "-" } }, { true, true, true, true, true, true, true, true })
  body[#body + 1] = H.section("summary", "Summary", summary .. changes ..
    string.format('<p class="note">Result: <b>%s</b></p>', D.changed(res) and "changed" or "no change"))
  local plots = '<div class="grid"><div class="card"><h4>score B − score A (rows ok in both)</h4>' ..
    V.histogram({ bins = res.delta.bins, below = res.delta.below, above = res.delta.above, lo = -1, hi = 1 },
      { width = 420, height = 170, title = "score change histogram", xlabel = "B − A" }) ..
    '</div><div class="card"><h4>score A vs score B (sample)</h4>' ..
    V.scatter(res.scatter.items, { width = 360, height = 300, xlabel = "score A", ylabel = "score B", title = "A vs B" }) ..
    "</div></div>"
  body[#body + 1] = H.section("plots", "Score changes", plots)
  local names = sorted_keys(res.comps)
  local crow = {}
  for _, n in ipairs(names) do
    local c = res.comps[n]
    local a, b = c.ma:mean(), c.mb:mean()
    crow[#crow + 1] = { n, c.n, c.both_ok, f4(a), f4(b), (a and b) and signed(b - a) or "-", c.changed, c.up, c.down,
      c.status_changed, c.only_a, c.only_b }
  end
  body[#body + 1] = H.section("components", "Per component", #crow > 0 and H.table({ "component", "rows",
    "ok both", "mean A", "mean B", "delta", "changed", "up", "down", "status changed", "only A", "only B" }, crow,
    { false, true, true, true, true, true, true, true, true, true, true, true }) or '<p class="note">No components.</p>')
  local trow = {}
  for _, t in ipairs(res.top_list) do
    trow[#trow + 1] = { t.id, row_state(t.a), row_state(t.b), signed(t.delta) }
  end
  body[#body + 1] = H.section("changes", "Largest changes", #trow > 0 and H.table({ "id", "A", "B", "delta" }, trow,
    { false, false, false, true }) or '<p class="note">No row changed.</p>')
  local nav = { { "summary", "Summary" }, { "plots", "Plots" }, { "components", "Components" }, { "changes", "Changes" } }
  return H.page("srm diff: " .. res.path_a .. " vs " .. res.path_b,
    string.format("%d joined rows, %d changed", res.joined, res.changed_rows), nav, table.concat(body),
    { "summary", "plots", "components", "changes" })
end

return D
