/* srm fuzzing: the LLM-judge verdict parsers of stdlib/srm/judge.lua on arbitrary reply text,
** end to end: each judge evidence (rubric, pairwise, listwise, checklist) runs on a fixed record
** with the model's replies canned (llm.track) to the input, so the reply goes through llm.lua's
** reply parsing and the judge's tolerant JSON / text fallback parsers exactly as in a run. The
** exported helpers (json_object, parse_score, parse_winner) run on the raw text too.
** Input: byte 0 picks the judge and the score scale, the rest is the reply content.
** Properties: parse_score agrees with the backtracking patterns it replaced (on inputs without
** long digit runs, where those are fast); nothing raises; the evidence returns status ok (a score
*in [0, 1]), judge_failed
** or abstain (listwise without gold), with a string reason. */
#include "fuzz_common.h"

static const char DRIVER[] =
    "local judge = require 'srm.judge'\n"
    "local llm = require 'srm.llm'\n"
    "local SCALES = { {1, 10}, {0, 1}, {1, 5}, {-3, 3} }\n"
    "local record = { prompt = 'Q', response = 'R', response_a = 'A', response_b = 'B',\n"
    "  responses = { 'one', 'two', 'three' }, gold = 2, checklist = { 'x', 'y', 'z' } }\n"
    "local evidences = {}\n"
    "for i, sc in ipairs(SCALES) do\n"
    "  evidences[#evidences + 1] = judge.rubric { rubric_text = 'Be good.', scale = sc,\n"
    "    model = 'm' }\n"
    "end\n"
    "evidences[#evidences + 1] = judge.pairwise { model = 'm' }\n"
    "evidences[#evidences + 1] = judge.pairwise { model = 'm', swap = false }\n"
    "evidences[#evidences + 1] = judge.listwise { model = 'm', gold = 'gold' }\n"
    "evidences[#evidences + 1] = judge.listwise { model = 'm' }\n"
    "evidences[#evidences + 1] = judge.checklist { items_field = 'checklist', model = 'm', batch = "
    "2 }\n"
    "evidences[#evidences + 1] = judge.checklist { items = { 'only' }, model = 'm' }\n"
    "local STATUS = { ok = true, judge_failed = true, abstain = true }\n"
    "return function(s)\n"
    "  local sel = s:byte(1) or 0\n"
    "  local text = s:sub(2)\n"
    "  local sc = SCALES[sel % #SCALES + 1]\n"
    "  local score, reason = judge.parse_score(text, sc[1], sc[2])\n"
    "  if not text:find('%d' .. ('%d'):rep(40)) then -- the pattern parse_score replaced (cubic)\n"
    "    local doc = judge.json_object(text)\n"
    "    local lower = text:lower()\n"
    "    local old = doc and tonumber(doc.score)\n"
    "      or tonumber(lower:match('\"?score\"?%s*[:=]%s*(%-?%d+%.?%d*)'))\n"
    "      or tonumber(lower:match('(%-?%d+%.?%d*)%s*/%s*' .. sc[2] .. '%f[%D]'))\n"
    "    if not (old and old >= sc[1] and old <= sc[2]) then old = nil end\n"
    "    assert(old == score, 'parse_score differs from the reference pattern')\n"
    "  end\n"
    "  assert(score == nil or (score >= sc[1] and score <= sc[2]), 'score out of scale')\n"
    "  assert(reason == nil or type(reason) == 'string')\n"
    "  local w = judge.parse_winner(text)\n"
    "  assert(w == nil or w == 'A' or w == 'B' or w == 'tie', 'bad winner')\n"
    "  local doc = judge.json_object(text)\n"
    "  assert(doc == nil or type(doc) == 'table')\n"
    "  local ev = evidences[sel % #evidences + 1]\n"
    "  llm.track(coroutine.running(), {}, 0, { text, text, text })\n"
    "  local r = ev.run(record)\n"
    "  assert(type(r) == 'table' and STATUS[r.status], 'bad status ' .. tostring(r.status))\n"
    "  if r.status == 'ok' then\n"
    "    assert(type(r.score) == 'number' and r.score >= 0 and r.score <= 1, 'score not in [0, "
    "1]')\n"
    "  end\n"
    "  assert(r.reason == nil or type(r.reason) == 'string', 'reason is not a string')\n"
    "end\n";

static struct fuzz_lua fuzz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_lua_init(&fuzz, "=fuzz_judge", DRIVER);
  fuzz_lua_run(&fuzz, data, size);
  return 0;
}
