-- srm.luabox: model-written Lua in a fresh restricted state (the agent's run_lua tool). One row
-- per escape attempt or budget: nothing reaches io/os/debug/require/bytecode, budgets end runaway
-- code even inside pcall or a C callback, output is captured and capped, nothing persists.
local T = dofile("tests/lua/testlib.lua")
local box = require "srm.luabox"

local CASES = {
  -- code, expected status, expected result (nil: not checked), error substring
  { "return 1 + 2", "ok", 3 },
  { "return 'a' .. 'b', 'ignored'", "ok", "ab" },
  { "return io", "ok", nil },
  { "return os", "ok", nil },
  { "return debug", "ok", nil },
  { "return package", "ok", nil },
  { "return require", "ok", nil },
  { "return dofile or loadfile or collectgarbage", "ok", nil },
  { "return string.dump", "ok", nil },
  { "return ('').dump", "ok", nil },
  { "return load(string.char(27) .. 'Lua')", "ok", nil },
  { "return select(2, load('\\27Lua'))", "ok", "attempt to load a binary chunk (mode is 't')" },
  { "return load('return 1', 'x', 'b')", "error", nil, "only text chunks" },
  { "return load('return 7')()", "ok", 7 },
  { "return load('return x', 'c', 't', {x = 9})()", "ok", 9 },
  { "while true do end", "instructions", nil, "instruction budget" },
  { "while true do pcall(function() while true do end end) end", "instructions", nil, "instruction budget" },
  { "table.sort({3, 2, 1, 5, 4}, function() while true do end end)", "instructions", nil, "instruction budget" },
  { "local co = coroutine.wrap(function() while true do end end) co()", "instructions", nil, "instruction budget" },
  { "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end", "memory", nil, "not enough memory" },
  { "local s = 'x' while true do s = s .. s end", "memory", nil, "not enough memory" },
  { "error('boom')", "error", nil, "boom" },
  { "error({})", "error", nil, "table" },
  { "x = ", "syntax_error", nil, "unexpected symbol" },
  { "coroutine.yield()", "error", nil, "yielded outside a coroutine" },
  { "setmetatable(_G, {__index = function() return 1 end}) return undefined_name", "ok", 1 },
  { "getmetatable('').__index.upper = nil return ('x').upper", "ok", nil },
  { "return #PROMPT", "error", nil, "attempt to get length of a nil value" },
  { "return math.maxinteger", "ok", math.maxinteger },
  { "return 0.5", "ok", 0.5 },
}

T.case("escape attempts and budgets, one row each", function()
  for i, c in ipairs(CASES) do
    local r = box.run(c[1], { instructions = 200000, memory = 2 * 1024 * 1024 })
    T.eq(r.status, c[2], "case " .. i .. " (" .. c[1] .. ") status; error " .. tostring(r.error))
    if c[3] ~= nil then T.eq(r.result, c[3], "case " .. i .. " result") end
    if c[4] then
      T.truthy(r.error and r.error:find(c[4], 1, true), "case " .. i .. " error mentions '" .. c[4] .. "': " .. tostring(r.error))
    end
  end
end)

T.case("nothing persists between runs (each run gets a fresh state)", function()
  T.eq(box.run("leaked = 42 string.upper = nil return 1").result, 1)
  T.eq(box.run("return leaked").result, nil)
  T.eq(box.run("return string.upper('a')").result, "A")
end)

T.case("print is captured and capped; tables come back copied and bounded", function()
  local r = box.run("print('a', 1, nil, true) print() return {x = 1, list = {1, 2, {y = 'z'}}}")
  T.eq(r.status, "ok")
  T.eq(r.output, "a\t1\tnil\ttrue\n\n")
  T.eq(r.output_truncated, false)
  T.eq(r.result, { x = 1, list = { 1, 2, { y = "z" } } })
  r = box.run("for i = 1, 1000 do print(i) end", { output = 10 })
  T.eq(r.output, "1\n2\n3\n4\n5\n")
  T.eq(r.output_truncated, true)
  r = box.run("local t = {} t.self = t return t")
  T.eq(r.status, "ok")
  local depth, v = 0, r.result
  while type(v) == "table" do v, depth = v.self, depth + 1 end
  T.eq(depth, 16, "a cycle is cut at 16 levels")
  T.eq(v, "<table nested too deeply>")
  r = box.run("return print")
  T.eq(r.result, "function")
  r = box.run("local t = {} for i = 1, 20000 do t[i] = i end return t")
  local n = 0
  for _ in pairs(r.result) do n = n + 1 end
  T.truthy(n < 10000, "values past the copy bound are dropped: " .. n)
end)

T.case("instructions are counted; options are checked", function()
  local r = box.run("for i = 1, 10000 do end")
  T.truthy(r.instructions >= 10000 and r.instructions < 100000, "counted " .. r.instructions)
  T.raises(function() box.run("return 1", { instrs = 5 }) end, "unknown option 'instrs'")
  T.raises(function() box.run("return 1", { instructions = 1 }) end, "between 1000")
  T.raises(function() box.run("return 1", { memory = 0.5 }) end, "must be an integer")
  T.raises(function() box.run(nil) end, "string expected")
  T.eq(box.run("return 1", { instructions = 1e6 }).result, 1)
end)

T.case("invalid UTF-8 and NUL bytes in code and strings are fine", function()
  local r = box.run("return '\xff\xfe\0x'")
  T.eq(r.result, "\xff\xfe\0x")
  r = box.run("\xff\xfe")
  T.eq(r.status, "syntax_error")
end)

T.done()
