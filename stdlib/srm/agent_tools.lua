-- srm.agent_tools: the tool schemas, prompts, verdict parsing and the Python helpers of the agent
-- judge (srm.agent). Pure data and text; no model calls here.
local json = require "srm.json"
local V = require "srm.verdicts"

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

-- Verdict parsing lives in srm.verdicts (one table-driven parser for every judge); the agent's
-- modes map to its kinds.
M.KIND = { pointwise = "score", pairwise = "pair", scaled = "scaled", listwise = "index" }
M.strip_think = V.strip_think
M.json_object = V.json_object

-- normalize(mode, raw, n, scale) -> verdict | nil. pairwise: "A" | "B" | "tie"; scaled: one of
-- SCALED; listwise: integer index; pointwise: number within scale.
function M.normalize(mode, raw, n, scale)
  return V.normalize(M.KIND[mode], raw, { n = n, scale = scale })
end

-- parse_text(mode, text, n, scale, truncated) -> verdict | nil: a verdict written in plain text
-- (a reply without tool calls, the plain-text retry, the direct judge). srm.verdicts' default
-- forms for the mode's kind, last occurrence: a JSON object (verdict, winner, best, score, ...),
-- the last [[X]] label, the last "Final verdict: X" / "Verdict: X" / "Winner: Response X" /
-- "Score: N" line, then "Output (a)" and bare A>B comparisons. truncated (finish_reason
-- "length"): only the reply's tail is read.
function M.parse_text(mode, text, n, scale, truncated)
  return (V.parse(text, M.KIND[mode], { n = n, scale = scale, truncated = truncated or nil }))
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

---------------------------------------------------------------------------------------------
-- Mock scripts: a judge played by srm-mock, for tests and benchmarks without a model

-- An srm-mock directive (tests/mock/README.md): the mock answers the request with it.
local function directive(item) return "[[mock:" .. item .. "]]" end
local function call(name, args) return directive("tool_call=" .. name .. ":" .. json.encode(args)) end

-- The "longer" judge's decision on the candidates as this conversation shows them: the longest
-- text (in bytes) wins; equal lengths tie (listwise: the first of the longest). Pointwise: the
-- top of the scale from 200 bytes on, else the bottom.
local function longer_verdict(info)
  local c = info.candidates
  if info.mode == "pointwise" then
    return { score = #c[1] >= 200 and info.scale[2] or info.scale[1] }, nil
  end
  if info.mode == "listwise" then
    local best = 1
    for i = 2, #c do if #c[i] > #c[best] then best = i end end
    return { verdict = M.letter(best) }, M.letter(best)
  end
  local a, b = #c[1], #c[2]
  if info.mode == "pairwise" then
    local v = a > b and "A" or b > a and "B" or "Tie"
    return { verdict = v }, v
  end
  local v = a > b and "A>B" or b > a and "B>A" or "A=B"
  return { verdict = v }, v
end

--[[
MOCK_SCRIPTS.longer(info) -> directives: a scripted agent judge. Loop turns: use_skill, then
two views of the first viewable resources in one turn (parallel calls), then run_lua measuring
the candidates, then final_answer with the longer-response verdict (steps whose tool is not
offered in the setting are skipped). The forced final answers with final_answer; the
plain-text retry and the direct judge answer "Final verdict: X" ("Score: N" pointwise).
Selected per run with the mock_script setting (`--set mock_script=longer`).
]]
M.MOCK_SCRIPTS = {}
function M.MOCK_SCRIPTS.longer(info)
  local args, text = longer_verdict(info)
  args.reason = "scripted: the longer response"
  if info.phase == "forced" then return call("final_answer", args) end
  if info.phase ~= "loop" then
    local line = info.mode == "pointwise" and ("Score: " .. tostring(args.score))
      or ("Final verdict: " .. text)
    return directive("reply=Compared by length. " .. line)
  end
  local tools, steps = info.tools or {}, {}
  if tools.use_skill then
    steps[#steps + 1] = call("use_skill", { name = info.skill })
    local views = {}
    for i = 1, math.min(2, #(info.resources or {})) do
      views[#views + 1] = call("view_resource", { id = info.resources[i] })
    end
    if #views > 0 then steps[#steps + 1] = table.concat(views) end
  end
  if tools.run_lua then
    steps[#steps + 1] = call("run_lua", { code = "local n = {} for k, v in pairs(RESPONSES) do "
      .. "n[k] = #v end return n" })
  end
  return steps[info.turn] or call("final_answer", args)
end

return M
