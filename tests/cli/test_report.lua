-- srm report: the page for a run with 3 components, 2 skill generations and mixed statuses
-- (tests/data/report/rows.jsonl) has every section, is self-contained, escapes row contents,
-- joins the input for lengths (and tokens with --tokenizer); usage and I/O errors. The
-- headless-browser rendering is tests/cli/test_report_browser.lua.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local H = require "srm.report.html"
local json = require "srm.json"

local ROWS, DATA = "tests/data/report/rows.jsonl", "tests/data/report/data.jsonl"
local dir = C.tmpdir("report")

local function report(args)
  local code, out, err = C.srm(args, dir)
  return code, out, err
end

local page_path = dir .. "/fixture.html"
local code0, _, err0 = report({ "report", ROWS, "-o", page_path, "--data", DATA })
local page = C.read(page_path) or ""

T.case("the fixture's report is written, with every section", function()
  T.eq(code0, 0, "exit (stderr: " .. err0 .. ")")
  T.truthy(err0:find("srm report: 40 rows -> " .. page_path, 1, true), err0)
  T.eq(#H.SECTIONS, 12, "sections")
  for _, id in ipairs(H.SECTIONS) do
    T.truthy(page:find('<section id="' .. id .. '">', 1, true), "section " .. id)
  end
end)

T.case("the page is self-contained: no external resources, one inline script", function()
  T.truthy(page:sub(1, 15) == "<!DOCTYPE html>", "doctype")
  T.eq(page:find('src="', 1, true), nil, "no src attributes")
  T.eq(page:find('href="http', 1, true), nil, "no outside links")
  T.eq(page:find("<link", 1, true), nil, "no stylesheets")
  T.eq(page:find("@import", 1, true), nil, "no CSS imports")
  local scripts = 0
  for _ in page:gmatch("<script") do scripts = scripts + 1 end
  T.eq(scripts, 1, "one script")
end)

T.case("the header shows both generations, statuses and usage", function()
  T.truthy(page:find("<td>mixed</td><td><code title=\"" .. string.rep("a1", 32) .. "\">a1a1a1a1a1a1</code></td>"
    .. '<td class="n">1</td><td class="n">20</td>', 1, true), "generation 1 stamp")
  T.truthy(page:find("b2b2b2b2b2b2</code></td><td class=\"n\">2</td><td class=\"n\">20</td>", 1, true), "generation 2 stamp")
  for _, s in ipairs({ "ok: 28", "abstain: 3", "judge_failed: 3", "timeout: 3", "skill_error: 3" }) do
    T.truthy(page:find("<title>" .. s .. "</title>", 1, true), "status bar " .. s)
  end
  T.truthy(page:find('<td class="n">74</td><td class="n">6</td><td class="n">8.1%</td>', 1, true), "LLM calls, cache hits")
end)

T.case("diagnostics: swap rate, disagreement matrix, abstain rates, generation split", function()
  -- judge pairs judged twice: rows whose judge component is ok with detail.orders
  local n, bad = 0, 0
  for line in io.lines(ROWS) do
    local r = json.decode(line)
    local j = r.components.judge
    if j and j.detail and j.detail.orders then
      n = n + 1
      if j.detail.orders[1] ~= j.detail.orders[2] then bad = bad + 1 end
    end
  end
  T.truthy(n > 0 and bad > 0, "the fixture has inconsistent swaps")
  T.truthy(page:find(string.format('<td>judge</td><td class="n">%d</td><td class="n">%d</td><td class="n">%.1f%%</td>',
    n, bad, 100 * bad / n), 1, true), "swap row")
  T.truthy(page:find("<tr><th>answer</th><td class=\"n\">–</td>", 1, true), "matrix diagonal")
  T.truthy(page:find("The rows come from 2 skill generations", 1, true), "generations")
  T.truthy(page:find("generation 2</h4>", 1, true), "per-generation histogram")
  T.truthy(page:find("Spearman rank correlation ρ = ", 1, true), "length correlation")
  T.truthy(page:find("No tokenizer configured", 1, true), "tokens section explains itself")
end)

T.case("surprising rows expand to the full row", function()
  T.truthy(page:find("<details><summary>", 1, true), "expandable rows")
  T.truthy(page:find("&quot;id&quot;: &quot;r", 1, true), "pretty JSON of a row, escaped")
end)

T.case("without --data the length section says how to get it; default output path", function()
  local rows = C.write(dir .. "/plain.jsonl", C.read(ROWS))
  local code, _, err = report({ "report", rows })
  T.eq(code, 0, "exit: " .. err)
  local p = C.read(dir .. "/plain.html")
  T.truthy(p, "OUT.html next to OUT.jsonl")
  T.truthy(p:find("Rows do not carry the response. Pass --data DATA.jsonl", 1, true), "hint")
  T.truthy(p:find('<section id="length">', 1, true), "the section is still there")
end)

T.case("row contents are escaped (ids, reasons, component names)", function()
  local evil = '<script>alert(1)</script>'
  local rows = C.write_jsonl(dir .. "/evil.jsonl", {
    { id = evil, status = "skill_error", reason = evil, components = { [evil] = { status = "ok", score = 1 },
      b = { status = "ok", score = 0 } } },
    { id = "x\226\128", status = "ok", score = 2, components = {} },
  })
  local code, _, err = report({ "report", rows, "-o", dir .. "/evil.html" })
  T.eq(code, 0, "exit: " .. err)
  local p = C.read(dir .. "/evil.html")
  T.eq(p:find("<script>alert", 1, true), nil, "no injected script")
  T.truthy(p:find("&lt;script&gt;alert(1)&lt;/script&gt;", 1, true), "escaped text")
end)

T.case("--tokenizer adds score vs tokens (a byte-level tokenizer: tokens = bytes)", function()
  -- every byte is a token and there are no merges, so on ASCII responses the token count is
  -- the length, and the two correlations agree
  local vocab, extra = {}, 0
  for b = 0, 255 do
    local printable = (b >= 33 and b <= 126) or (b >= 161 and b <= 172) or (b >= 174)
    if printable then vocab[utf8.char(b)] = b else vocab[utf8.char(256 + extra)] = b; extra = extra + 1 end
  end
  local tokpath = C.write(dir .. "/bytes.json", json.encode({
    version = "1.0", added_tokens = json.array(),
    pre_tokenizer = { type = "ByteLevel", add_prefix_space = false, trim_offsets = false, use_regex = false },
    decoder = { type = "ByteLevel" }, model = { type = "BPE", vocab = vocab, merges = json.array() } }))
  local out = dir .. "/tok.html"
  local code, _, err = report({ "report", ROWS, "-o", out, "--data", DATA, "--tokenizer", tokpath })
  T.eq(code, 0, "exit: " .. err)
  local p = C.read(out)
  T.truthy(p:find("Tokenizer " .. tokpath .. "; 28 ok rows counted.", 1, true), "tokens section")
  local rhos = {}
  for r in p:gmatch("Spearman rank correlation ρ = (%-?[%d.]+)") do rhos[#rhos + 1] = r end
  T.eq(#rhos, 2, "two correlations")
  T.eq(rhos[1], rhos[2], "tokens = characters here")
end)

T.case("usage and I/O errors", function()
  local code, _, err = report({ "report" })
  T.eq(code, 2, "no file")
  T.truthy(err:find("expected one rows file", 1, true), err)
  code, _, err = report({ "report", ROWS, "--bogus" })
  T.eq(code, 2, "unknown option")
  code, _, err = report({ "report", ROWS, "--tokenizer", "cl100k_base" })
  T.eq(code, 2, "--tokenizer without --data")
  code, _, err = report({ "report", ROWS, "-o", dir .. "/t.html", "--data", DATA, "--tokenizer", dir .. "/nope.json" })
  T.eq(code, 2, "unloadable tokenizer")
  T.truthy(err:find("cannot load tokenizer", 1, true), err)
  code, _, err = report({ "report", dir .. "/missing.jsonl" })
  T.eq(code, 1, "missing rows file")
  code, _, err = report({ "report", ROWS, "-o", dir .. "/no/such/dir/x.html" })
  T.eq(code, 1, "unwritable output")
  T.truthy(err:find("cannot write", 1, true), err)
  code, _, err = report({ "report", ROWS, "--data", dir .. "/missing.jsonl", "-o", dir .. "/m.html" })
  T.eq(code, 1, "missing data file")
end)

T.done()
