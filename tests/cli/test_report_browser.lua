-- srm report in a real browser: headless Chromium renders the fixture's page (3 components, 2
-- skill generations, mixed statuses), takes a screenshot, and the page's own check script
-- (every section present, every plot laid out with a non-zero size) sets the title to "ok"
-- under #selftest; a script error would leave it unset. Without chromium: SKIPPED, exit 77.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")

local function find_chromium()
  for _, p in ipairs({ "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }) do
    if T.exists(p) then return p end
  end
  return nil
end

local chromium = find_chromium()
if not chromium then
  print("SKIPPED: test_report_browser needs chromium (apt-get install chromium)")
  os.exit(77)
end

local dir = C.tmpdir("report-browser")
local FLAGS = "--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
  .. "--user-data-dir=" .. C.quote(dir .. "/profile")

-- Runs chromium with a 90 s cap; returns its stdout.
local function browse(args)
  local out = dir .. "/chromium.out"
  local cmd = "timeout 90 " .. C.quote(chromium) .. " " .. FLAGS .. " " .. args .. " >" .. C.quote(out)
    .. " 2>" .. C.quote(dir .. "/chromium.err")
  os.execute(cmd)
  return C.read(out) or ""
end

-- Width and height from a PNG's IHDR chunk.
local function png_size(data)
  if not data or data:sub(1, 8) ~= "\137PNG\r\n\26\n" then return nil end
  return string.unpack(">I4", data, 17), string.unpack(">I4", data, 21)
end

local page = dir .. "/report.html"
local code, _, err = C.srm({ "report", "tests/data/report/rows.jsonl", "-o", page,
  "--data", "tests/data/report/data.jsonl" }, dir)

T.case("the report renders: screenshot of the whole page", function()
  T.eq(code, 0, "srm report: " .. err)
  local shot = dir .. "/report.png"
  browse("--screenshot=" .. C.quote(shot) .. " --window-size=1280,4000 " .. C.quote("file://" .. page))
  local png = C.read(shot)
  T.truthy(png, "screenshot written (" .. (C.read(dir .. "/chromium.err") or ""):sub(1, 300) .. ")")
  local w, h = png_size(png)
  T.eq({ w, h }, { 1280, 4000 }, "PNG size")
  T.truthy(#png > 50000, "a page with plots is not a blank screenshot: " .. #png .. " bytes")
end)

T.case("the page's check script ran without error: every section and plot is there", function()
  local dom = browse("--dump-dom " .. C.quote("file://" .. page .. "#selftest"))
  T.truthy(dom:find("<title>ok</title>", 1, true), "title set to ok by the inline script: "
    .. (dom:match("<title>[^<]*</title>") or dom:sub(1, 200)))
  T.truthy(dom:find('data-check="ok"', 1, true), "data-check")
  T.truthy(dom:find('<p id="selfcheck" class="warn"></p>', 1, true), "no failure message")
end)

T.case("the check script does fail when a section is missing", function()
  local broken = C.write(dir .. "/broken.html", (C.read(page):gsub('<section id="latency">', '<section id="latency-x">')))
  local dom = browse("--dump-dom " .. C.quote("file://" .. broken .. "#selftest"))
  T.eq(dom:find("<title>ok</title>", 1, true), nil, "title not ok")
  T.truthy(dom:find("page check failed: latency", 1, true), "names the missing section")
end)

T.case("srm diff --html renders too", function()
  local dpage = dir .. "/diff.html"
  local dcode = C.srm({ "diff", "tests/data/report/diff_a.jsonl", "tests/data/report/diff_b.jsonl",
    "--html", dpage }, dir)
  T.eq(dcode, 0, "srm diff")
  local dom = browse("--dump-dom " .. C.quote("file://" .. dpage .. "#selftest"))
  T.truthy(dom:find("<title>ok</title>", 1, true), "diff page check")
end)

T.done()
