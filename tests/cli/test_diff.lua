-- srm diff: the terminal summary against golden files (tests/data/report/diff_*.txt), the exit
-- codes of --fail-on-change, usage and I/O errors, and the --html page.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")

local D = "tests/data/report/"
local A, B = D .. "diff_a.jsonl", D .. "diff_b.jsonl"
local dir = C.tmpdir("diff")

local function golden(name, args)
  local code, out, err = C.srm(args, dir)
  T.eq(code, 0, "exit (stderr: " .. err .. ")")
  local want = C.read(D .. name)
  if out ~= want then
    C.write(dir .. "/" .. name, out)
    error("output differs from " .. D .. name .. " (got " .. dir .. "/" .. name .. "):\n" .. out, 2)
  end
end

T.case("A vs B: joins by id out of order, counts flips, transitions and one-sided ids", function()
  golden("diff_ab.txt", { "diff", A, B })
end)

T.case("a file against itself: no change", function()
  golden("diff_aa.txt", { "diff", A, A })
end)

T.case("--eps hides small moves and --top limits the listed changes", function()
  golden("diff_ab_eps.txt", { "diff", A, B, "--eps", "0.6", "--top", "2" })
end)

T.case("--fail-on-change exits 5 when rows changed, 0 when nothing did", function()
  local code, out = C.srm({ "diff", A, B, "--fail-on-change" }, dir)
  T.eq(code, 5, "changed")
  T.truthy(out:find("result: CHANGED", 1, true), out)
  code, out = C.srm({ "diff", A, A, "--fail-on-change" }, dir)
  T.eq(code, 0, "unchanged")
  T.truthy(out:find("result: no change", 1, true), out)
end)

T.case("--fail-on-change: an id present in one file only is a change", function()
  local one = C.write(dir .. "/one.jsonl", '{"id":"x","score":1,"status":"ok"}\n')
  local two = C.write(dir .. "/two.jsonl", '{"id":"x","score":1,"status":"ok"}\n{"id":"y","score":1,"status":"ok"}\n')
  local code, out = C.srm({ "diff", one, two, "--fail-on-change" }, dir)
  T.eq(code, 5, "exit")
  T.truthy(out:find("only in B: 1", 1, true), out)
  T.eq((C.srm({ "diff", one, one, "--fail-on-change" }, dir)), 0, "same file")
end)

T.case("row text cannot drive the terminal: escapes become '?', invalid UTF-8 U+FFFD", function()
  local one = C.write(dir .. "/esc_a.jsonl", '{"id":"\\u001b[31mred","score":1,"status":"ok"}\n{"id":"bad\255","score":1,"status":"ok"}\n')
  local two = C.write(dir .. "/esc_b.jsonl", '{"id":"other","score":1,"status":"ok"}\n')
  local code, out = C.srm({ "diff", one, two }, dir)
  T.eq(code, 0, "exit")
  T.eq(out:find("\27", 1, true), nil, "no escape character")
  -- json.decode already repairs ill-formed UTF-8 (one U+FFFD per bad sequence)
  T.truthy(out:find("only in A: ?[31mred, bad\xef\xbf\xbd\n", 1, true), out)
end)

T.case("usage errors exit 2, a missing file exits 1", function()
  local code, _, err = C.srm({ "diff", A }, dir)
  T.eq(code, 2, "one file")
  T.truthy(err:find("expected two rows files", 1, true), err)
  code, _, err = C.srm({ "diff", A, B, "--frob" }, dir)
  T.eq(code, 2, "unknown option")
  T.truthy(err:find("--frob", 1, true), err)
  code, _, err = C.srm({ "diff", A, B, "--eps", "x" }, dir)
  T.eq(code, 2, "bad eps")
  code, _, err = C.srm({ "diff", A, dir .. "/missing.jsonl" }, dir)
  T.eq(code, 1, "missing file")
  T.truthy(err:find("missing.jsonl", 1, true), err)
end)

T.case("--html writes a self-contained page with every section", function()
  local page = dir .. "/diff.html"
  local code = C.srm({ "diff", A, B, "--html", page }, dir)
  T.eq(code, 0, "exit")
  local html = C.read(page)
  for _, id in ipairs({ "summary", "plots", "components", "changes" }) do
    T.truthy(html:find('id="' .. id .. '"', 1, true), "section " .. id)
  end
  T.truthy(not html:find('src="http', 1, true) and not html:find('href="http', 1, true), "no links out")
  T.truthy(html:find("p4", 1, true), "the changed row is listed")
end)

T.done()
