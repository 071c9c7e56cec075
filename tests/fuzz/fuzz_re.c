/* srm fuzzing: srm.re (runtime/lsrm_re.c, PCRE2 with JIT) on hostile patterns and subjects,
** through the Lua API skills use. Input: byte 0 is the flags (bits: i m s x A a), byte 1 the
** operation (find, match, test, exec, gmatch, gsub with a template / a function / a table,
** split; even values use a compiled regex, odd ones the module-level functions and their
** bounded cache), byte 2 the pattern length; the pattern and then the subject follow.
** The match limits are lowered (re.set_limits) so a catastrophic pattern costs milliseconds, not
** seconds; they are the same limits, only smaller. Properties: a bad pattern raises (caught
** here), a match returns results or nil, message, code (MATCH_LIMIT, DEPTH_LIMIT, HEAP_LIMIT,
** BAD_UTF8, MATCH_ERROR), positions lie within the subject, gsub/split keep the unmatched text. */
#include "fuzz_common.h"

static const char DRIVER[] =
    "local re = require 'srm.re'\n"
    "re.set_limits { match = 200000, depth = 5000, heap_kib = 16384 }\n"
    "local FLAGS = { 'i', 'm', 's', 'x', 'A', 'a' }\n"
    "local CODES = { MATCH_LIMIT = true, DEPTH_LIMIT = true, HEAP_LIMIT = true,\n"
    "  BAD_UTF8 = true, MATCH_ERROR = true }\n"
    "local function soft(a, b, c)\n"
    "  if a == nil and b ~= nil then\n"
    "    assert(type(b) == 'string' and CODES[c], 'bad failure triple: ' .. tostring(c))\n"
    "    return true\n"
    "  end\n"
    "end\n"
    "local function op(k, rx, pat, flags, subj)\n"
    "  local f = rx and function(name, ...) return rx[name](rx, subj, ...) end\n"
    "    or function(name, ...)\n"
    "      if name == 'gsub' then\n"
    "        local repl, n = ...\n"
    "        return re.gsub(subj, pat, repl, flags, n)\n"
    "      end\n"
    "      return re[name](subj, pat, flags, ...)\n"
    "    end\n"
    "  if k == 0 then\n"
    "    local a, b, c = f('find')\n"
    "    if soft(a, b, c) or a == nil then return end\n"
    "    assert(math.type(a) == 'integer' and a >= 1 and b >= a - 1 and b <= #subj, 'find range')\n"
    "  elseif k == 1 then f('match')\n"
    "  elseif k == 2 then\n"
    "    local t, e, c = f('test')\n"
    "    assert(type(t) == 'boolean' or soft(t, e, c), 'test')\n"
    "  elseif k == 3 then\n"
    "    local m, e, c = f('exec')\n"
    "    if m == nil then soft(m, e, c) return end\n"
    "    assert(m.start >= 1 and m.finish >= m.start - 1 and m.finish <= #subj, 'exec range')\n"
    "  elseif k == 4 then\n"
    "    local n = 0\n"
    "    for a in f('gmatch') do n = n + 1 if n > 10000 then break end end\n"
    "  elseif k == 5 then\n"
    "    local out, cnt, c = f('gsub', '<%0>', 100)\n"
    "    if not soft(out, cnt, c) then assert(#out >= #subj, 'gsub lost text') end\n"
    "  elseif k == 6 then\n"
    "    f('gsub', function(...) return select('#', ...) > 0 and '' or nil end)\n"
    "  elseif k == 7 then\n"
    "    f('gsub', { a = 'A' })\n"
    "  else\n"
    "    local t, e, c = f('split', 50)\n"
    "    if t == nil then soft(t, e, c) return end\n"
    "    assert(#t >= 1 and #t <= 50, 'split count')\n"
    "    assert(#table.concat(t) <= #subj, 'split grew the text')\n"
    "  end\n"
    "end\n"
    "return function(s)\n"
    "  if #s < 3 then return end\n"
    "  local fb, ob, plen = s:byte(1, 3)\n"
    "  local pat = s:sub(4, 3 + plen)\n"
    "  local subj = s:sub(4 + plen)\n"
    "  local flags = {}\n"
    "  for i, fl in ipairs(FLAGS) do\n"
    "    if fb & (1 << (i - 1)) ~= 0 then flags[#flags + 1] = fl end\n"
    "  end\n"
    "  flags = table.concat(flags)\n"
    "  local k = (ob >> 1) % 9\n"
    "  if ob % 2 == 0 then\n"
    "    local ok, rx = pcall(re.compile, pat, flags)\n"
    "    if not ok then\n"
    "      assert(tostring(rx):find('srm.re', 1, true), 'compile error: ' .. tostring(rx))\n"
    "      return\n"
    "    end\n"
    "    assert(rx.pattern == pat)\n"
    "    op(k, rx, pat, flags, subj)\n"
    "  else\n"
    "    local ok, err = pcall(op, k, nil, pat, flags, subj)\n"
    "    if not ok then\n"
    "      assert(tostring(err):find('srm.re', 1, true), 'error: ' .. tostring(err))\n"
    "    end\n"
    "  end\n"
    "end\n";

static struct fuzz_lua fuzz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_lua_init(&fuzz, "=fuzz_re", DRIVER);
  fuzz_lua_run(&fuzz, data, size);
  return 0;
}
