-- srm.bench.ifrewardbench: IF-RewardBench (thu-coai/IF-RewardBench) loader and official metrics,
-- following metrics/analysis_overall_assessment.py and analysis_constraint_assessment.py.
--
-- Records: {id, instruction_type ("Single_Turn" | "Multi_Turn" | "System_Prompt"), messages,
-- checklist, responses = [{response_id, response, labels}], preference_graph = [{chosen =
-- {response_id}, rejected = {response_id}}]}. Response ids are 0-based positions.
--
-- Loader modes:
--   ifrewardbench            every unordered pair {u < v} of responses, judged once: task
--                            "<id>:<u>_<v>" shows response u as A when the position map says 0,
--                            response v as A when it says 1. The map comes from
--                            --positions FILE (the official inference/position_maps.json, keyed
--                            by id then "u_v"), else from the record's `position_map`, else a
--                            seeded coin per pair.
--   ifrewardbench:checklist  one task per response "<id>:r<k>" with the record's `checklist`;
--                            the judge returns per-item verdicts (row.detail.items[k].pass, the
--                            srm.judge.checklist format, or row.verdict as an array of booleans).
-- Task fields: prompt (the last user message), messages (the whole conversation), and
-- response_A/response_B or response + checklist.
--
-- Pairwise metric: per prompt the judged comparisons (A wins: (loser v, winner u); a tie or no
-- valid verdict is skipped) feed the official Elo (100 epochs, K 32 decaying, one Python
-- random.Random(42) stream for the whole file in prompt order, reproduced bit for bit); each gold
-- edge is concordant when Elo(chosen) > Elo(rejected), discordant when <, tied when equal;
-- accuracy = C / edges, tau-b = (C - D) / max(1, sqrt((C + D)(C + D + T))). Checklist metric:
-- per-item verdicts (missing or failed ones count as pass, as the official parser pads with 1),
-- positive and negative F1 over all items of the prompt; response score = mean of its verdicts;
-- accuracy and tau-b over the distinct gold edges. Both: mean per instruction type, Overall = mean
-- of the type means present.
local C = require "srm.bench.common"
local S = require "srm.bench.stats"

local M = { name = "ifrewardbench", options = { checklist = true } }

M.TYPES = { "Single_Turn", "Multi_Turn", "System_Prompt" }

local function last_user(messages)
  for i = #messages, 1, -1 do
    local m = messages[i]
    if type(m) == "table" and m.role == "user" and type(m.content) == "string" then return m.content end
  end
  return nil
end

