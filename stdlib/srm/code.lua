-- srm.code: running untrusted programs in the process sandbox, and the `code.tests` evidence.
--
-- This is the public module skills see as `srm.code`. It wraps the C module `srm.proc`
-- (runtime/lsrm_proc.c, runtime/srm_proc.c), which skills cannot require directly: the wrapper
-- validates option names and leaves out the host-only options (`tmp_root`).
--
--   code.run{cmd = {...}, files =, stdin =, timeout =, ...} -> result       (yields the record)
--   code.run_many{spec, ...} -> {result, ...}                             (all at once)
--   code.extract(text [, language]) -> source, how                        (markdown fences)
--   code.tests{field =, tests =, mode = "asserts" | "stdio", ...} -> evidence
local proc = require "srm.proc"
local options = require "srm.options"
local json = require "srm.json"
local extract = require "srm.extract"

local code = {}

local clip = extract.clip

local RUN_SCHEMA = {
  cmd = "table", files = "table?", stdin = "string?", timeout = "number?", cpu_s = "integer?",
  memory_mb = "integer?", nproc = "integer?", file_mb = "integer?", nofile = "integer?",
  disk_mb = "integer?", max_output = "integer?",
}
-- read_paths (extra readable host directories) and namespaces = false weaken the isolation of
-- untrusted code, so skills cannot set them; only the host's own callers of srm.proc can.

--[[
code.run{cmd = {"python3", "main.py"}, files = {["main.py"] = src}, stdin = "...", timeout = 10,
         cpu_s = ceil(timeout), memory_mb = 1024, nproc = 64, file_mb = 64, nofile = 256,
         disk_mb = 64, max_output = 1 << 20} -> result
result = {status = "ok" | "sandbox_error", reason = nil | "timeout" | "memory" | "killed" |
          "crashed" | "output_limit" | "spawn_failed", message =, exit_code =, signal =,
          stdout =, stderr =, timed_out =, output_truncated =, wall_ms =, cpu_ms =,
          max_rss_kb =, isolation = {"userns", "netns", "pidns", "tmpfs", "landlock", ...}}
A program that runs and exits (with any code) is status "ok". Raises on bad options; yields the
calling record while the program runs. Output over max_output (per stream) kills the program.
]]
function code.run(opts)
  options.check("code.run", opts, RUN_SCHEMA)
  return proc.run(opts)
end

--[[
code.run_many{spec, spec, ...} -> {result, result, ...}
Runs up to 256 specs (each as for code.run) concurrently and returns when all have ended.
]]
function code.run_many(specs)
  options.check_type("code.run_many", "argument", specs, "table")
  for i, spec in ipairs(specs) do options.check("code.run_many: spec #" .. i, spec, RUN_SCHEMA) end
  return proc.run_many(specs)
end

-- ---- code extraction ----

local LANGUAGE_TAGS = {
  python = { python = true, py = true, python3 = true, py3 = true },
}

