-- srm.agent_tools: the tool schemas, prompts, verdict parsing and the Python helpers of the agent
-- judge (srm.agent). Pure data and text; no model calls here.
local json = require "srm.json"

local M = {}

local function fn_tool(name, description, properties, required)
  return {
    type = "function",
    ["function"] = {
      name = name,
      description = description,
      parameters = {
        type = "object",
        properties = properties,
        required = json.array(required or {}),
      },
    },
  }
end

-- Letters of the candidates: A, B, ... (listwise up to 26).
M.LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
function M.letter(i) return M.LETTERS:sub(i, i) end

M.SCALED = { "A>>B", "A>B", "A=B", "B>A", "B>>A" }
M.SCALED_SCORE = { ["A>>B"] = 1, ["A>B"] = 0.75, ["A=B"] = 0.5, ["B>A"] = 0.25, ["B>>A"] = 0 }
M.SCALED_FLIP = { ["A>>B"] = "B>>A", ["A>B"] = "B>A", ["A=B"] = "A=B", ["B>A"] = "A>B", ["B>>A"] = "A>>B" }
M.PAIR_SCORE = { A = 1, B = 0, tie = 0.5 }
M.PAIR_FLIP = { A = "B", B = "A", tie = "tie" }

-- final_answer's parameters for a mode; n = number of candidates (listwise).
function M.final_schema(mode, scale, n)
  local props = { reason = { type = "string", description = "why, briefly, citing the evidence used" } }
  if mode == "pointwise" then
    props.score = { type = "number", minimum = scale[1], maximum = scale[2],
      description = string.format("the score, from %g (worst) to %g (best)", scale[1], scale[2]) }
    return fn_tool("final_answer", "Give the final score and end the evaluation.", props, { "reason", "score" })
  elseif mode == "pairwise" then
    props.verdict = { type = "string", enum = json.array { "A", "B", "Tie" },
      description = "the better response, or Tie" }
  elseif mode == "scaled" then
    props.verdict = { type = "string", enum = json.array(M.SCALED),
      description = "A>>B: A much better ... B>>A: B much better" }
  else
    local enum = {}
    for i = 1, n do enum[i] = M.letter(i) end
    props.verdict = { type = "string", enum = json.array(enum), description = "the best candidate's letter" }
  end
  return fn_tool("final_answer", "Give the final verdict and end the evaluation.", props, { "reason", "verdict" })
end

M.TOOLS = {
  use_skill = fn_tool("use_skill", "Load a skill: its instructions and its resource index.",
    { name = { type = "string", description = "the skill's name" } }, { "name" }),
  list_resources = fn_tool("list_resources", "List the loaded skill's resources (id, type, cost, hard or soft, view or run).", {}),
  view_resource = fn_tool("view_resource", "Read a resource's text. Long texts are cut; pass offset to read on.",
    { id = { type = "string" }, offset = { type = "integer", minimum = 0 } }, { "id" }),
  run_resource = fn_tool("run_resource", "Run a verifier or tool resource on the responses (all of them, or one candidate).",
    { id = { type = "string" }, candidate = { type = "string", description = "a candidate letter; omit for all" },
      args = { type = "object" } }, { "id" }),
  run_python = fn_tool("run_python", "Run a Python 3 program in a sandbox (no network). PROMPT, RESPONSES (letter -> text) "
    .. "and helpers such as count_words, count_sentences, count_paragraphs, keyword_count, is_json are preloaded. Print what you need.",
    { code = { type = "string" } }, { "code" }),
  run_lua = fn_tool("run_lua", "Run a Lua 5.4 chunk in a fresh restricted state (string, table, math, utf8; PROMPT and "
    .. "RESPONSES preloaded). print() output and the returned value come back.", { code = { type = "string" } }, { "code" }),
}

-- The Python prelude: the task texts and small constraint helpers.
M.PY_HELPERS = [=[
import json as _json, re as _re

def _load(name, default):
    try:
        with open(name, encoding="utf-8", errors="replace") as f:
            return _json.load(f)
    except (OSError, ValueError):
        return default

_TASK = _load("srm_task.json", {})
PROMPT = _TASK.get("prompt") or ""
RESPONSES = _TASK.get("responses") or {}
RESPONSE = RESPONSES.get("A") if len(RESPONSES) == 1 else None

def words(text):
    return _re.findall(r"\w+", text)

def count_words(text):
    return len(words(text))

def sentences(text):
    return [s for s in _re.split(r"(?<=[.!?])\s+", text.strip()) if s]

def count_sentences(text):
    return len(sentences(text))

def paragraphs(text):
    return [p for p in _re.split(r"\n\s*\n", text.strip()) if p.strip()]

def count_paragraphs(text):
    return len(paragraphs(text))

def count_lines(text):
    return len([l for l in text.splitlines() if l.strip()])

def keyword_count(text, keyword):
    return len(_re.findall(r"(?i)\b" + _re.escape(keyword) + r"\b", text))

def has_keyword(text, keyword):
    return keyword_count(text, keyword) > 0

def count_bullets(text):
    return len(_re.findall(r"(?m)^\s*[*-]\s", text))

def count_highlights(text):
    return len(_re.findall(r"\*[^\n*]+\*", text))

def count_placeholders(text):
    return len(_re.findall(r"\[[^\]]*\]", text))

def is_json(text):
    t = text.strip()
    if t.startswith("```"):
        t = _re.sub(r"^```\w*\s*|\s*```$", "", t)
    try:
        _json.loads(t)
        return True
    except ValueError:
        return False

def capital_words(text):
    return len([w for w in words(text) if w.isupper()])

def is_lowercase(text):
    return text == text.lower()

def is_uppercase(text):
    return text == text.upper()
]=]