-- Gold edges as {chosen_index, rejected_index} (0-based), mapped through response_id.
local function gold_edges(r, index_of, id)
  local edges = {}
  for _, e in ipairs(r.preference_graph or {}) do
    local c = type(e.chosen) == "table" and index_of[e.chosen.response_id]
    local j = type(e.rejected) == "table" and index_of[e.rejected.response_id]
    if not c or not j then error("prompt " .. id .. ": preference_graph names an unknown response_id", 0) end
    edges[#edges + 1] = { c, j }
  end
  return edges
end

function M.expand(r, ctx)
  local id = C.str(r.id)
  if not id then error("record has no 'id'", 0) end
  if type(r.messages) ~= "table" then error("prompt " .. id .. ": 'messages' must be an array", 0) end
  local prompt = last_user(r.messages)
  if not prompt then error("prompt " .. id .. ": no user message", 0) end
  if type(r.responses) ~= "table" or #r.responses < 2 then
    error("prompt " .. id .. ": needs at least two responses", 0)
  end
  local index_of, n = {}, #r.responses
  for k, resp in ipairs(r.responses) do
    if type(resp) ~= "table" or type(resp.response) ~= "string" then
      error("prompt " .. id .. ": response " .. k .. " has no string 'response'", 0)
    end
    index_of[resp.response_id ~= nil and resp.response_id or (k - 1)] = k - 1
  end
  local edges = gold_edges(r, index_of, id)
  local itype = C.str(r.instruction_type) or "unknown"
  local function base(extra)
    local b = { bench = "ifrewardbench", sample = id, instruction_type = itype, responses = n,
      graph = edges }
    for k, v in pairs(extra) do b[k] = v end
    return b
  end
  local tasks = {}
  if ctx.options.checklist then
    if type(r.checklist) ~= "table" or #r.checklist == 0 then
      error("prompt " .. id .. ": checklist mode needs a non-empty 'checklist'", 0)
    end
    for k, resp in ipairs(r.responses) do
      local labels = {}
      for i = 1, #r.checklist do
        local l = type(resp.labels) == "table" and resp.labels[i]
        if l ~= 0 and l ~= 1 then error("prompt " .. id .. ": response " .. k .. " lacks 0/1 label " .. i, 0) end
        labels[i] = l
      end
      tasks[#tasks + 1] = { id = id .. ":r" .. (k - 1), prompt = prompt, messages = r.messages,
        checklist = r.checklist, response = resp.response,
        bench = base({ mode = "checklist", response_index = k - 1, labels = labels }) }
    end
    return tasks
  end
  local map = ctx.positions and ctx.positions[id] or r.position_map
  local rng = C.rng(ctx.seed, "ifrewardbench:" .. id)
  for u = 0, n - 2 do
    for v = u + 1, n - 1 do
      local key = u .. "_" .. v
      local pos
      if type(map) == "table" then
        pos = map[key]
        if pos ~= 0 and pos ~= 1 then error("prompt " .. id .. ": position map lacks '" .. key .. "'", 0) end
      else
        pos = rng:below(2)
      end
      local first, second = u, v
      if pos == 1 then first, second = v, u end
      tasks[#tasks + 1] = { id = id .. ":" .. key, prompt = prompt, messages = r.messages,
        response_A = r.responses[first + 1].response, response_B = r.responses[second + 1].response,
        bench = base({ mode = "pairwise", pair = key, first = first, second = second, position = pos }) }
    end
  end
  return tasks
end

-- Per-item verdicts of a checklist row: 1/0 per item, padded with 1 (the official parser).
local function item_verdicts(p, count)
  local out = {}
  local list
  if C.has_status(p) then
    if type(p.detail) == "table" and type(p.detail.items) == "table" then
      list = {}
      for i, it in ipairs(p.detail.items) do
        if type(it) ~= "table" or type(it.pass) ~= "boolean" then break end
        list[i] = it.pass
      end
    elseif type(p.verdict) == "table" then
      list = {}
      for i, it in ipairs(p.verdict) do
        if type(it) ~= "boolean" then break end
        list[i] = it
      end
    end
  end
  for i = 1, count do
    local v = list and list[i]
    out[i] = v == false and 0 or 1
  end
  return out, list ~= nil
end

local function rank_stats(edges, score)
  local c, d, t = 0, 0, 0
  for _, e in ipairs(edges) do
    local a, b = score(e[1]), score(e[2])
    if a > b then c = c + 1 elseif a < b then d = d + 1 else t = t + 1 end
  end
  local all = c + d + t
  return c / math.max(all, 1), S.kendall_cdt(c, d, t)
end

function M.evaluate(preds)
  local prompts, order, rows, no_verdict = C.group_by_sample(preds,
    function(b) return { b = b, pairs = {}, first = {}, checks = {}, labels = {} } end,
    function(pr, p, b)
      if b.mode == "checklist" then
        local v, valid = item_verdicts(p, #b.labels)
        pr.checks[b.response_index], pr.labels[b.response_index] = v, b.labels
        return valid and true or false
      end
      local v = C.pair_verdict(p)
      pr.pairs[b.pair], pr.first[b.pair] = v, b.first
      return v ~= nil
    end)
  table.sort(order, function(x, y) return prompts[x].b.index < prompts[y].b.index end)
  local rng = S.py_random(42)
  local by_type = {}
  local checklist = false
  for _, id in ipairs(order) do
    local pr = prompts[id]
    local b, n = pr.b, pr.b.responses
    local edges = b.graph
    local res = {}
    if b.mode == "checklist" then
      checklist = true
      -- distinct gold edges (the official script puts them in a set)
      local seen, distinct = {}, {}
      for _, e in ipairs(edges) do
        local k = e[1] .. ">" .. e[2]
        if not seen[k] then seen[k] = true; distinct[#distinct + 1] = e end
      end
      local hyp, ref, scores = {}, {}, {}
      for k = 0, n - 1 do
        -- a response without a row counts as passing every item (as an unparsable critique
        -- does officially); its gold labels travel only in its own row, so F1 skips it
        local v = pr.checks[k]
        scores[k] = v and C.mean(v) or 1
        for i = 1, v and #v or 0 do hyp[#hyp + 1] = v[i]; ref[#ref + 1] = pr.labels[k][i] end
      end
      res.pos_f1, res.neg_f1 = S.f1_pos_neg(hyp, ref)
      res.accuracy, res.tau = rank_stats(distinct, function(k) return scores[k] end)
    else
      -- the official loop visits (u, v) for all u ~= v and uses the pair when u was shown as A
      local comps = {}
      for u = 0, n - 1 do
        for v = 0, n - 1 do
          local key = math.min(u, v) .. "_" .. math.max(u, v)
          if u ~= v and pr.first[key] == u then
            local verdict = pr.pairs[key]
            if verdict == "A" then comps[#comps + 1] = { v, u }
            elseif verdict == "B" then comps[#comps + 1] = { u, v } end
          end
        end
      end
      local ratings = S.elo(n, comps, rng)
      res.accuracy, res.tau = rank_stats(edges, function(k) return ratings[k + 1] end)
    end
    local t = by_type[b.instruction_type] or { prompts = 0, acc = {}, tau = {}, pf1 = {}, nf1 = {} }
    by_type[b.instruction_type] = t
    t.prompts = t.prompts + 1
    t.acc[#t.acc + 1], t.tau[#t.tau + 1] = res.accuracy, res.tau
    if res.pos_f1 then t.pf1[#t.pf1 + 1], t.nf1[#t.nf1 + 1] = res.pos_f1, res.neg_f1 end
  end
  local types = {}
  local o_acc, o_tau, o_pf1, o_nf1 = {}, {}, {}, {}
  for name, t in pairs(by_type) do
    local e = { prompts = t.prompts, accuracy = C.mean(t.acc), kendall_tau_b = C.mean(t.tau) }
    if checklist then e.positive_f1, e.negative_f1 = C.mean(t.pf1) or 0, C.mean(t.nf1) or 0 end
    types[name] = e
  end
  for _, name in ipairs(M.TYPES) do
    local e = types[name]
    if e then
      o_acc[#o_acc + 1], o_tau[#o_tau + 1] = e.accuracy, e.kendall_tau_b
      if checklist then o_pf1[#o_pf1 + 1], o_nf1[#o_nf1 + 1] = e.positive_f1, e.negative_f1 end
    end
  end
  local overall = { accuracy = C.mean(o_acc) or 0, kendall_tau_b = C.mean(o_tau) or 0 }
  if checklist then overall.positive_f1, overall.negative_f1 = C.mean(o_pf1) or 0, C.mean(o_nf1) or 0 end
  return { benchmark = "ifrewardbench", mode = checklist and "checklist" or "pairwise", rows = rows,
    no_verdict = no_verdict, prompts = #order, instruction_types = types, overall = overall }
end

function M.markdown(m)
  local check = m.mode == "checklist"
  local header = { "instruction type", "prompts", "accuracy", "Kendall tau-b" }
  if check then header[5], header[6] = "positive F1", "negative F1" end
  local rows = {}
  local function row(name, prompts, e)
    local r = { name, prompts, C.fmt(e.accuracy, 100), string.format("%.4f", e.kendall_tau_b) }
    if check then r[5], r[6] = C.fmt(e.positive_f1, 100), C.fmt(e.negative_f1, 100) end
    rows[#rows + 1] = r
  end
  for _, name in ipairs(C.sorted_keys(m.instruction_types)) do
    local e = m.instruction_types[name]
    row(name, tostring(e.prompts), e)
  end
  row("**overall** (mean of the types)", tostring(m.prompts), m.overall)
  return "# IF-RewardBench (" .. m.mode .. ")\n\n" .. C.md_table(header, rows)
    .. string.format("\n%d rows, %d without a valid verdict. Accuracy and F1 in percent.\n",
      m.rows, m.no_verdict)
end

return M
