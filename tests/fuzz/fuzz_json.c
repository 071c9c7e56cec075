/* srm fuzzing: srm.json.decode on arbitrary bytes, and srm's own passes around it (integral
** numbers as integers, array markers, the NUL check, the depth bound), through the Lua API as
** skills and the runner call it. Properties: decode returns a value or nil, message,
** "BAD_JSON" and never raises; whatever decodes re-encodes (unless deeper than the encoder's
** 100 levels or holding a non-finite number), and encode(decode(encode(v))) == encode(v). The
** IFEval JSON validator (Python json.loads semantics, iterative) runs on the same bytes. */
#include "fuzz_common.h"

static const char DRIVER[] =
    "local json = require 'srm.json'\n"
    "local ifeval = require 'srm.ifeval'\n"
    "local function check(s, depth)\n"
    "  local v, err, code = json.decode(s, depth)\n"
    "  if v == nil then\n"
    "    assert(type(err) == 'string' and code == 'BAD_JSON', 'decode failed without BAD_JSON')\n"
    "    return\n"
    "  end\n"
    "  local ok, enc = pcall(json.encode, v)\n"
    "  if not ok then\n"
    "    local m = tostring(enc)\n"
    "    assert(m:find('nested deeper than 100', 1, true) or m:find('infinite', 1, true),\n"
    "      'encode failed: ' .. m)\n"
    "    return\n"
    "  end\n"
    "  local v2, err2 = json.decode(enc)\n"
    "  assert(v2 ~= nil, 'encoded text does not decode: ' .. tostring(err2))\n"
    "  local enc2 = json.encode(v2)\n"
    "  assert(enc2 == enc, 'round trip changed the text:\\n' .. enc .. '\\n' .. enc2)\n"
    "end\n"
    "return function(s)\n"
    "  check(s)\n"
    "  if #s > 0 then check(s:sub(2), s:byte(1) % 8 + 1) end\n"
    "  ifeval.json_valid(s)\n"
    "end\n";

static struct fuzz_lua fuzz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_lua_init(&fuzz, "=fuzz_json", DRIVER);
  fuzz_lua_run(&fuzz, data, size);
  return 0;
}
