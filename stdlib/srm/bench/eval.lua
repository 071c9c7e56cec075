-- srm.bench.eval: the benchmark registry, task expansion (`srm run --bench`, `srm bench
-- expand`) and `srm eval`. Trusted host code: never reachable from skills.
--
--   E.benchmark(spec)                       -> module, options  (spec "NAME[:OPT[,OPT...]]")
--   E.expand_records(spec, items, {seed=})  -> tasks (array)
--   E.expand_file(spec, in_path, out_path, {seed=, positions=}) -> number of tasks
--   E.read_predictions(path)                -> array of rows
--   E.evaluate(spec, preds)                 -> metrics
--   E.markdown(spec, metrics)               -> string
--   E.main(argv)                            -> exit code (srm eval)
--   E.expand_main(argv)                     -> exit code (srm bench expand / list)
local json = require "srm.json"
local C = require "srm.bench.common"

local E = {}

E.NAMES = { "judgebench", "rewardbench2", "rmbench", "ifrewardbench", "jetts", "bestofn" }

-- benchmark(spec) -> module, options | nil, message. Options are the comma-separated words after
-- a colon (e.g. "rmbench:both"); each module lists the ones it accepts.
function E.benchmark(spec)
  if type(spec) ~= "string" then return nil, "benchmark name must be a string" end
  local name, rest = spec:match("^([%w_%-]+):?(.*)$")
  local known = false
  for _, n in ipairs(E.NAMES) do if n == name then known = true end end
  if not known then
    return nil, "unknown benchmark '" .. spec .. "' (known: " .. table.concat(E.NAMES, ", ") .. ")"
  end
  local mod = require("srm.bench." .. name)
  local opts = {}
  for word in rest:gmatch("[^,]+") do
    if not mod.options[word] then
      local allowed = C.sorted_keys(mod.options)
      return nil, string.format("benchmark %s has no option '%s'%s", name, word,
        #allowed > 0 and (" (options: " .. table.concat(allowed, ", ") .. ")") or "")
    end
    opts[word] = true
  end
  return mod, opts
end

-- expand_records(spec, items, ctx) -> tasks. items: from common.read_records. Raises
-- "WHERE: message" for a record the loader cannot expand, and on duplicated task ids.
function E.expand_records(spec, items, ctx)
  local mod, opts = E.benchmark(spec)
  if not mod then error(opts, 0) end
  ctx = ctx or {}
  local base = { seed = ctx.seed or 0, options = opts, positions = ctx.positions,
    total = #items, path = ctx.path }
  if mod.prepare then mod.prepare(items, base) end
  local tasks, seen = {}, {}
  for i, item in ipairs(items) do
    base.index = i
    local ok, list = pcall(mod.expand, item.record, base)
    if not ok then error(item.where .. ": " .. tostring(list), 0) end
    for _, t in ipairs(list) do
      if seen[t.id] then error(item.where .. ": duplicated task id '" .. tostring(t.id) .. "'", 0) end
      seen[t.id] = true
      t.bench.index = i
      tasks[#tasks + 1] = t
    end
  end
  return tasks
end

-- Task records are written with keys sorted (srm.json), one per line.
local function encode_tasks(tasks)
  local lines = {}
  for i, t in ipairs(tasks) do lines[i] = json.encode(t) end
  return table.concat(lines, "\n") .. (#lines > 0 and "\n" or "")
end
E.encode_tasks = encode_tasks

-- expand_file(spec, in_path, out_path, ctx) -> number of tasks; raises with a message.
-- ctx.positions: a JSON file of position maps (IF-RewardBench's inference/position_maps.json).
function E.expand_file(spec, in_path, out_path, ctx)
  ctx = ctx or {}
  local items = C.read_records(in_path)
  local positions
  if ctx.positions then
    local f, err = io.open(ctx.positions, "rb")
    if not f then error(err, 0) end
    local doc = json.decode(f:read("a"))
    f:close()
    if type(doc) ~= "table" then error(ctx.positions .. ": not a JSON object", 0) end
    positions = doc
  end
  local tasks = E.expand_records(spec, items,
    { seed = ctx.seed, positions = positions, path = in_path })
  C.write_file(out_path, encode_tasks(tasks))
  return #tasks
end

-- read_predictions(path) -> rows. Blank lines are skipped; a line that is not a JSON object
-- raises "PATH:LINE: ...". Only the fields the metrics read are kept.
function E.read_predictions(path)
  local f, err = io.open(path, "rb")
  if not f then error(err, 0) end
  local rows, n = {}, 0
  for line in f:lines() do
    n = n + 1
    if n == 1 then line = line:gsub("^\239\187\191", "") end
    line = line:gsub("\r$", "")
    if line:find("%S") then
      local row, msg = json.decode(line)
      if type(row) ~= "table" or json.is_array(row) then
        f:close()
        error(string.format("%s:%d: %s", path, n,
          row == nil and ("invalid JSON: " .. tostring(msg)) or "not a JSON object"), 0)
      end
      C.strip_nulls(row)
      row.components, row.usage, row.skill, row.reason = nil, nil, nil, nil
      row.line = n
      rows[#rows + 1] = row
    end
  end
  f:close()
  return rows
end

-- evaluate(spec, rows) -> metrics. Every row must carry the `bench` object of this benchmark
-- (or be a native result line the module accepts); raises naming the first one that does not.
function E.evaluate(spec, rows, ctx)
  local mod, opts = E.benchmark(spec)
  if not mod then error(opts, 0) end
  local name = spec:match("^[%w_%-]+")
  for _, r in ipairs(rows) do
    if not (mod.is_native and mod.is_native(r)) then
      if type(r.bench) ~= "table" then
        error(string.format("line %s: row has no 'bench' object (run srm with --bench %s)",
          tostring(r.line), name), 0)
      end
      if r.bench.bench ~= name then
        error(string.format("line %s: row belongs to benchmark '%s', not '%s'", tostring(r.line),
          tostring(r.bench.bench), name), 0)
      end
    end
  end
  return mod.evaluate(rows, { options = opts, ctx = ctx })
end

function E.markdown(spec, metrics)
  local mod, opts = E.benchmark(spec)
  if not mod then error(opts, 0) end
  return mod.markdown(metrics)
end

-- parse_args(argv, first, valued, cmd, usage) -> positional, values | nil, exit code. valued maps
-- an option that takes a value to the key it is stored under; -h/--help prints usage (exit 0);
-- any other word starting with "-" (but "-" itself) is a usage error (exit 2).
local function parse_args(argv, first, valued, cmd, usage)
  local pos, values = {}, {}
  local i = first
  while i <= #argv do
    local a = argv[i]
    if valued[a] then
      if argv[i + 1] == nil then
        io.stderr:write(cmd .. ": " .. a .. " needs a value\n", usage)
        return nil, 2
      end
      values[valued[a]] = argv[i + 1]
      i = i + 2
    elseif a == "-h" or a == "--help" then
      io.stdout:write(usage)
      return nil, 0
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      io.stderr:write(cmd .. ": unknown option '" .. a .. "'\n", usage)
      return nil, 2
    else
      pos[#pos + 1] = a
      i = i + 1
    end
  end
  return pos, values
end

local EVAL_USAGE = "usage: srm eval BENCH PREDICTIONS [-o metrics.json] [--md summary.md]\n"
  .. "  BENCH: " .. table.concat(E.NAMES, ", ") .. "\n"

-- srm eval BENCH PREDICTIONS [-o FILE] [--md FILE]. Metrics JSON goes to -o, else stdout; the
-- Markdown summary goes to --md, else stdout when -o is given. Exit 0, 1 (I/O, bad rows), 2 (usage).
function E.main(argv)
  local pos, opt = parse_args(argv, 1, { ["-o"] = "out", ["--output"] = "out", ["--md"] = "md" },
    "srm eval", EVAL_USAGE)
  if not pos then return opt end
  local out, md = opt.out, opt.md
  if #pos ~= 2 then io.stderr:write("srm eval: expected BENCH and PREDICTIONS\n", EVAL_USAGE) return 2 end
  local mod, why = E.benchmark(pos[1])
  if not mod then io.stderr:write("srm eval: " .. why .. "\n") return 2 end
  local ok, rows = pcall(E.read_predictions, pos[2])
  if not ok then io.stderr:write("srm eval: " .. tostring(rows) .. "\n") return 2 end
  local ok2, metrics = pcall(E.evaluate, pos[1], rows)
  if not ok2 then io.stderr:write("srm eval: " .. pos[2] .. ": " .. tostring(metrics) .. "\n") return 1 end
  local text = json.encode(metrics, { indent = 2 }) .. "\n"
  local summary = E.markdown(pos[1], metrics)
  local wok, werr = pcall(function()
    if out then C.write_file(out, text) else io.stdout:write(text) end
    if md then C.write_file(md, summary) elseif out then io.stdout:write(summary) end
  end)
  if not wok then io.stderr:write("srm eval: " .. tostring(werr) .. "\n") return 1 end
  return 0
end

local EXPAND_USAGE = "usage: srm bench expand BENCH[:OPTIONS] IN OUT [--seed N] [--positions FILE]\n"
  .. "       srm bench list\n"

-- srm bench expand NAME IN OUT [--seed N] [--positions FILE] | srm bench list
function E.expand_main(argv)
  if argv[1] == "list" then
    for _, n in ipairs(E.NAMES) do
      local mod = require("srm.bench." .. n)
      local o = C.sorted_keys(mod.options)
      io.stdout:write(n, #o > 0 and ("  options: " .. table.concat(o, ", ")) or "", "\n")
    end
    return 0
  end
  if argv[1] ~= "expand" then io.stderr:write(EXPAND_USAGE) return 2 end
  local pos, opt = parse_args(argv, 2, { ["--seed"] = "seed", ["--positions"] = "positions" },
    "srm bench", EXPAND_USAGE)
  if not pos then return opt end
  local seed, positions = 0, opt.positions
  if opt.seed then
    seed = math.tointeger(tonumber(opt.seed))
    if not seed then io.stderr:write("srm bench: --seed expects an integer\n") return 2 end
  end
  if #pos ~= 3 then io.stderr:write("srm bench: expected BENCH, IN and OUT\n", EXPAND_USAGE) return 2 end
  local mod, why = E.benchmark(pos[1])
  if not mod then io.stderr:write("srm bench: " .. why .. "\n") return 2 end
  local ok, n = pcall(E.expand_file, pos[1], pos[2], pos[3], { seed = seed, positions = positions })
  if not ok then io.stderr:write("srm bench: " .. tostring(n) .. "\n") return 1 end
  io.stderr:write(string.format("srm bench: %d tasks written to %s\n", n, pos[3]))
  return 0
end

return E
