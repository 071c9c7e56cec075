-- srm.report.html: the self-contained page of `srm report` (inline CSS and SVG, one small inline
-- script that only checks the page; no network, no external resources) and the shared page
-- frame `srm diff --html` uses. Trusted host code; every row-derived text goes through V.esc.
--
--   H.SECTIONS                     ids of the report's sections, in page order
--   H.report(res, opts)            -> HTML string; res from srm.report.rows (scan/result)
--   H.page(title, sections, nav)   -> HTML string around {id=, title=, body=} sections
local json = require "srm.json"
local V = require "srm.report.svg"

local H = {}

H.SECTIONS = { "run", "scores", "statuses", "hacking", "length", "tokens", "swap",
  "disagreement", "abstain", "latency", "generations", "surprising" }

local esc, fmt = V.esc, V.fmt
local R_TREND = require("srm.report.rows").TREND_BINS

local CSS = [[
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#24324a;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}
header .sub{opacity:.8;font-size:13px}
nav{padding:6px 24px;background:#e9edf3;font-size:13px;position:sticky;top:0}
nav a{margin-right:12px;color:#24324a}
main{padding:4px 24px 40px;max-width:1220px}
section{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:10px 16px;margin:14px 0}
section section{border:none;padding:4px 0;margin:6px 0}
h2{font-size:17px;margin:4px 0 8px}
h3{font-size:15px;margin:8px 0 4px}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border-bottom:1px solid #e5e8ee;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f8}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #e5e8ee;border-radius:4px;padding:4px 6px}
.card h4{margin:0;font-size:13px}
.note{color:#666;font-size:13px}
.warn{color:#a33}
.tk{font-size:10px;fill:#555}
.lb{font-size:11px;fill:#333}
.ax{stroke:#888}
.gr{stroke:#eee}
.pl{fill:none;stroke:#ccc}
pre{background:#f6f8fa;padding:6px;max-height:420px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
details summary{cursor:pointer}
td ul{margin:0;padding-left:16px}
code{font-size:12px}
]]

-- The one script: confirms every section rendered; "#selftest" also sets the title to "ok" (the
-- headless-browser test reads it back). It touches nothing else.
local SCRIPT = [[
(function () {
  var ids = %s;
  var missing = ids.filter(function (id) { return !document.getElementById(id); });
  var plots = document.querySelectorAll('svg');
  for (var i = 0; i < plots.length; i++) {
    var r = plots[i].getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0)) missing.push('plot ' + i);
  }
  var el = document.getElementById('selfcheck');
  if (missing.length) { el.textContent = 'page check failed: ' + missing.join(', '); return; }
  document.documentElement.setAttribute('data-check', 'ok');
  if (location.hash === '#selftest') document.title = 'ok';
})();
]]

local function pct(a, b)
  if not b or b == 0 then return "–" end
  return string.format("%.1f%%", 100 * a / b)
end

local function num3(x)
  if x == nil then return "–" end
  return string.format("%.3f", x)
end

local function tbl(header, rows, numeric)
  local out = { "<table><tr>" }
  for i, h in ipairs(header) do
    out[#out + 1] = (numeric and numeric[i]) and '<th class="n">' or "<th>"
    out[#out + 1] = esc(h) .. "</th>"
  end
  out[#out + 1] = "</tr>"
  for _, r in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for i, c in ipairs(r) do
      -- a cell is text (escaped) or {html = "..."} (already markup)
      local content = type(c) == "table" and c.html or esc(c)
      out[#out + 1] = ((numeric and numeric[i]) and '<td class="n">' or "<td>") .. content .. "</td>"
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</table>"
  return table.concat(out)
end
H.table = tbl

local function section(id, title, body, level)
  local h = level == 3 and "h3" or "h2"
  return string.format('<section id="%s"><%s>%s</%s>%s</section>', id, h, esc(title), h, body)
end
H.section = section

local function p(text, cls)
  return string.format('<p class="%s">%s</p>', cls or "note", esc(text))
end

-- page(title, subtitle, nav, body_html, ids) -> the whole document.
function H.page(title, subtitle, nav, body, ids)
  local links = {}
  for _, n in ipairs(nav) do links[#links + 1] = string.format('<a href="#%s">%s</a>', n[1], esc(n[2])) end
  local idlist = {}
  for i, id in ipairs(ids) do idlist[i] = '"' .. id .. '"' end
  return table.concat({
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    "<title>", esc(title), "</title><style>", CSS, "</style></head><body>",
    "<header><h1>", esc(title), '</h1><div class="sub">', esc(subtitle), "</div></header>",
    "<nav>", table.concat(links), "</nav><main>", '<p id="selfcheck" class="warn"></p>',
    body, "</main><script>", string.format(SCRIPT, "[" .. table.concat(idlist, ",") .. "]"),
    "</script></body></html>\n" })
end

---------------------------------------------------------------------------------------------
-- Report sections
---------------------------------------------------------------------------------------------

local function status_bars(list, total)
  local items = {}
  for _, e in ipairs(list) do
    items[#items + 1] = { label = e.key, count = e.count,
      color = e.key == "ok" and "#4a9b5b" or (e.key == "abstain" and "#a8a832" or "#b8474d") }
  end
  return V.hbars(items, { total = total, title = "rows by status" })
end

local function run_section(res, opts)
  local out = {}
  out[#out + 1] = tbl({ "file", "rows", "unreadable lines", "mean score (ok rows)", "score range" },
    { { res.path or "?", res.n, res.bad, num3(res.score_mean),
      res.score_min and (fmt(res.score_min) .. " … " .. fmt(res.score_max)) or "–" } },
    { false, true, true, true, false })
  if res.bad > 0 then
    local where = {}
    for _, b in ipairs(res.bad_lines) do where[#where + 1] = "line " .. tostring(b.line) .. " (" .. b.why .. ")" end
    out[#out + 1] = p("Lines that are not rows were skipped: " .. table.concat(where, ", "), "warn")
  end
  out[#out + 1] = "<h3>Skills</h3>"
  local rows = {}
  for _, s in ipairs(res.skills) do
    rows[#rows + 1] = { s.name, { html = '<code title="' .. esc(s.sha256) .. '">' .. esc(s.sha256:sub(1, 12)) .. "</code>" },
      s.generation and tostring(s.generation) or "–", s.count }
  end
  if res.skills_other > 0 then rows[#rows + 1] = { "(other stamps)", "", "", res.skills_other } end
  out[#out + 1] = #rows > 0 and tbl({ "skill", "sha256", "generation", "rows" }, rows, { false, false, true, true })
    or p("The rows carry no skill stamp.")
  out[#out + 1] = "<h3>Rows by status</h3>"
  out[#out + 1] = status_bars(res.status, res.n)
  out[#out + 1] = "<h3>Model calls</h3>"
  local u = res.usage
  out[#out + 1] = tbl({ "LLM calls", "cache hits", "hit rate", "prompt tokens", "completion tokens", "retries" },
    { { fmt(u.llm_calls), fmt(u.cache_hits), pct(u.cache_hits, u.llm_calls), fmt(u.prompt_tokens),
      fmt(u.completion_tokens), fmt(u.retries) } }, { true, true, true, true, true, true })
  local lat = res.latency
  out[#out + 1] = p(string.format("Wall time is not recorded in the rows; the records' latencies add up to %s s "
    .. "(mean %s ms, max %s ms). With records in flight concurrently, the run took less.",
    fmt((lat.sum or 0) / 1000), fmt(lat.mean), fmt(lat.max)))
  if opts.generated_by then out[#out + 1] = p(opts.generated_by) end
  return section("run", "Run", table.concat(out))
end

local function scores_section(res)
  local out = {}
  out[#out + 1] = p(string.format("Scores of the %d rows with status ok, in %d bins over [0, 1]%s.",
    res.score.n, #res.score.bins, (res.score.below + res.score.above > 0) and
    " (grey bars: outside the range)" or ""))
  out[#out + 1] = V.histogram(res.score, { width = 560, height = 180, title = "score histogram", xlabel = "score" })
  if #res.components > 0 then
    out[#out + 1] = "<h3>Per component</h3><div class=\"grid\">"
    for i, c in ipairs(res.components) do
      out[#out + 1] = string.format('<div class="card"><h4>%s</h4><div class="note">%d scored, mean %s</div>%s</div>',
        esc(c.name), c.scored, num3(c.mean), V.histogram(c.score, { width = 280, height = 120,
          color = V.PALETTE[(i - 1) % #V.PALETTE + 1], title = "scores of " .. c.name }))
    end
    out[#out + 1] = "</div>"
    if res.components_other > 0 then
      out[#out + 1] = p(string.format("%d component results beyond the first %d component names are not shown.",
        res.components_other, #res.components))
    end
  end
  if #res.verdicts > 0 then
    out[#out + 1] = "<h3>Verdicts</h3>"
    local items = {}
    for _, v in ipairs(res.verdicts) do items[#items + 1] = { label = v.key, count = v.count } end
    out[#out + 1] = V.hbars(items, { title = "verdicts" })
  end
  return section("scores", "Scores", table.concat(out))
end

local function statuses_section(res)
  local out = {}
  local rows = {}
  for _, e in ipairs(res.status) do
    local ex = {}
    local r = res.reasons[e.key]
    if r then
      for i = 1, math.min(3, #r.list) do
        ex[#ex + 1] = "<li>" .. esc(r.list[i].key) .. ' <span class="note">×' .. r.list[i].count .. "</span></li>"
      end
    end
    rows[#rows + 1] = { e.key, e.count, pct(e.count, res.n),
      { html = #ex > 0 and ("<ul>" .. table.concat(ex) .. "</ul>") or "" } }
  end
  out[#out + 1] = tbl({ "status", "rows", "share", "most frequent reasons" }, rows, { false, true, true, false })
  if #res.components > 0 then
    out[#out + 1] = "<h3>Component statuses</h3>"
    local crow = {}
    for _, c in ipairs(res.components) do
      local parts, ex = {}, {}
      for _, s in ipairs(c.status) do parts[#parts + 1] = s.key .. " " .. s.count end
      for st, list in pairs(c.reasons) do
        for _, r in ipairs(list) do ex[#ex + 1] = { st = st, reason = r.reason, count = r.count } end
      end
      table.sort(ex, function(a, b)
        if a.count ~= b.count then return a.count > b.count end
        if a.st ~= b.st then return a.st < b.st end
        return a.reason < b.reason
      end)
      local li = {}
      for i = 1, math.min(3, #ex) do
        li[#li + 1] = "<li><b>" .. esc(ex[i].st) .. "</b>: " .. esc(ex[i].reason) .. ' <span class="note">×' .. ex[i].count .. "</span></li>"
      end
      crow[#crow + 1] = { c.name, c.n, table.concat(parts, ", "), { html = #li > 0 and ("<ul>" .. table.concat(li) .. "</ul>") or "" } }
    end
    out[#out + 1] = tbl({ "component", "results", "statuses", "example reasons (not ok)" }, crow, { false, true, false, false })
  end
  return section("statuses", "Statuses", table.concat(out))
end

local function rho_text(rho, n, what)
  if rho == nil then return p(string.format("Rank correlation undefined (%d pairs, or one side constant).", n or 0)) end
  local strength = math.abs(rho) >= 0.3 and " — a noticeable dependence: check that the skill does not reward " .. what .. " itself." or ""
  return p(string.format("Spearman rank correlation ρ = %.3f over %d ok rows%s%s", rho, n,
    n >= 20000 and " (a uniform sample)" or "", strength))
end

local function length_section(res, opts)
  local d = res.data
  if not d then
    return section("length", "Score vs response length", p("Rows do not carry the response. Pass "
      .. "--data DATA.jsonl (the input file given to srm run; records are joined by id) to plot the "
      .. "score against the response length."), 3)
  end
  local out = {}
  local xl = d.mode == "pair" and "length(response_a) − length(response_b), characters"
    or ("length of '" .. d.field .. "', characters")
  out[#out + 1] = p(string.format("%d ok rows joined with their input record in %s%s.", res.joined, d.path,
    d.no_field > 0 and string.format("; %d records have no '%s' text", d.no_field, d.field) or ""))
  if d.mode == "pair" then
    out[#out + 1] = p("Pairwise records: a positive correlation means the longer response A tends to win.")
  end
  local groups, lines = {}, {}
  for _, g in ipairs(res.generations) do
    groups[#groups + 1] = g.key
    if #res.generations > 1 then
      lines[#lines + 1] = { points = g.length_trend, group = g.key, title = "mean score by length, generation " .. g.key }
    end
  end
  if #lines == 0 then lines[1] = { points = res.length.trend, group = groups[1], title = "mean score by length" } end
  out[#out + 1] = V.scatter(res.length.points, { xlabel = xl, ylabel = "score", groups = groups,
    group_label = "gen ", title = "score vs length", lines = lines })
  out[#out + 1] = p(string.format("Lines: mean score of %d equal-size groups of rows by length%s.", R_TREND,
    #res.generations > 1 and ", per generation" or ""))
  out[#out + 1] = rho_text(res.length.rho, res.length.rho_n, "length")
  if #res.length.points < res.joined then
    out[#out + 1] = p(string.format("The plot shows a uniform sample of %d of the %d points.", #res.length.points, res.joined))
  end
  return section("length", "Score vs response length", table.concat(out), 3)
end

local function tokens_section(res, opts)
  if not (res.data and res.data.tokenizer) then
    return section("tokens", "Score vs response tokens", p("No tokenizer configured: pass --data DATA.jsonl and "
      .. "--tokenizer NAME|PATH (a tokenizer srm.tok can load, e.g. cl100k_base or a tokenizer.json) to "
      .. "plot the score against the response's token count."), 3)
  end
  local out = {}
  out[#out + 1] = p(string.format("Tokenizer %s; %d ok rows counted.", res.data.tokenizer, res.tokens.n))
  out[#out + 1] = V.scatter(res.tokens.points, { xlabel = "tokens", ylabel = "score", title = "score vs tokens",
    lines = { { points = res.tokens.trend, title = "mean score by tokens" } } })
  out[#out + 1] = rho_text(res.tokens.rho, res.tokens.rho_n, "token count")
  return section("tokens", "Score vs response tokens", table.concat(out), 3)
end

local function swap_section(res)
  local rows = {}
  for _, c in ipairs(res.components) do
    if c.swap_n > 0 then rows[#rows + 1] = { c.name, c.swap_n, c.swap_bad, pct(c.swap_bad, c.swap_n) } end
  end
  local body
  if #rows == 0 then
    body = p("No component judged a pair in both orders (pairwise judges with swap = true record both verdicts in detail.orders).")
  else
    body = p("Pairs judged in both orders whose two verdicts differ (the order changed the judge's mind; srm scores them as a tie).")
      .. tbl({ "component", "pairs judged twice", "inconsistent", "rate" }, rows, { false, true, true, true })
  end
  return section("swap", "Pairwise swap inconsistency", body, 3)
end

local function matrix_section(res)
  local m = res.matrix
  if #m.names < 2 then
    return section("disagreement", "Disagreement between components", p("Needs at least two components scored on the same rows."), 3)
  end
  local out = { p("Share of rows where both components scored ok and landed on different sides of 0.5 "
    .. "(hover a cell for the mean absolute score difference and the row count). Verifier vs judge "
    .. "disagreement shows up here.") }
  out[#out + 1] = "<table><tr><th></th>"
  for _, n in ipairs(m.names) do out[#out + 1] = "<th>" .. esc(n) .. "</th>" end
  out[#out + 1] = "</tr>"
  for i, a in ipairs(m.names) do
    out[#out + 1] = "<tr><th>" .. esc(a) .. "</th>"
    for j = 1, #m.names do
      local c = m.cells[i][j]
      if i == j then
        out[#out + 1] = '<td class="n">–</td>'
      elseif not c then
        out[#out + 1] = '<td class="n note">no rows</td>'
      else
        local alpha = math.min(1, c.rate * 2)
        out[#out + 1] = string.format('<td class="n" style="background:rgba(184,71,77,%.2f)" title="mean |Δ| %.3f over %d rows">%.1f%%</td>',
          alpha * 0.8, c.mad, c.n, 100 * c.rate)
      end
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</table>"
  if res.matrix_cut then out[#out + 1] = p("Only the first components seen are in the matrix.") end
  return section("disagreement", "Disagreement between components", table.concat(out), 3)
end

local function abstain_section(res)
  if #res.components == 0 then
    return section("abstain", "Abstain rate per component", p("The rows have no components."), 3)
  end
  local rows = {}
  for _, c in ipairs(res.components) do
    rows[#rows + 1] = { c.name, c.n, c.abstain, pct(c.abstain, c.n), c.failed, pct(c.failed, c.n) }
  end
  return section("abstain", "Abstain rate per component",
    tbl({ "component", "results", "abstained", "abstain rate", "failed", "failure rate" }, rows,
      { false, true, true, true, true, true }), 3)
end

local function edge_items(edges, bins, unit, int)
  local items = {}
  for i, c in ipairs(bins) do
    local label
    if i == 1 then
      label = (int and edges[1] == 1) and "0" or ("< " .. fmt(edges[1]) .. unit)
    elseif i == #bins then
      label = "≥ " .. fmt(edges[#edges]) .. unit
    elseif int and edges[i] - edges[i - 1] == 1 then
      label = fmt(edges[i - 1]) .. unit
    else
      label = fmt(edges[i - 1]) .. "–" .. (int and fmt(edges[i] - 1) or fmt(edges[i])) .. unit
    end
    items[i] = { label = label, count = c }
  end
  return items
end

local function latency_section(res)
  local lat = res.latency
  local out = {}
  out[#out + 1] = p(string.format("Per-record latency: p50 %s ms, p90 %s ms, p99 %s ms%s; mean %s ms, max %s ms.",
    fmt(lat.p50), fmt(lat.p90), fmt(lat.p99), lat.sampled and " (from a uniform sample)" or "", fmt(lat.mean), fmt(lat.max)))
  out[#out + 1] = '<div class="grid"><div class="card"><h4>latency</h4>'
  out[#out + 1] = V.hbars(edge_items(lat.edges, lat.bins, " ms"), { title = "latency", total = lat.n })
  out[#out + 1] = '</div><div class="card"><h4>LLM calls per row</h4>'
  out[#out + 1] = V.hbars(edge_items(res.calls.edges, res.calls.bins, "", true), { title = "LLM calls per row", total = res.calls.n })
  out[#out + 1] = "</div></div>"
  return section("latency", "Latency and model calls", table.concat(out))
end

local function generations_section(res)
  local gens = res.generations
  local out = {}
  if #gens <= 1 then
    out[#out + 1] = p("All rows come from one skill generation; the split by generation appears when a run "
      .. "spans several (hot reload).")
  else
    out[#out + 1] = p(string.format("The rows come from %d skill generations (hot reload).", #gens))
  end
  local rows = {}
  for _, g in ipairs(gens) do
    local parts = {}
    for _, s in ipairs(g.status) do parts[#parts + 1] = s.key .. " " .. s.count end
    rows[#rows + 1] = { g.key, g.n, table.concat(parts, ", "), num3(g.mean),
      g.length_rho and string.format("%.3f", g.length_rho) or "–" }
  end
  out[#out + 1] = tbl({ "generation", "rows", "statuses", "mean score", "ρ(length, score)" }, rows,
    { false, true, false, true, true })
  if res.generations_other > 0 then
    out[#out + 1] = p(string.format("%d rows from further generations are not split out.", res.generations_other))
  end
  if #gens > 1 then
    out[#out + 1] = '<div class="grid">'
    for i, g in ipairs(gens) do
      out[#out + 1] = string.format('<div class="card"><h4>generation %s</h4>%s</div>', esc(g.key),
        V.histogram(g.score, { width = 280, height = 120, color = V.PALETTE[(i - 1) % #V.PALETTE + 1],
          title = "scores of generation " .. g.key }))
    end
    out[#out + 1] = "</div>"
    if #res.components > 0 then
      local header = { "component" }
      local numeric = { false }
      for _, g in ipairs(gens) do header[#header + 1] = "gen " .. g.key; numeric[#numeric + 1] = true end
      local crow = {}
      for _, c in ipairs(res.components) do
        local r = { c.name }
        for _, g in ipairs(gens) do
          local cell = "–"
          for _, gc in ipairs(g.components) do
            if gc.name == c.name then
              cell = num3(gc.mean) .. " (abstain " .. pct(gc.abstain, gc.n) .. ")"
            end
          end
          r[#r + 1] = cell
        end
        crow[#crow + 1] = r
      end
      out[#out + 1] = "<h3>Component mean score (abstain rate) by generation</h3>"
      out[#out + 1] = tbl(header, crow, numeric)
    end
  end
  return section("generations", "By skill generation", table.concat(out))
end

local function pretty_row(s)
  local row = json.decode(s.line or "")
  if type(row) == "table" and not s.cut then
    local ok, text = pcall(json.encode, row, { indent = 2, order = { "id", "score", "status", "reason" } })
    if ok then return text end
  end
  return (s.line or "") .. (s.cut and "\n… (cut)" or "")
end

local function surprising_section(res)
  local list = res.surprising
  if #list == 0 then
    return section("surprising", "Most surprising rows", p("No row has two components scored ok with different scores."))
  end
  local out = { p(string.format("The %d rows whose components disagree most (highest minus lowest component score "
    .. "among the components scored ok). Click a row to see it whole.", #list)) }
  out[#out + 1] = '<table><tr><th class="n">#</th><th>row</th><th class="n">spread</th><th class="n">score</th><th>status</th></tr>'
  for i, s in ipairs(list) do
    out[#out + 1] = string.format('<tr><td class="n">%d</td><td><details><summary>%s</summary><pre>%s</pre></details></td>'
      .. '<td class="n">%.3f</td><td class="n">%s</td><td>%s</td></tr>', i, esc(s.id), esc(pretty_row(s)),
      s.spread, num3(s.score), esc(s.status))
  end
  out[#out + 1] = "</table>"
  return section("surprising", "Most surprising rows", table.concat(out))
end

-- report(res, {title}) -> the HTML document.
function H.report(res, opts)
  opts = opts or {}
  local body = {
    run_section(res, opts),
    scores_section(res),
    statuses_section(res),
    section("hacking", "Reward-hacking diagnostics", table.concat({
      length_section(res, opts), tokens_section(res, opts), swap_section(res), matrix_section(res),
      abstain_section(res) })),
    latency_section(res),
    generations_section(res),
    surprising_section(res),
  }
  local nav = { { "run", "Run" }, { "scores", "Scores" }, { "statuses", "Statuses" },
    { "hacking", "Reward hacking" }, { "latency", "Latency" }, { "generations", "Generations" },
    { "surprising", "Surprising rows" } }
  local names = {}
  for _, s in ipairs(res.skills) do
    local seen = false
    for _, n in ipairs(names) do if n == s.name then seen = true end end
    if not seen then names[#names + 1] = s.name end
  end
  local title = opts.title or ("srm report: " .. (res.path or "rows"))
  local sub = string.format("%d rows%s", res.n, #names > 0 and (" · skill " .. table.concat(names, ", ")) or "")
  return H.page(title, sub, nav, table.concat(body), H.SECTIONS)
end

return H
