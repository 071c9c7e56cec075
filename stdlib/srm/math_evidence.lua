-- srm.math_evidence: the reference.math evidence (re-exported as srm.reference.math), which
-- scores a response's final answer against a gold answer with srm.math's equivalence.
local options = require "srm.options"
local extract = require "srm.extract"
local smath = require "srm.math"

local M = {}

local SHOWN = 200
local clip = extract.clip
local MATH_KEYS = { "precision", "strict", "ordered", "set_relation", "targets" }

--[[
reference.math{field = "response", gold = "answer", precision = 6, strict = true,
               ordered = false, set_relation = false, targets = {"latex", "expr"}} -> evidence
The final answer of the response (srm.math.extract: the last \boxed{}, "final answer is",
"#### N", "answer: ...", the last LaTeX span or number) compared with the gold answer by
srm.math.equal (Math-Verify semantics; the math options are passed through). The gold field is
an answer ("\frac{1}{2}", "(1, 3]"; a one-line gold that parses is taken whole) or a worked
solution whose answer is extracted the same way ("... \boxed{5}", "... #### 18"). Score 1 or 0, status "ok", detail = {extracted =, expected =,
how =} (how: the comparison that decided, see srm.math.equal). No answer in the response
scores 0 with reason "no answer in response"; an empty or unparsable gold is an input_error.
]]
function M.math(opts)
  local api = "reference.math"
  options.check(api, opts, {
    field = "string?", gold = "string?", precision = "integer?", strict = "boolean?",
    ordered = "boolean?", set_relation = "boolean?", targets = "table?",
  }, 3)
  local field = options.check_path(api, "option 'field'", opts.field or "response", 3)
  local gold = options.check_path(api, "option 'gold'", opts.gold or "answer", 3)
  local mopts = {}
  for _, k in ipairs(MATH_KEYS) do mopts[k] = opts[k] end
  if opts.precision ~= nil then mopts.precision = math.tointeger(opts.precision) end
  local ok, err = pcall(smath.equal, "1", "1", mopts)
  if not ok then error((tostring(err):gsub("^math%.equal", api)), 2) end
  return {
    kind = api,
    describe = "final answer of '" .. field .. "' is mathematically equal to '" .. gold .. "'",
    run = function(record)
      local got, why = options.field(record, field)
      if not got then return { status = "input_error", reason = why } end
      local want, why2 = options.field(record, gold)
      if not want then return { status = "input_error", reason = why2 } end
      -- a one-line gold that parses is the answer itself; otherwise extract it
      local expected = extract.trim(want)
      if expected:find("[\n$#]") or expected:find("\\boxed") or not smath.parse(expected) then
        expected = smath.extract(want, mopts) or expected
      end
      if expected == "" then
        return { status = "input_error", reason = "gold field '" .. gold .. "' is empty" }
      end
      local parsed, perr = smath.parse(expected)
      if not parsed then
        return { status = "input_error",
                 reason = "gold answer is not parsable (" .. tostring(perr) .. "): "
                   .. clip(expected, 80) }
      end
      local detail = { expected = clip(expected, SHOWN) }
      local extracted, reason = smath.extract(got, mopts)
      if not extracted then
        return { score = 0, status = "ok", reason = "no answer in response (" .. reason .. ")",
                 detail = detail }
      end
      detail.extracted = clip(extracted, SHOWN)
      local same, d = smath.equal(expected, extracted, mopts)
      detail.how = d.how
      if same then
        return { score = 1, status = "ok", reason = "answers agree (" .. d.how .. ")",
                 detail = detail }
      end
      return { score = 0, status = "ok",
               reason = clip(extracted, 40) .. " differs from " .. clip(expected, 40)
                 .. " (" .. (d.reason or d.how) .. ")",
               detail = detail }
    end,
  }
end

return M