--[[
code.extract(text [, language = "python"]) -> source, how
The last fenced block (``` or ~~~) tagged with the language (python: python, py, python3, py3;
case-insensitive); else the last untagged block; else the last block of any language; else the
whole text. An unterminated fence runs to the end. how is "fence:<tag>", "fence" or "whole".
Linear in the text.
]]
function code.extract(text, language)
  options.check_type("code.extract", "text", text, "string")
  local tags = LANGUAGE_TAGS[language or "python"]
  if not tags then error("code.extract: unsupported language '" .. tostring(language) .. "'", 2) end
  local blocks = {}
  local open -- {fence char, fence length, tag, lines}
  local lines = text:sub(-1) == "\n" and text or text .. "\n"
  for line in lines:gmatch("([^\n]*)\n") do
    line = line:gsub("\r$", "")
    if open then
      local indent, fence, rest = line:match("^( *)([`~]+)(.*)$")
      if fence and #indent <= 3 and fence:sub(1, 1) == open.char and #fence >= open.len
        and not fence:find(open.char == "`" and "~" or "`", 1, true) and rest:match("^%s*$") then
        blocks[#blocks + 1] = { tag = open.tag, body = table.concat(open.lines, "\n") }
        open = nil
      else
        open.lines[#open.lines + 1] = line
      end
    else
      local indent, fence, info = line:match("^( *)(```+)(.*)$")
      if not fence then indent, fence, info = line:match("^( *)(~~~+)(.*)$") end
      if fence and #indent <= 3 and not (fence:sub(1, 1) == "`" and info:find("`", 1, true)) then
        local tag = (info:match("^%s*([^%s{]+)") or ""):lower()
        open = { char = fence:sub(1, 1), len = #fence, tag = tag, lines = {} }
      end
    end
  end
  if open then blocks[#blocks + 1] = { tag = open.tag, body = table.concat(open.lines, "\n") } end
  local untagged, any
  for i = #blocks, 1, -1 do
    local b = blocks[i]
    if tags[b.tag] then return b.body .. "\n", "fence:" .. b.tag end
    if b.tag == "" and not untagged then untagged = b end
    any = any or b
  end
  if untagged then return untagged.body .. "\n", "fence" end
  if any then return any.body .. "\n", "fence:" .. any.tag end
  return text, "whole"
end

-- ---- the code.tests evidence ----

-- The assert-mode harness. It reads a per-run nonce from stdin and the tests from a file, deletes
-- both, runs the solution and each test under a per-test timer, then reports on the original
-- stdout as one line "<nonce> <json>". A program that exits early, or prints without knowing the
-- nonce, reports nothing and scores 0. (Code in the same interpreter could still find the nonce
-- by inspecting the harness's frames: this guards against accidents and cheap tricks, not against
-- a solution written to attack the harness.)
local HARNESS = [=[
import json, os, signal, sys

def _srm_main():
    nonce = sys.stdin.readline().strip()
    try:
        os.close(0)
    except OSError:
        pass
    sys.stdin = open(os.devnull)
    with open("srm_tests.json", encoding="utf-8") as f:
        spec = json.load(f)
    with open("solution.py", encoding="utf-8", errors="replace") as f:
        source = f.read()
    for name in ("srm_tests.json", "srm_harness.py"):
        try:
            os.unlink(name)
        except OSError:
            pass
    out = os.dup(1)
    limit = float(spec.get("per_test_timeout") or 0)

    class _Timeout(BaseException):
        pass

    def _alarm(signum, frame):
        raise _Timeout()

    signal.signal(signal.SIGALRM, _alarm)

    def guarded(fn):
        try:
            if limit > 0:
                signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                fn()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            return None
        except _Timeout:
            return "timeout"
        except BaseException as e:
            try:
                return (type(e).__name__ + ": " + str(e))[:300]
            except BaseException:
                return "error"

    g = {"__name__": "solution", "__builtins__": __builtins__}

    def load():
        exec(compile(source, "solution.py", "exec"), g)

    load_error = guarded(load)
    entry_point = spec.get("entry_point")
    passed, errors = [], []
    for test in spec["tests"]:
        if load_error is not None:
            passed.append(False)
            errors.append("solution: " + load_error)
            continue

        def one():
            exec(compile(test, "test.py", "exec"), g)
            if entry_point:
                g["check"](g[entry_point])

        err = guarded(one)
        passed.append(err is None)
        errors.append(err)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    line = "\n" + nonce + " " + json.dumps({"passed": passed, "errors": errors}) + "\n"
    data = line.encode()
    while data:
        data = data[os.write(out, data):]
    os._exit(0)

_srm_main()
]=]

local SHOWN = 300

local function tail(s, n)
  if #s <= n then return s end
  return clip(s:sub(-n), n)
end

-- s without trailing whitespace (%s). A backward scan: gsub("%s+$", "") is quadratic in a run
-- of spaces that is not at the end (a program printing 1 MB of them would stall the worker for
-- hours inside one gsub call).
local function rtrim(s)
  local e = #s
  while e > 0 do
    local c = s:byte(e)
    if c ~= 32 and (c < 9 or c > 13) then break end
    e = e - 1
  end
  return s:sub(1, e)
end

-- Splits text into lines with trailing whitespace removed and trailing empty lines dropped.
local function lines_of(s)
  local t = {}
  for line in (s .. "\n"):gmatch("([^\n]*)\n") do t[#t + 1] = rtrim(line) end
  while #t > 0 and t[#t] == "" do t[#t] = nil end
  return t
end

local COMPARE = {
  exact = function(got, want) return got == want end,
  lines = function(got, want)
    local a, b = lines_of(got), lines_of(want)
    if #a ~= #b then return false end
    for i = 1, #a do if a[i] ~= b[i] then return false end end
    return true
  end,
  tokens = function(got, want)
    local it = got:gmatch("%S+")
    for tok in want:gmatch("%S+") do
      if it() ~= tok then return false end
    end
    return it() == nil
  end,
}

-- stdio cases from a record value: {{input=, output=}, ...}, {inputs = {...}, outputs = {...}}
-- (APPS / CodeContests), or either as a JSON string. Returns cases | nil, why.
local function stdio_cases(v)
  if type(v) == "string" then
    local decoded, err = json.decode(v)
    if decoded == nil then return nil, "tests are not JSON: " .. tostring(err) end
    v = decoded
  end
  if type(v) ~= "table" then return nil, "tests must be a list of {input, output} cases" end
  local cases = {}
  if v.inputs ~= nil or v.outputs ~= nil or v.input ~= nil and type(v.input) == "table" then
    local ins, outs = v.inputs or v.input, v.outputs or v.output
    if type(ins) ~= "table" or type(outs) ~= "table" or #ins ~= #outs then
      return nil, "tests need 'inputs' and 'outputs' lists of the same length"
    end
    for i = 1, #ins do cases[i] = { input = ins[i], output = outs[i] } end
  else
    for i, c in ipairs(v) do
      if type(c) ~= "table" then return nil, "test case #" .. i .. " is not an object" end
      cases[i] = { input = c.input, output = c.output }
    end
  end
  for i, c in ipairs(cases) do
    if type(c.input) ~= "string" or type(c.output) ~= "string" then
      return nil, "test case #" .. i .. " needs string 'input' and 'output'"
    end
  end
  if #cases == 0 then return nil, "no test cases" end
  return cases
end

-- Assert tests from a record value: a string (one test: test code, e.g. HumanEval's check) or a
-- list of strings (MBPP's test_list), or either as a JSON string holding a list.
local function assert_tests(v)
  if type(v) == "string" then
    if v:match("^%s*%[") then
      local decoded = json.decode(v)
      if type(decoded) == "table" then v = decoded end
    end
  end
  if type(v) == "string" then return { v } end
  if type(v) ~= "table" or #v == 0 then return nil, "tests must be test code or a list of asserts" end
  local t = {}
  for i, s in ipairs(v) do
    if type(s) ~= "string" then return nil, "test #" .. i .. " is not a string" end
    t[i] = s
  end
  return t
end

local function limit_result(res, what, on_limit, detail)
  detail.reason = res.reason
  detail.message = res.message
  detail.stderr = tail(res.stderr or "", SHOWN)
  local reason = what .. ": " .. res.reason .. " (" .. res.message .. ")"
  if on_limit == "fail" then return { score = 0, status = "ok", reason = reason, detail = detail } end
  return { status = "sandbox_error", reason = reason, detail = detail }
end

local TESTS_SCHEMA = {
  field = "string?", tests = "string?", mode = "string?", language = "string?",
  entry_point = "string?", prompt = "string?", timeout = "number?", test_timeout = "number?",
  cpu_s = "integer?", memory_mb = "integer?", max_output = "integer?", all_or_nothing = "boolean?",
  on_limit = "string?", compare = "string?", parallel = "integer?", extract = "boolean?",
  python = "string?",
}

--[[
code.tests{field = "response", tests = "tests", mode = "asserts" | "stdio", language = "python",
           entry_point = "entry_point", prompt = nil, timeout = 10, test_timeout = nil,
           cpu_s =, memory_mb = 1024, max_output = 1 << 20, all_or_nothing = false,
           on_limit = "error" | "fail", compare = "lines" | "tokens" | "exact", parallel = 4,
           extract = true, python = "python3"} -> evidence
Runs the Python solution in record[field] (code taken from its markdown fences unless
extract = false; record[prompt] prepended when `prompt` names a field, for HumanEval
completions) against record[tests]:
- asserts: test code (one test; when record[entry_point] is a string, `check(<entry_point>)`
  is called after it, as HumanEval does) or a list of assert statements (MBPP test_list), all in
  one sandboxed interpreter, each under test_timeout seconds;
- stdio: a list of {input, output} or {inputs = [...], outputs = [...]} (or that as JSON text);
  one sandboxed run per case with the input on stdin, stdout compared by `compare` (lines:
  trailing spaces and blank lines ignored).
score = fraction of tests passed (all_or_nothing: 1 or 0), status "ok". A run that hits a
sandbox limit (timeout, memory, killed, crashed, output_limit, spawn_failed) gives
status "sandbox_error" with that reason, or counts as failed with on_limit = "fail".
detail = {passed =, total =, results = {bool...}, errors/first_failure, extracted = how}.
]]
function code.tests(opts)
  local api = "code.tests"
  options.check(api, opts, TESTS_SCHEMA)
  local field = options.check_path(api, "option 'field'", opts.field or "response")
  local tests_field = options.check_path(api, "option 'tests'", opts.tests or "tests")
  local ep_field = options.check_path(api, "option 'entry_point'", opts.entry_point or "entry_point")
  local prompt_field = opts.prompt and options.check_path(api, "option 'prompt'", opts.prompt)
  local mode = opts.mode or "asserts"
  if mode ~= "asserts" and mode ~= "stdio" then
    error(api .. ": option 'mode' must be \"asserts\" or \"stdio\", got \"" .. mode .. "\"", 2)
  end
  local language = opts.language or "python"
  if language ~= "python" then
    error(api .. ": option 'language' must be \"python\" (the only one supported), got \""
      .. language .. "\"", 2)
  end
  local on_limit = opts.on_limit or "error"
  if on_limit ~= "error" and on_limit ~= "fail" then
    error(api .. ": option 'on_limit' must be \"error\" or \"fail\", got \"" .. on_limit .. "\"", 2)
  end
  local compare = COMPARE[opts.compare or "lines"]
  if not compare then
    error(api .. ": option 'compare' must be \"lines\", \"tokens\" or \"exact\", got \""
      .. tostring(opts.compare) .. "\"", 2)
  end
  local timeout = opts.timeout or 10
  if not (timeout > 0 and timeout <= 3600) then
    error(api .. ": option 'timeout' must be in (0, 3600], got " .. tostring(timeout), 2)
  end
  local test_timeout = opts.test_timeout
  if test_timeout ~= nil and not (test_timeout > 0 and test_timeout <= timeout) then
    error(api .. ": option 'test_timeout' must be in (0, timeout], got " .. tostring(test_timeout), 2)
  end
  local parallel = opts.parallel or 4
  if parallel < 1 or parallel > 64 then
    error(api .. ": option 'parallel' must be between 1 and 64, got " .. parallel, 2)
  end
  local python = opts.python or "python3"
  local all_or_nothing = opts.all_or_nothing or false
  local use_extract = opts.extract ~= false
  local limits = {
    timeout = timeout, cpu_s = opts.cpu_s, memory_mb = opts.memory_mb,
    max_output = opts.max_output,
  }
  local function spec(files, stdin, cmd)
    local s = { cmd = cmd, files = files, stdin = stdin }
    for k, v in pairs(limits) do s[k] = v end
    return s
  end

  local function score_of(passed, total)
    if all_or_nothing then return passed == total and 1 or 0 end
    return passed / total
  end

  local function run_asserts(src, tests, entry_point, detail)
    local nonce = proc.nonce()
    local payload = json.encode({ tests = json.array(tests), entry_point = entry_point or json.null,
      per_test_timeout = test_timeout or json.null })
    local res = proc.run(spec({ ["solution.py"] = src, ["srm_tests.json"] = payload,
      ["srm_harness.py"] = HARNESS }, nonce .. "\n", { python, "-I", "-B", "srm_harness.py" }))
    detail.exit_code = res.exit_code
    if res.status ~= "ok" then return limit_result(res, "the program", on_limit, detail) end
    local marker = "\n" .. nonce .. " "
    local at, from = nil, 1
    while true do
      local s = res.stdout:find(marker, from, true)
      if not s then break end
      at, from = s, s + 1
    end
    local report = at and json.decode(res.stdout:sub(at + #marker):match("^[^\n]*"))
    if type(report) ~= "table" or type(report.passed) ~= "table" then
      detail.passed, detail.total = 0, #tests
      detail.stderr = tail(res.stderr, SHOWN)
      return { score = 0, status = "ok", detail = detail,
        reason = "the program exited before reporting test results (exit code "
          .. tostring(res.exit_code) .. ")" }
    end
    local passed, results, errors = 0, {}, {}
    for i = 1, #tests do
      local ok = report.passed[i] == true
      results[i] = ok
      if ok then passed = passed + 1 end
      local e = report.errors and report.errors[i]
      if not ok and #errors < 5 then
        errors[#errors + 1] = "test " .. i .. ": " .. (type(e) == "string" and clip(e, SHOWN) or "failed")
      end
    end
    detail.passed, detail.total, detail.results = passed, #tests, results
    if #errors > 0 then detail.errors = errors end
    return { score = score_of(passed, #tests), status = "ok", detail = detail,
      reason = passed .. "/" .. #tests .. " tests passed" }
  end

  local function run_stdio(src, cases, detail)
    local total, passed, results = #cases, 0, {}
    local cmd = { python, "-I", "-B", "solution.py" }
    local i = 1
    while i <= total do
      local batch = {}
      for k = i, math.min(total, i + parallel - 1) do
        batch[#batch + 1] = spec({ ["solution.py"] = src }, cases[k].input, cmd)
      end
      local outs = proc.run_many(batch)
      for j, res in ipairs(outs) do
        local k = i + j - 1
        if res.status ~= "ok" then
          if on_limit == "error" then
            detail.case = k
            return limit_result(res, "test case " .. k, on_limit, detail)
          end
          results[k] = false
        else
          results[k] = res.exit_code == 0 and compare(res.stdout, cases[k].output)
        end
        if results[k] then
          passed = passed + 1
        elseif not detail.first_failure then
          detail.first_failure = { case = k, exit_code = res.exit_code, reason = res.reason,
            got = clip(res.stdout, SHOWN), expected = clip(cases[k].output, SHOWN),
            stderr = tail(res.stderr, SHOWN) }
        end
      end
      i = i + #batch
      if all_or_nothing and detail.first_failure then break end
    end
    detail.passed, detail.total, detail.results = passed, total, results
    return { score = score_of(passed, total), status = "ok", detail = detail,
      reason = passed .. "/" .. total .. " test cases passed" }
  end

  return {
    kind = "code.tests",
    describe = "Python solution in '" .. field .. "' against " .. mode .. " tests in '"
      .. tests_field .. "' (sandboxed)",
    run = function(record)
      local response, why = options.field(record, field)
      if not response then return { status = "input_error", reason = why } end
      local src, how = response, "whole"
      if use_extract then src, how = code.extract(response, language) end
      if prompt_field then
        local prompt, why2 = options.field(record, prompt_field)
        if not prompt then return { status = "input_error", reason = why2 } end
        src = prompt .. src
      end
      local raw = type(record) == "table" and record[tests_field]
      if raw == nil or raw == json.null then
        return { status = "input_error", reason = "record has no field '" .. tests_field .. "'" }
      end
      local detail = { extracted = how }
      if mode == "stdio" then
        local cases, why3 = stdio_cases(raw)
        if not cases then return { status = "input_error", reason = why3 } end
        return run_stdio(src, cases, detail)
      end
      local tests, why4 = assert_tests(raw)
      if not tests then return { status = "input_error", reason = why4 } end
      local ep = record[ep_field]
      if type(ep) ~= "string" or not ep:match("^[%a_][%w_]*$") then ep = nil end
      return run_asserts(src, tests, ep, detail)
    end,
  }
end

return code
