-- srm.trace: the --trace FILE sink. Evidence that wants to leave a full record of its work (the
-- agent judge: every turn's messages, tool calls with arguments, tool results in full, the
-- finalization path and the readout decision) calls trace.emit(record, entry); when a trace
-- file is open, one JSON line {"id", "trace"} per call is appended to it.
--
-- The file is opened in append mode, unbuffered, and each line is written with one write call,
-- so the workers of one run (separate Lua states) can share the file: on Linux an O_APPEND
-- write to a regular file is not interleaved with another.
local json = require "srm.json"

local M = {}

local file = nil
local path_open = nil
local ids = setmetatable({}, { __mode = "k" }) -- record table -> row id (from the runner)

-- trace.open(path) -> true | nil, message. Appends to an existing file.
function M.open(path)
  if type(path) ~= "string" or path == "" then error("srm.trace.open: expected a file path", 2) end
  if file and path_open == path then return true end
  M.close()
  local f, err = io.open(path, "ab")
  if not f then return nil, "cannot open the trace file " .. tostring(err) end
  f:setvbuf("no")
  file, path_open = f, path
  return true
end

function M.close()
  if file then file:close() end
  file, path_open = nil, nil
end

function M.enabled() return file ~= nil end

-- trace.note_id(record, id): the row id of a record (the runner knows line-number ids).
function M.note_id(record, id)
  if type(record) == "table" then ids[record] = id end
end

local function id_of(record)
  local id = ids[record]
  if id == nil and type(record) == "table" then
    id = record.id
    if id == nil or id == json.null then id = record.key end
  end
  if id == nil then id = json.null end
  return id
end
-- trace.id_of(record) -> the row id noted for record (else its id / key field, else null)
M.id_of = id_of

-- trace.emit(record, entry) -> true | false: writes {"id": <row id>, "trace": entry} as one line.
-- Values JSON cannot hold are written as text. Does nothing without an open file.
function M.emit(record, entry)
  if not file then return false end
  local ok, line = pcall(json.encode, { id = id_of(record), trace = entry })
  if not ok then
    line = json.encode { id = id_of(record), error = "the trace could not be encoded: " .. tostring(line) }
  end
  file:write(line .. "\n")
  return true
end

return M
