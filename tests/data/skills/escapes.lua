-- Test skill: each record names an escape attempt in `case`; the sandbox must turn every one
-- into an error status on that row while later rows still score ok.
local srm = require "srm"

local attempts = {
  ok = function() return 1 end,
  loop_in_pcall = function()
    while true do pcall(function() while true do end end) end
  end,
  memory_bomb = function()
    local s = string.rep("x", 1 << 20)
    local parts = {}
    for i = 1, 1e6 do parts[i] = string.rep(s, 64) end
    return #parts
  end,
  huge_rep = function() return #string.rep("x", 1 << 30) end, -- 1 GiB in one allocation
  io_open = function() return io.open("/etc/passwd"):read("a") end,
  os_exit = function() os.exit(1) end,
  load_bytecode = function()
    return load("\27LuaT\0\25\147\r\n\26\n", "bc", "b")
  end,
  load_bytecode_text_mode = function()
    return load("\27LuaT\0\25\147\r\n\26\n")
  end,
  string_dump = function() return string.dump(function() end) end,
  string_dump_method = function() return ("").dump(function() end) end,
  setmetatable_env = function() setmetatable(_ENV, {}) end,
  string_metatable = function() getmetatable("").__index = { upper = function() return "pwned" end } end,
  global_assignment = function() leaked = 1 end,
  rawset_env = function() rawset(_ENV, "leaked", 1) end,
  modify_library = function() string.upper = function() return "pwned" end end,
  debug_library = function() return debug.getinfo(1) end,
  require_io = function() return require("io") end,
  read_outside = function() return srm.read("../../../etc/passwd") end,
  tokenizer_outside = function() return srm.tok.load("/etc/passwd") end,
  caught_memory_bomb = function()
    pcall(function()
      local t = {}
      for i = 1, 1e9 do t[i] = string.rep("y", 1000) .. i end
    end)
    return 1 -- the bomb was swallowed by pcall; the record must still not pass as ok
  end,
  regex_limits = function() srm.re.set_limits { match = 4e9 } end,
  mutate_ctx = function(_, ctx) ctx.leak = 1 end,
  mutate_settings = function(_, ctx) ctx.settings.x = 1 end,
  json_markers = function()
    return srm.json.encode(srm.json.empty_array) == "[]"
      and srm.json.is_array(srm.json.decode("[1]"))
      and getmetatable(srm.json.decode("[1]")) == srm.json.array_mt
  end,
  string_still_works = function()
    return ("abc"):upper() == "ABC" and string.upper("x") == "X"
  end,
}

return srm.skill {
  name = "escapes",
  evidence = {
    attempt = function(record, ctx)
      local fn = attempts[record.case]
      if not fn then error("unknown case " .. tostring(record.case)) end
      return fn(record, ctx)
    end,
  },
  policy = "attempt",
}
