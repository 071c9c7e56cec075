-- srm.code: the process sandbox from Lua (run, run_many, extract) and the code.tests evidence.
-- The containment cases are the acceptance checks of issue 4: fork bomb, infinite loop, 4 GiB
-- allocation, loopback connect, writes outside the working directory, 100 MB of output, the
-- parent's environment; each is contained with its own outcome and the next run is fine.
local T = dofile("tests/lua/testlib.lua")
local code = require "srm.code"
local core = require "srm.core"

local exists = T.exists
T.require_python("test_code")

local function py(src, opts)
  local spec = { cmd = { "python3", "-I", "main.py" }, files = { ["main.py"] = src }, timeout = 10 }
  for k, v in pairs(opts or {}) do spec[k] = v end
  return code.run(spec)
end

-- After every containment case: a normal run still works.
local function normal_run_ok()
  local r = py("print(6 * 7)")
  T.eq(r.status, "ok", "following run status (" .. tostring(r.message) .. ")")
  T.eq(r.stdout, "42\n", "following run stdout")
end

T.case("a Python program runs with its files and stdin", function()
  local r = code.run { cmd = { "python3", "-I", "main.py" }, stdin = "olleh",
    files = { ["main.py"] = "import sys\nprint(open('data.txt').read(), sys.stdin.read()[::-1])",
      ["data.txt"] = "got" } }
  T.eq(r.status, "ok")
  T.eq(r.exit_code, 0)
  T.eq(r.stdout, "got hello\n")
  T.eq(r.stderr, "")
  T.eq(r.timed_out, false)
  T.eq(r.output_truncated, false)
  T.truthy(r.wall_ms > 0 and r.cpu_ms >= 0, "timings")
  T.truthy(#r.isolation >= 2, "isolation reported")
end)

T.case("a failing program is status ok with its exit code", function()
  local r = py("raise SystemExit(4)")
  T.eq(r.status, "ok")
  T.eq(r.exit_code, 4)
  T.eq(r.reason, nil)
  r = py("1/0")
  T.eq(r.exit_code, 1)
  T.truthy(r.stderr:find("ZeroDivisionError", 1, true), "traceback on stderr")
end)

T.case("bad arguments raise", function()
  T.raises(function() code.run { cmd = { "true" }, timout = 1 } end, "unknown option 'timout'")
  T.raises(function() code.run { cmd = "true" } end, "option 'cmd' must be a table")
  T.raises(function() code.run { cmd = {} } end, "cmd' must hold 1 to 1024 strings")
  T.raises(function() code.run { cmd = { "true" }, files = { ["../x"] = "" } } end, "bad file name")
  T.raises(function() code.run { cmd = { "true" }, timeout = -1 } end, "option 'timeout'")
  T.raises(function() code.run { cmd = { "true" }, memory_mb = 1.5 } end, "memory_mb")
  T.raises(function() code.run { cmd = { "true" }, tmp_root = "/" } end, "unknown option 'tmp_root'")
end)

T.case("fork bomb: contained by the process limit and the wall timeout", function()
  local r = py([[
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
]], { timeout = 2, nproc = 32 })
  T.eq(r.status, "sandbox_error")
  T.eq(r.reason, "timeout")
  T.eq(r.timed_out, true)
  T.truthy(r.wall_ms < 4000, "ended near the timeout, took " .. r.wall_ms)
  normal_run_ok()
end)

T.case("infinite loop: the CPU limit ends it", function()
  local r = py("while True:\n    pass\n", { timeout = 10, cpu_s = 1 })
  T.eq(r.status, "sandbox_error")
  T.eq(r.reason, "timeout")
  T.eq(r.timed_out, false)
  T.eq(r.message, "CPU time limit of 1 s exceeded")
  normal_run_ok()
end)

T.case("4 GiB allocation: refused by the address-space limit", function()
  local r = py("x = bytearray(4 << 30)\nprint('allocated')", { memory_mb = 256 })
  T.eq(r.status, "sandbox_error")
  T.eq(r.reason, "memory")
  T.eq(r.stdout, "")
  T.truthy(r.stderr:find("MemoryError", 1, true), "MemoryError on stderr")
  normal_run_ok()
end)

T.case("connect to a listening loopback port fails", function()
  -- A listener outside the sandbox, reporting whether anything connected within 3 s.
  local port, listener_verdict = T.listener(3)
  T.truthy(port, "listener port")
  local r = py(string.format([[
import socket
for family, addr in ((socket.AF_INET, ('127.0.0.1', %d)),):
    try:
        c = socket.socket(family, socket.SOCK_STREAM)
        c.settimeout(2)
        c.connect(addr)
        print('CONNECTED')
    except OSError as e:
        print('refused', e.errno)
]], port))
  local verdict = listener_verdict()
  T.eq(r.status, "ok")
  T.truthy(r.stdout:find("^refused %d+\n$"), "connect failed inside: " .. r.stdout .. r.stderr)
  T.eq(verdict, "nobody", "the listener saw no connection")
  normal_run_ok()
end)

T.case("writing outside the working directory fails", function()
  local target = "/tmp/srm-code-escape-" .. core.sha256(tostring(core.now())):sub(1, 12)
  local r = py(string.format([[
import os
for path in (%q, '/etc/srm-escape', os.path.expanduser('~') + '/../srm-escape'):
    try:
        with open(path, 'w') as f:
            f.write('pwned')
        print('WROTE', path)
    except OSError as e:
        print('denied', e.errno)
with open('inside.txt', 'w') as f:
    f.write('fine')
print(open('inside.txt').read())
]], target))
  T.eq(r.status, "ok")
  T.eq(r.stdout:match("WROTE"), nil, "nothing written outside: " .. r.stdout)
  T.eq(select(2, r.stdout:gsub("denied", "")), 3, "three writes denied")
  T.truthy(r.stdout:find("fine\n", 1, true), "writing inside works")
  T.eq(exists(target), false, "no file at " .. target)
  T.eq(exists("/etc/srm-escape"), false, "no file in /etc")
  normal_run_ok()
end)

T.case("100 MB of output: killed at the cap, head kept", function()
  local r = py("import sys\nchunk = 'x' * 65536\nfor _ in range(1600):\n    sys.stdout.write(chunk)\n",
    { max_output = 1 << 20 })
  T.eq(r.status, "sandbox_error")
  T.eq(r.reason, "output_limit")
  T.eq(#r.stdout, 1 << 20)
  T.eq(r.output_truncated, true)
  T.eq(r.stdout:sub(1, 4), "xxxx")
  normal_run_ok()
end)

T.case("the parent's environment is not visible", function()
  local parent_var = os.getenv("SRM_TEST_TMP") and "SRM_TEST_TMP" or "PATH"
  local r = py(string.format([[
import os
print(sorted(k for k in os.environ if k != 'LC_CTYPE'))  # LC_CTYPE: Python's own (PEP 538)
print(%q in os.environ)
try:
    open('/proc/%%d/environ' %% os.getppid(), 'rb').read()
    print('read parent environ')
except OSError:
    print('no parent environ')
]], parent_var))
  T.eq(r.status, "ok")
  T.eq(r.stdout, string.format("['HOME', 'PATH']\n%s\nno parent environ\n",
    parent_var == "PATH" and "True" or "False"))
  normal_run_ok()
end)

T.case("run_many overlaps its runs", function()
  local specs = {}
  for i = 1, 20 do specs[i] = { cmd = { "sleep", "0.5" }, timeout = 5 } end
  local t0 = core.now()
  local rs = code.run_many(specs)
  local took = core.now() - t0
  T.eq(#rs, 20)
  for i, r in ipairs(rs) do T.eq(r.status, "ok", "run " .. i) end
  T.truthy(took < 3, "20 x 0.5 s took " .. took .. " s")
end)

T.case("extract takes the last python fence", function()
  local text = "Here:\n```python\nx = 1\n```\nand finally\n```py\nprint(2)\n```\nDone."
  T.eq({ code.extract(text) }, { "print(2)\n", "fence:py" })
  T.eq({ code.extract("```\nuntagged\n```\n```text\nno\n```") }, { "untagged\n", "fence" })
  T.eq({ code.extract("```js\nalert(1)\n```") }, { "alert(1)\n", "fence:js" })
  T.eq({ code.extract("print(1)") }, { "print(1)", "whole" })
  T.eq({ code.extract("```python\nopen = 1\n") }, { "open = 1\n", "fence:python" })
  T.eq({ code.extract("~~~Python3\na\n~~~\r\n") }, { "a\n", "fence:python3" })
  T.eq({ code.extract("````python\n```\ninner\n````") }, { "```\ninner\n", "fence:python" })
  T.raises(function() code.extract("x", "cobol") end, "unsupported language")
end)

local function evidence(opts, record)
  return code.tests(opts).run(record)
end

local MBPP = {
  "assert add(1, 2) == 3",
  "assert add(2, 2) == 4",
  "assert add(0, 0) == 1",
}

T.case("asserts: MBPP test list scores the fraction passed", function()
  local r = evidence({ tests = "test_list" },
    { response = "Sure:\n```python\ndef add(a, b):\n    return a + b\n```", test_list = MBPP })
  T.eq(r.status, "ok")
  T.near(r.score, 2 / 3)
  T.eq(r.detail.passed, 2)
  T.eq(r.detail.results, { true, true, false })
  T.eq(r.detail.extracted, "fence:python")
  T.truthy(r.detail.errors[1]:find("^test 3: AssertionError"), r.detail.errors[1])
  r = evidence({ tests = "test_list", all_or_nothing = true },
    { response = "def add(a, b):\n    return a + b\n", test_list = MBPP })
  T.eq(r.score, 0)
end)

T.case("asserts: HumanEval check(entry_point), with the prompt prepended", function()
  local record = {
    prompt = "def inc(x):\n    \"\"\"Add one.\"\"\"\n",
    completion = "    return x + 1\n",
    test = "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(-1) == 0\n",
    entry_point = "inc",
  }
  local r = evidence({ field = "completion", prompt = "prompt", tests = "test" }, record)
  T.eq(r.status, "ok")
  T.eq(r.score, 1)
  record.completion = "    return x + 2\n"
  r = evidence({ field = "completion", prompt = "prompt", tests = "test" }, record)
  T.eq(r.score, 0)
end)

T.case("asserts: exiting early or faking the report scores 0", function()
  local cheats = {
    "import sys\nsys.exit(0)\n",
    "import os\nos._exit(0)\n",
    "print('\\n0123456789abcdef0123456789abcdef {\"passed\": [true, true, true]}')\n"
      .. "import os\nos._exit(0)\n",
    "import os\nprint(os.listdir('.'))\nos._exit(0)\n",
  }
  for i, src in ipairs(cheats) do
    local r = evidence({ tests = "test_list" }, { response = src, test_list = MBPP })
    T.eq(r.status, "ok", "cheat " .. i)
    T.eq(r.score, 0, "cheat " .. i)
  end
end)

T.case("asserts: the tests are not readable by the solution", function()
  local src = "import os\nprint(sorted(os.listdir('.')))\ndef add(a, b):\n    return a + b\n"
  local r = evidence({ tests = "test_list" }, { response = src, test_list = { MBPP[1] } })
  T.eq(r.score, 1)
end)

T.case("asserts: a timeout is a sandbox_error, or a failure with on_limit = fail", function()
  local record = { response = "while True:\n    pass\n", test_list = MBPP }
  local r = evidence({ tests = "test_list", timeout = 1 }, record)
  T.eq(r.status, "sandbox_error")
  T.truthy(r.reason:find("^the program: timeout"), r.reason)
  r = evidence({ tests = "test_list", timeout = 1, on_limit = "fail" }, record)
  T.eq(r.status, "ok")
  T.eq(r.score, 0)
  -- A per-test timer fails only the slow test.
  record.response = "import time\ndef add(a, b):\n    if a == 2: time.sleep(5)\n    return a + b\n"
  r = evidence({ tests = "test_list", test_timeout = 0.5 }, record)
  T.eq(r.detail.results, { true, false, false })
  T.eq(r.detail.errors[1], "test 2: timeout")
end)

T.case("stdio: cases as a list and as APPS JSON, lines comparison", function()
  local src = "a, b = map(int, input().split())\nprint(a + b, '  ')\nprint()\n"
  local r = evidence({ mode = "stdio" }, { response = src,
    tests = { { input = "1 2\n", output = "3\n" }, { input = "2 2\n", output = "5" } } })
  T.eq(r.status, "ok")
  T.eq(r.score, 0.5)
  T.eq(r.detail.first_failure.case, 2)
  T.eq(r.detail.first_failure.got, "4   \n\n")
  r = evidence({ mode = "stdio" }, { response = src,
    tests = '{"inputs": ["1 2\\n", "5 5"], "outputs": ["3", "10\\n"]}' })
  T.eq(r.score, 1)
  r = evidence({ mode = "stdio", compare = "exact" }, { response = src,
    tests = { { input = "1 2\n", output = "3\n" } } })
  T.eq(r.score, 0)
end)

T.case("stdio: a crash fails the case; limits are sandbox errors", function()
  local r = evidence({ mode = "stdio" }, { response = "print(int(input()) // 0)",
    tests = { { input = "1", output = "1" } } })
  T.eq(r.status, "ok")
  T.eq(r.score, 0)
  T.eq(r.detail.first_failure.exit_code, 1)
  r = evidence({ mode = "stdio", memory_mb = 128 }, { response = "x = ' ' * (1 << 31)",
    tests = { { input = "", output = "" } } })
  T.eq(r.status, "sandbox_error")
  T.truthy(r.reason:find("^test case 1: memory"), r.reason)
end)

T.case("missing fields are input errors; bad options raise", function()
  T.eq(evidence({}, { tests = "x" }).status, "input_error")
  T.eq(evidence({}, { response = "x" }).status, "input_error")
  T.eq(evidence({ mode = "stdio" }, { response = "x", tests = "{" }).status, "input_error")
  T.raises(function() code.tests { mode = "both" } end, "option 'mode'")
  T.raises(function() code.tests { language = "rust" } end, "option 'language'")
  T.raises(function() code.tests { fiel = "x" } end, "unknown option 'fiel'")
end)

T.case("no sandboxed run left behind", function()
  T.eq(require("srm.proc").orphans(), 0)
  -- Only this process's directories (srm-code-<pid>-...): other tests may run concurrently.
  local pid = io.open("/proc/self/stat"):read("n")
  local f = io.popen("ls /tmp | grep -c '^srm-code-" .. pid .. "-' || true")
  local n = tonumber(f:read("l"))
  f:close()
  T.eq(n, 0, "working directories left in /tmp")
end)

T.done()