local function strip_think(text)
  if type(text) ~= "string" then return "" end
  -- a closed block, then an unclosed trailing one (a cut reply keeps nothing after <think>)
  local out = text:gsub("<think>.-</think>", "")
  local open = out:find("<think>", 1, true)
  if open then out = out:sub(1, open - 1) end
  -- a reply whose opening tag was eaten by the chat template: keep what follows </think>
  local close = out:find("</think>", 1, true)
  if close then
    local last = close
    repeat
      local n = out:find("</think>", last + 1, true)
      if n then last = n end
    until not n
    out = out:sub(last + 8)
  end
  return out
end
M.strip_think = strip_think

-- The JSON object of a reply: the whole text, a fenced block or the outermost {...}.
local function json_object(text)
  local doc = json.decode(text)
  if type(doc) == "table" then return doc end
  local fenced = text:match("```json%s*(.-)```") or text:match("```%s*(.-)```")
  if fenced then
    doc = json.decode(fenced)
    if type(doc) == "table" then return doc end
  end
  local first = text:find("{", 1, true)
  local last
  for i = #text, 1, -1 do
    if text:byte(i) == 125 then last = i break end
  end
  if first and last and last > first then
    doc = json.decode(text:sub(first, last))
    if type(doc) == "table" then return doc end
  end
  return nil
end
M.json_object = json_object

-- The last [[...]] label in text (bounded: labels are short).
local function last_bracket(text)
  local found
  for label in text:gmatch("%[%[([^%[%]\n]-)%]%]") do
    if #label <= 8 then found = label end
  end
  return found
end

-- normalize(mode, raw, n, scale) -> verdict | nil. pairwise: "A" | "B" | "tie"; scaled: one of
-- SCALED; listwise: integer index; pointwise: number within scale.
function M.normalize(mode, raw, n, scale)
  if mode == "pointwise" then
    local s = tonumber(raw)
    if s and s == s and s >= scale[1] and s <= scale[2] then return s end
    return nil
  end
  if mode == "listwise" and type(raw) == "number" then
    local i = math.tointeger(raw)
    return i and i >= 1 and i <= n and i or nil
  end
  if type(raw) ~= "string" then return nil end
  local v = raw:gsub("^%s+", ""):gsub("%s+$", "")
  if mode == "pairwise" then
    local u = v:upper()
    if u == "A" or u == "B" then return u end
    if u == "TIE" or u == "C" or u == "A=B" or u == "TIED" then return "tie" end
    return nil
  elseif mode == "scaled" then
    v = v:upper():gsub("%s", "")
    if M.SCALED_SCORE[v] then return v end
    if v == "A<B" then return "B>A" end
    if v == "A<<B" then return "B>>A" end
    if v == "A=B" or v == "TIE" then return "A=B" end
    return nil
  end
  local u = v:upper()
  if #u == 1 then
    local i = M.LETTERS:find(u, 1, true)
    if i and i <= n then return i end
  end
  local num = math.tointeger(tonumber(v))
  if num and num >= 1 and num <= n then return num end
  return nil
end

-- parse_text(mode, text, n, scale) -> verdict | nil: a verdict written in plain text, for the
-- plain-text retry and the direct judge. Tries, after removing <think> blocks: a JSON object
-- (verdict, winner, best, score), the last [[X]] label, then "Final verdict: X" / "Verdict: X" /
-- "Score: N" lines (last one).
function M.parse_text(mode, text, n, scale)
  text = strip_think(text)
  if text == "" then return nil end
  local doc = json_object(text)
  if doc then
    for _, k in ipairs { "verdict", "winner", "best", "score", "choice" } do
      local v = M.normalize(mode, doc[k], n, scale)
      if v ~= nil then return v end
    end
  end
  local b = last_bracket(text)
  if b then
    local v = M.normalize(mode, b, n, scale)
    if v ~= nil then return v end
  end
  local found
  for line in text:gmatch("[^\n]+") do
    local l = line:lower()
    local s, e = l:find("final verdict%s*[:=]")
    if not s then s, e = l:find("verdict%s*[:=]") end
    if not s then s, e = l:find("final answer%s*[:=]") end
    if not s and mode == "pointwise" then s, e = l:find("score%s*[:=]") end
    if s then
      local rest = line:sub(e + 1):gsub("[%*`\"'%.]", "")
      local tok = rest:match("^%s*(%S+)")
      if mode == "scaled" then tok = rest:gsub("%s", ""):match("^[AaBb<>=]+") end
      local v = tok and M.normalize(mode, tok, n, scale)
      if v ~= nil then found = v end
    end
  end
  return found
end

-- The instruction that says how to write the verdict in plain text.
function M.text_format(mode, n, scale)
  if mode == "pointwise" then
    return string.format("End your reply with a line 'Score: N' where N is from %g to %g.", scale[1], scale[2])
  elseif mode == "pairwise" then
    return "End your reply with exactly one of [[A]], [[B]] or [[Tie]]."
  elseif mode == "scaled" then
    return "End your reply with exactly one of [[A>>B]], [[A>B]], [[A=B]], [[B>A]] or [[B>>A]]."
  end
  return string.format("End your reply with the best candidate's letter in double brackets, [[A]] to [[%s]].", M.letter(n))
end

return M
