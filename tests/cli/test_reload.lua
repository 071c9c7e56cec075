-- Hot reload in `srm run --watch` (and SIGHUP): an edited skill, saved in place or by rename, is
-- swapped in before the next records; a broken edit keeps the old version and says where; a
-- record in flight finishes on the version it started with. Input comes through a FIFO so the
-- test decides when each record arrives.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")

local dir = C.tmpdir("reload")

local function skill_source(score, extra)
  return ([[
local srm = require "srm"
return srm.skill {
  name = "reloadable",
  evidence = {
    value = function(r)
      if r.slow then srm.sleep(r.slow) end
      return %s
    end,
  },
  policy = "value",%s
}
]]):format(score, extra or "")
end

local function sleep(s) os.execute("sleep " .. s) end

-- Starts srm run --watch on a FIFO; returns the process handle and a writer for records.
local function start(name, skill_path, extra_args)
  local fifo = dir .. "/" .. name .. ".fifo"
  assert(os.execute("rm -f " .. C.quote(fifo) .. " && mkfifo " .. C.quote(fifo)))
  local out = dir .. "/" .. name .. ".jsonl"
  local args = { "run", skill_path, fifo, "-o", out, "--no-progress", "--watch" }
  for _, a in ipairs(extra_args or {}) do args[#args + 1] = a end
  local h = C.spawn(args, dir)
  local f = assert(io.open(fifo, "w"))
  local function send(rec)
    f:write(require("srm.json").encode(rec), "\n")
    f:flush()
  end
  local function finish()
    f:close()
    local code, _, err = h:wait(30)
    return code, err, C.read_rows(out)
  end
  return send, finish, h
end

local function rows_by_id(rows)
  local t = {}
  for _, r in ipairs(rows) do t[r.id] = r end
  return t
end

T.case("an in-place edit: the next records carry the new sha256 and generation 2", function()
  local path = C.write(dir .. "/inplace.lua", skill_source("0.25"))
  local send, finish = start("inplace", path)
  send { id = 1 }
  send { id = 2 }
  sleep(0.3)
  C.write(path, skill_source("0.75"))
  sleep(0.2) -- the issue's bound: rows within 200 ms carry the new version
  send { id = 3 }
  local code, err, rows = finish()
  T.eq(code, 0, "exit: " .. err)
  local by = rows_by_id(rows)
  T.eq({ by[1].score, by[1].skill.generation }, { 0.25, 1 }, "row 1")
  T.eq({ by[2].score, by[2].skill.generation }, { 0.25, 1 }, "row 2")
  T.eq({ by[3].score, by[3].skill.generation }, { 0.75, 2 }, "row 3")
  T.truthy(by[1].skill.sha256 ~= by[3].skill.sha256, "new sha256")
  T.truthy(err:find("reloaded " .. path .. ": skill reloadable generation 2", 1, true), err)
end)

T.case("a save by rename (how editors write) reloads too", function()
  local path = C.write(dir .. "/renamed.lua", skill_source("0.1"))
  local send, finish = start("renamed", path)
  send { id = 1 }
  sleep(0.3)
  C.write(dir .. "/renamed.lua.tmp", skill_source("0.9"))
  assert(os.rename(dir .. "/renamed.lua.tmp", path))
  sleep(0.2)
  send { id = 2 }
  local code, err, rows = finish()
  T.eq(code, 0, "exit: " .. err)
  local by = rows_by_id(rows)
  T.eq({ by[1].score, by[2].score, by[2].skill.generation }, { 0.1, 0.9, 2 })
end)

T.case("a syntax error or a failing self-test keeps the old version and names the problem", function()
  local path = C.write(dir .. "/broken.lua", skill_source("0.5"))
  local send, finish = start("broken", path)
  send { id = 1 }
  sleep(0.3)
  C.write(path, skill_source("0.6") .. "\nthis is not lua\n")
  sleep(0.3)
  send { id = 2 }
  sleep(0.2)
  C.write(path, skill_source("0.7", [[

  tests = { { name = "wrong on purpose", record = {}, expect = { score = 0.1 } } },]]))
  sleep(0.3)
  send { id = 3 }
  sleep(0.2)
  C.write(path, skill_source("0.8"))
  sleep(0.3)
  send { id = 4 }
  local code, err, rows = finish()
  T.eq(code, 0, "exit: " .. err)
  local by = rows_by_id(rows)
  T.eq({ by[1].score, by[1].skill.generation }, { 0.5, 1 }, "before")
  T.eq({ by[2].score, by[2].skill.generation }, { 0.5, 1 }, "syntax error: old version kept")
  T.eq({ by[3].score, by[3].skill.generation }, { 0.5, 1 }, "failing self-test: old version kept")
  T.eq({ by[4].score, by[4].skill.generation }, { 0.8, 2 }, "a good edit goes in")
  T.truthy(err:find("reload of " .. path .. " failed, keeping generation 1: ", 1, true), err)
  T.truthy(err:find("broken.lua:13: <eof> expected near 'this'", 1, true), "file:line of the syntax error: " .. err)
  T.truthy(err:find("1 of 1 self-tests failed", 1, true), "self-test failure: " .. err)
end)

T.case("a record in flight finishes on the version it started with", function()
  local path = C.write(dir .. "/slow.lua", skill_source("0.3"))
  local send, finish = start("slow", path)
  send { id = 1, slow = 0.8 }
  sleep(0.2)
  C.write(path, skill_source("0.4"))
  sleep(0.3)
  send { id = 2 }
  local code, err, rows = finish()
  T.eq(code, 0, "exit: " .. err)
  local by = rows_by_id(rows)
  T.eq({ by[1].score, by[1].skill.generation }, { 0.3, 1 }, "slow record: old version")
  T.eq({ by[2].score, by[2].skill.generation }, { 0.4, 2 }, "next record: new version")
end)

T.case("SIGHUP reloads; an unchanged skill keeps its generation", function()
  local path = C.write(dir .. "/hup.lua", skill_source("0.2"))
  local send, finish, h = start("hup", path, {})
  send { id = 1 }
  sleep(0.3)
  h:kill("HUP") -- unchanged: nothing to swap
  sleep(0.2)
  send { id = 2 }
  local code, err, rows = finish()
  T.eq(code, 0, "exit: " .. err)
  local by = rows_by_id(rows)
  T.eq({ by[1].skill.generation, by[2].skill.generation }, { 1, 1 })
  T.eq(err:find("reloaded", 1, true), nil, "no reload reported: " .. err)
end)

T.case("--watch with --workers 2: the workers swap too", function()
  local path = C.write(dir .. "/workers.lua", skill_source("0.35"))
  local send, finish = start("workers", path, { "--workers", "2" })
  for i = 1, 4 do send { id = i } end
  sleep(0.3)
  C.write(path, skill_source("0.65"))
  sleep(0.3)
  for i = 5, 8 do send { id = i } end
  local code, err, rows = finish()
  T.eq(code, 0, "exit: " .. err)
  local by = rows_by_id(rows)
  for i = 1, 4 do T.eq({ by[i].score, by[i].skill.generation }, { 0.35, 1 }, "row " .. i) end
  for i = 5, 8 do T.eq({ by[i].score, by[i].skill.generation }, { 0.65, 2 }, "row " .. i) end
end)

T.done()
