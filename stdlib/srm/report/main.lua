-- srm.report.main: the command lines of `srm report` and `srm diff` (runtime/srm_cmd_report.c
-- calls these with the arguments after the command name). Trusted host code. Exit codes: 0 done,
-- 1 I/O error, 2 usage error, 5 (diff --fail-on-change) the runs differ.
--
--   M.report_main(argv) -> exit code
--   M.diff_main(argv)   -> exit code
local rows = require "srm.report.rows"
local html = require "srm.report.html"
local diff = require "srm.report.diff"

local M = {}

M.EXIT_CHANGED = 5

local REPORT_USAGE = [[
usage: srm report OUT.jsonl [-o REPORT.html] [options]
  -o, --output FILE     where the page goes (default: OUT with .html instead of .jsonl)
  --data DATA.jsonl     the run's input records, joined by id: score vs response length
  --field NAME          the record field holding the response (default: response; pairwise
                        records with response_a/response_b plot the length difference)
  --tokenizer NAME      with --data: also score vs token count (a name or file srm.tok loads)
  --top N               rows in the most-surprising table (default 20)
  --title TEXT          page title
]]

local DIFF_USAGE = [[
usage: srm diff A.jsonl B.jsonl [--html FILE] [--fail-on-change] [--eps X] [--top N]
  --html FILE           also write the comparison as a self-contained page
  --fail-on-change      exit 5 when a row's score, verdict or status changed or an id is in
                        only one file (for CI on skills)
  --eps X               score changes up to X count as unchanged (default 1e-9)
  --top N               largest changes listed (default 20)
]]

-- Parses argv against a spec {name = {takes = "file"|"int"|"number"|"text"|nil, key = field}}.
-- Returns opts, positionals | nil, message, help_requested.
local function parse(argv, spec)
  local opts, pos = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" or a == "--help" then return nil, nil, true end
    local s = spec[a]
    if s then
      if s.takes then
        local v = argv[i + 1]
        if v == nil then return nil, a .. " needs a value" end
        if s.takes == "int" then
          v = math.tointeger(tonumber(v))
          if not v or v < 0 then return nil, a .. " expects a non-negative integer" end
        elseif s.takes == "number" then
          v = tonumber(v)
          if not v or v ~= v or v < 0 then return nil, a .. " expects a non-negative number" end
        end
        opts[s.key] = v
        i = i + 2
      else
        opts[s.key] = true
        i = i + 1
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      return nil, "unknown option '" .. a .. "'"
    else
      pos[#pos + 1] = a
      i = i + 1
    end
  end
  return opts, pos
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  local cok, cerr = f:close()
  if not ok then return nil, werr end
  if not cok then return nil, cerr end
  return true
end

local REPORT_SPEC = {
  ["-o"] = { takes = "file", key = "output" }, ["--output"] = { takes = "file", key = "output" },
  ["--data"] = { takes = "file", key = "data" }, ["--field"] = { takes = "text", key = "field" },
  ["--tokenizer"] = { takes = "text", key = "tokenizer" }, ["--top"] = { takes = "int", key = "top" },
  ["--title"] = { takes = "text", key = "title" }, ["--seed"] = { takes = "int", key = "seed" },
}

function M.report_main(argv)
  local opts, pos, help = parse(argv, REPORT_SPEC)
  if help then io.stdout:write(REPORT_USAGE) return 0 end
  if not opts then io.stderr:write("srm report: ", pos, "\n", REPORT_USAGE) return 2 end
  if #pos ~= 1 then io.stderr:write("srm report: expected one rows file\n", REPORT_USAGE) return 2 end
  if opts.tokenizer and not opts.data then
    io.stderr:write("srm report: --tokenizer needs --data (the records hold the responses)\n") return 2
  end
  local path = pos[1]
  local out = opts.output or (path:gsub("%.jsonl$", "") .. ".html")
  if out == path then io.stderr:write("srm report: the output would overwrite the rows file\n") return 2 end
  local tok
  if opts.tokenizer then
    local t, why = require("srm.tok").load(opts.tokenizer)
    if not t then io.stderr:write("srm report: cannot load tokenizer ", opts.tokenizer, ": ", tostring(why), "\n") return 2 end
    tok = t
  end
  local started = os.clock()
  local res, err = rows.scan(path, { data = opts.data, field = opts.field, tokenizer = tok,
    tokenizer_name = opts.tokenizer, top = opts.top, seed = opts.seed })
  if not res then io.stderr:write("srm report: ", tostring(err), "\n") return 1 end
  local page = html.report(res, { title = opts.title })
  local ok, werr = write_file(out, page)
  if not ok then io.stderr:write("srm report: cannot write ", out, ": ", tostring(werr), "\n") return 1 end
  io.stderr:write(string.format("srm report: %d rows -> %s (%.0f KiB, %.1f s)\n", res.n, out, #page / 1024,
    os.clock() - started))
  return 0
end

local DIFF_SPEC = {
  ["--html"] = { takes = "file", key = "html" }, ["--fail-on-change"] = { key = "fail" },
  ["--eps"] = { takes = "number", key = "eps" }, ["--top"] = { takes = "int", key = "top" },
}

function M.diff_main(argv)
  local opts, pos, help = parse(argv, DIFF_SPEC)
  if help then io.stdout:write(DIFF_USAGE) return 0 end
  if not opts then io.stderr:write("srm diff: ", pos, "\n", DIFF_USAGE) return 2 end
  if #pos ~= 2 then io.stderr:write("srm diff: expected two rows files\n", DIFF_USAGE) return 2 end
  local res, err = diff.compare(pos[1], pos[2], { eps = opts.eps, top = opts.top })
  if not res then io.stderr:write("srm diff: ", tostring(err), "\n") return 1 end
  io.stdout:write(diff.text(res))
  if opts.html then
    local ok, werr = write_file(opts.html, diff.html(res))
    if not ok then io.stderr:write("srm diff: cannot write ", opts.html, ": ", tostring(werr), "\n") return 1 end
  end
  if opts.fail and diff.changed(res) then return M.EXIT_CHANGED end
  return 0
end

return M
