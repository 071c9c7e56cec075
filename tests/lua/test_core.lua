-- srm.core: yielding sleep inside a task, clock, sha256, file reads.
local T = dofile("tests/lua/testlib.lua")
local core = require "srm.core"

T.case("sha256 of a known string", function()
  T.eq(core.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
end)

T.case("sleep yields this task and resumes after the delay", function()
  local t0 = core.now()
  T.eq(core.sleep(0.05), true)
  T.truthy(core.now() - t0 >= 0.045, "slept at least 45 ms")
end)

T.case("read_file returns nil and a message for a missing file", function()
  local s, err = core.read_file("does/not/exist")
  T.eq(s, nil)
  T.truthy(err:find("does/not/exist", 1, true), "message names the path")
end)

T.case("read_file enforces its size cap", function()
  local s, err = core.read_file("tests/lua/testlib.lua", 10)
  T.eq(s, nil)
  T.truthy(err:find("larger than", 1, true), "message says why")
end)

T.case("event: a wait returns the signaled value, at once after the signal", function()
  local ev = core.event()
  T.raises(function() core.signal(ev) end, "bad argument")
  core.signal(ev, "v")
  T.eq(core.wait(ev), "v")
  T.raises(function() core.signal(ev, "again") end, "already signaled")
end)

T.done()
