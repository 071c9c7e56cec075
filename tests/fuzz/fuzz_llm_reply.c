/* srm fuzzing: parsing an HTTP reply body from a model server (stdlib/srm/llm.lua: json.decode
** of the body, the one re-send of a non-JSON reply, the chat-completion shape checks, usage
** accounting). srm.transport is replaced by a stand-in whose post() returns the input as the
** reply body (as lsrm_transport.c hands a 2xx body to Lua) or, when byte 0 says so, as the body
** of a failed call (HTTP_4XX 400, the path that looks for a refused chat_template_kwargs); the
** rest of llm.lua is the real module. srm's transport does not stream (no SSE), so the body is
** the whole reply. Properties: llm.chat never raises on the reply; it returns a reply whose
** fields have their documented types, or nil, message, code. */
#include "fuzz_common.h"

static const char DRIVER[] =
    "local reply_body, as_error = '', false\n"
    "local fake = {}\n"
    "function fake.configure() end\n"
    "function fake.stats() return {} end\n"
    "function fake.post(reqs)\n"
    "  local out = {}\n"
    "  for i in ipairs(reqs) do\n"
    "    if as_error then\n"
    "      out[i] = { attempts = 1, status = 400, endpoint = 'http://fuzz/v1', latency_ms = 1,\n"
    "        error = 'HTTP 400', code = 'HTTP_4XX', body = reply_body }\n"
    "    else\n"
    "      out[i] = { attempts = 1, status = 200, endpoint = 'http://fuzz/v1', latency_ms = 1,\n"
    "        body = reply_body }\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "package.loaded['srm.transport'] = fake\n"
    "package.loaded['srm.llm'] = nil\n"
    "local llm = require 'srm.llm'\n"
    "llm.configure { endpoints = { 'http://fuzz/v1' }, model = 'm', retries = 0,\n"
    "  chat_template_kwargs = { enable_thinking = false } }\n"
    "local json = require 'srm.json'\n"
    "local function opt(v, t) return v == nil or type(v) == t end\n"
    "return function(s)\n"
    "  as_error = (s:byte(1) or 0) % 8 == 7\n"
    "  reply_body = s:sub(2)\n"
    "  local r, err, code = llm.chat { messages = { { role = 'user', content = 'hi' } } }\n"
    "  if not r then\n"
    "    assert(type(err) == 'string' and type(code) == 'string', 'bad failure triple')\n"
    "    return\n"
    "  end\n"
    "  assert(math.type(r.usage.prompt_tokens) == 'integer', 'prompt_tokens')\n"
    "  assert(math.type(r.usage.completion_tokens) == 'integer', 'completion_tokens')\n"
    "  assert(r.content ~= json.null and r.reasoning ~= json.null and r.tool_calls ~= json.null)\n"
    "  assert(opt(r.endpoint, 'string') and type(r.cached) == 'boolean')\n"
    "  local replies = llm.batch { { messages = { { role = 'user', content = 'a' } } },\n"
    "    { messages = { { role = 'user', content = 'b' } }, max_tokens = 5 } }\n"
    "  assert(#replies == 2, 'batch lost a reply')\n"
    "end\n";

static struct fuzz_lua fuzz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_lua_init(&fuzz, "=fuzz_llm_reply", DRIVER);
  fuzz_lua_run(&fuzz, data, size);
  return 0;
}
