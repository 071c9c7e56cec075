-- srm.json: cjson decoding with the integer/array post-pass, and the deterministic C encoder.
local T = dofile("tests/lua/testlib.lua")
local json = require "srm.json"

local function bad_json(s, what)
  local v, msg, code = json.decode(s)
  T.eq(v, nil, what .. ": value")
  T.eq(type(msg), "string", what .. ": message type")
  T.truthy(#msg > 0, what .. ": message is not empty")
  T.eq(code, "BAD_JSON", what .. ": code")
  return msg
end

T.case("round trips of compact documents are byte-identical", function()
  for _, s in ipairs {
    '{"a":[1,2,3],"b":{"c":null,"d":true,"e":false},"f":"x"}',
    '[1,-2,3.5,"s",null,[],{}]',
    '{"":0,"a":{"b":{"c":{"d":[[[1]]]}}}}',
    '[{"k":1.25},{"k":-0.5}]',
    '"just a string"',
    '42',
    'true',
    'null',
  } do
    local v = json.decode(s)
    T.eq(json.encode(v), s, s)
  end
end)

T.case("integers survive decoding and re-encoding", function()
  local v = json.decode('{"id": 12345678901234}')
  T.eq(math.type(v.id), "integer", "type of id")
  T.eq(v.id, 12345678901234, "id")
  T.eq(json.encode(v), '{"id":12345678901234}')
  local big = json.decode("[9007199254740992, -9007199254740992, 123456789012345]")
  T.eq(math.type(big[1]), "integer", "2^53 type")
  T.eq(big[1], 9007199254740992, "2^53")
  T.eq(big[2], -9007199254740992, "-2^53")
  T.eq(json.encode(big), "[9007199254740992,-9007199254740992,123456789012345]")
  -- integers beyond 2^53 stay exact (ids from other systems); beyond 64 bits they are floats
  T.eq(json.decode("18014398509481985"), 18014398509481985, "2^54 + 1")
  T.eq(json.decode("9223372036854775807"), math.maxinteger, "maxinteger")
  T.eq(json.decode("-9223372036854775808"), math.mininteger, "mininteger")
  T.eq(math.type(json.decode("9223372036854775808")), "float", "2^63 is a float")
  T.eq(json.decode("9223372036854775808"), 2^63, "2^63 value")
  T.eq(math.type(json.decode("-0")), "float", "-0 is a float")
  T.eq(math.type(json.decode("1e300")), "float", "1e300")
  T.eq(json.decode("1e3"), 1000, "1e3")
  T.eq(math.type(json.decode("1e3")), "integer", "1e3 is integral")
  T.eq(json.encode(math.maxinteger), "9223372036854775807")
  T.eq(json.encode(math.mininteger), "-9223372036854775808")
  T.eq(json.encode(0), "0")
  T.eq(json.encode(-7), "-7")
end)

T.case("integral floats print with .0 and decode to integers", function()
  T.eq(json.encode(1.0), "1.0")
  T.eq(json.encode(-3.0), "-3.0")
  T.eq(json.encode(2.0 ^ 53), "9007199254740992.0")
  T.eq(json.encode(1e15), "1000000000000000.0")
  T.eq(json.encode(2.0 ^ 53 + 2), "9007199254740994.0") -- beyond 2^53: still marked as a float
  local one = json.decode("1.0")
  T.eq(math.type(one), "integer", "1.0 decodes as an integer")
  T.eq(one, 1)
  T.eq(math.type(json.decode("1.5")), "float", "1.5 stays a float")
  local nested = json.decode('[1.0, {"a": [2.0, 2.5, 3e2]}]')
  T.eq(math.type(nested[1]), "integer", "array element")
  T.eq(math.type(nested[2].a[1]), "integer", "nested array element")
  T.eq(math.type(nested[2].a[2]), "float", "nested non-integral")
  T.eq(math.type(nested[2].a[3]), "integer", "3e2")
  T.eq(json.encode(nested), '[1,{"a":[2,2.5,300]}]')
  T.eq(math.type(json.decode('{"x": 7.0}').x), "integer", "object value")
end)

T.case("floats use the shortest text that round-trips", function()
  local cases = {
    {0.1, "0.1"}, {1e300, "1e+300"}, {-0.0, "-0.0"}, {5e-324, "5e-324"},
    {1 / 3, "0.3333333333333333"}, {0.1 + 0.2, "0.30000000000000004"},
    {1e16, "1e+16"}, {1e-7, "1e-07"}, {123.456, "123.456"}, {-1.5, "-1.5"},
    {math.pi, "3.141592653589793"}, {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
  }
  for _, c in ipairs(cases) do
    local text = json.encode(c[1])
    T.eq(text, c[2], "encode " .. c[2])
    local back = json.decode(text)
    T.eq(math.type(back), "float", "decode " .. c[2] .. " type")
    T.eq(back, c[1], "decode " .. c[2])
  end
  T.eq(1 / json.decode("-0.0"), -math.huge, "-0.0 keeps its sign")
  T.eq(json.encode(json.decode("-0.0")), "-0.0")
end)

T.case("short decimals (the fast path) print exactly as the shortest round-trip search", function()
  -- The definition, in Lua: the shortest of %.15g, %.16g, %.17g that reads back, ".0" added
  -- when the text has neither a point nor an exponent.
  local function reference(d)
    local s
    for prec = 15, 17 do
      s = string.format("%." .. prec .. "g", d)
      if tonumber(s) == d then break end
    end
    if not s:find("[.e]") then s = s .. ".0" end
    return s
  end
  math.randomseed(7)
  local checked = 0
  local function check(d)
    if d ~= math.floor(d) then
      T.eq(json.encode(d), reference(d), string.format("%.17g", d))
      checked = checked + 1
    end
  end
  for _, d in ipairs { 0.0001, 0.00012, 0.5, 0.75, 21.3, -21.3, 1.25, 99.99, 123456.789,
    99999999999999.9, 999999999999999.9, 0.1 + 0.2, 1 / 3, 1e-4 * 1.5, 9.5e-5, 0.000999999 } do
    check(d)
  end
  for _ = 1, 20000 do
    local places = math.random(1, 7)
    local digits = math.random(1, 15)
    local m = math.random(0, 10 ^ math.min(digits, 9) - 1) * 10 ^ math.max(0, digits - 9)
    local d = m / 10 ^ places
    if math.random() < 0.5 then d = -d end
    check(d)
    check(math.random() * 10 ^ math.random(-6, 16))
  end
  T.truthy(checked > 30000, "values checked")
end)

T.case("object keys are sorted bytewise, whatever the insertion order", function()
  local keys = {"b", "a", "B", "aa", "a\0b", "", "\xc3\xa9", "z", "10", "9", "_"}
  local t1, t2 = {}, {}
  for i, k in ipairs(keys) do t1[k] = i end
  for i = #keys, 1, -1 do t2[keys[i]] = i end
  local want = '{"":6,"10":9,"9":10,"B":3,"_":11,"a":2,"a\\u0000b":5,"aa":4,"b":1,"z":8,"\xc3\xa9":7}'
  T.eq(json.encode(t1), want, "forward insertion")
  T.eq(json.encode(t2), want, "reverse insertion")
  local big1, big2 = {}, {}
  for i = 1, 500 do big1["k" .. i] = i end
  for i = 500, 1, -1 do big2["k" .. i] = i end
  T.eq(json.encode(big1), json.encode(big2), "500 keys")
  T.truthy(json.encode(big1):find('^{"k1":1,"k10":10,"k100":100,"k101":101,'), "sorted prefix")
end)

T.case("number keys become strings in objects", function()
  T.eq(json.encode({[1] = "a", [3] = "c"}), '{"1":"a","3":"c"}', "sparse")
  T.eq(json.encode({[10] = 1, [2] = 2, [-1] = 3}), '{"-1":3,"10":1,"2":2}', "negative")
  T.eq(json.encode({[1.5] = true, x = 1}), '{"1.5":true,"x":1}', "float key")
  T.eq(json.encode({1, 2, x = 3}), '{"1":1,"2":2,"x":3}', "mixed table")
  T.eq(json.encode({[0] = "z", "a"}), '{"0":"z","1":"a"}', "zero key")
end)

T.case("nested arrays and objects", function()
  local v = {list = {{1, 2}, {3, {4, {5}}}}, obj = {a = {b = {c = "deep"}}}, mixed = {{x = 1}, {}}}
  local s = json.encode(v)
  T.eq(s, '{"list":[[1,2],[3,[4,[5]]]],"mixed":[{"x":1},{}],"obj":{"a":{"b":{"c":"deep"}}}}')
  T.eq(json.encode(json.decode(s)), s, "round trip")
end)

T.case("empty arrays and objects", function()
  T.eq(json.encode(json.empty_array), "[]", "empty_array")
  T.eq(json.encode({}), "{}", "plain empty table")
  T.eq(json.encode(json.array()), "[]", "json.array()")
  local t = {}
  T.eq(json.array(t), t, "json.array returns its argument")
  T.eq(json.encode(t), "[]", "marked empty table")
  T.eq(json.encode({a = json.empty_array, b = {}}), '{"a":[],"b":{}}', "inside an object")
  T.eq(json.encode({a = json.empty_array}, {indent = 2}), '{\n  "a": []\n}', "pretty")
  T.eq(json.encode(json.array({1, 2})), "[1,2]", "marked non-empty")
  T.eq(next(json.empty_array), nil, "empty_array is empty")
end)

T.case("json.empty_array and json.array_mt are guarded", function()
  T.raises(function() json.empty_array[1] = 1 end, "read-only", "assigning into empty_array")
  T.raises(function() json.empty_array.x = 1 end, "read-only", "field of empty_array")
  T.raises(function() table.insert(json.empty_array, 1) end, "read-only", "table.insert")
  T.raises(function() setmetatable(json.empty_array, nil) end, "protected", "setmetatable")
  T.eq(next(json.empty_array), nil, "still empty")
  T.eq(getmetatable(json.empty_array), json.array_mt, "reports array_mt")
  T.eq(json.array(json.empty_array), json.empty_array, "json.array leaves it alone")
  T.raises(function() json.empty_array[1] = 1 end, "read-only", "still guarded after json.array")
  T.raises(function() json.array_mt.__index = {} end, "read-only", "array_mt")
  T.eq(rawget(json.array_mt, "__index"), nil, "array_mt unchanged")
  T.raises(function() json.array(setmetatable({}, {})) end, "already has a metatable")
  T.raises(function() json.array(5) end, "table expected")
end)

T.case("decoded arrays keep their kind", function()
  local v = json.decode('{"one":[7],"many":[1,2,3],"objs":[{"a":1}],"o":{"1":2}}')
  T.eq(getmetatable(v.one), json.array_mt, "marker on [7]")
  T.eq(getmetatable(v.o), nil, "no marker on an object")
  T.eq(getmetatable(v), nil, "no marker on the top object")
  T.eq(json.encode(v), '{"many":[1,2,3],"o":{"1":2},"objs":[{"a":1}],"one":[7]}')
  T.eq(json.is_array(v.many), true, "is_array decoded")
  T.eq(json.is_array(v.o), false, "is_array object")
  -- an array emptied by the skill stays an array
  v.one[1] = nil
  T.eq(json.encode(v.one), "[]", "emptied array")
  table.insert(v.many, 4)
  T.eq(json.encode(v.many), "[1,2,3,4]", "appended array")
  -- empty JSON arrays stay arrays, and can be filled
  local e = json.decode('{"e":[]}')
  T.eq(json.encode(e), '{"e":[]}', "empty array")
  T.eq(json.is_array(e.e), true, "empty array is_array")
  e.e[1] = "x"
  T.eq(json.encode(e), '{"e":["x"]}', "filled empty array")
end)

T.case("is_array", function()
  T.eq(json.is_array({1, 2}), true, "sequence")
  T.eq(json.is_array({}), false, "empty table")
  T.eq(json.is_array(json.empty_array), true, "empty_array")
  T.eq(json.is_array(json.array({})), true, "marked")
  T.eq(json.is_array({1, 2, x = 1}), false, "mixed")
  T.eq(json.is_array({[2] = 1}), false, "hole")
  T.eq(json.is_array("x"), false, "string")
  T.eq(json.is_array(nil), false, "nil")
end)

T.case("invalid JSON returns nil, message, BAD_JSON", function()
  bad_json('{"a": [1, 2', "truncated")
  bad_json('"unterminated', "unterminated string")
  bad_json('[1] x', "trailing garbage")
  bad_json('{"a":1}}', "extra brace")
  bad_json("hello", "bare word")
  bad_json("nan", "nan")
  bad_json("Infinity", "Infinity")
  bad_json("0x10", "hex")
  bad_json("", "empty input")
  bad_json("[1,]", "trailing comma")
  bad_json("{'a':1}", "single quotes")
  bad_json("[1]\0garbage", "NUL byte")
  bad_json('"a\nb"', "raw control character in a string")
  bad_json('"\\x"', "unknown escape")
  bad_json('"\\u12"', "short \\u escape")
  bad_json("01", "leading zero")
  bad_json("1.", "no digits after the point")
  bad_json("-", "lone minus")
  bad_json("1e", "no exponent digits")
  bad_json("tru", "truncated literal")
  bad_json('{"a" 1}', "missing colon")
  bad_json('{1:2}', "number key")
  bad_json("[1 2]", "missing comma")
  bad_json(string.rep("1", 600), "600-digit number")
  local msg = bad_json(string.rep("[", 100000), "array depth bomb")
  T.truthy(msg:find("nesting deeper than the limit at character 1001", 1, true), "depth message: " .. msg)
  bad_json(string.rep('{"a":', 100000), "object depth bomb")
  bad_json(string.rep("[", 1001) .. string.rep("]", 1001), "1001 deep")
  local ok = json.decode(string.rep("[", 1000) .. "1" .. string.rep("]", 1000))
  T.eq(type(ok), "table", "1000 deep is allowed")
  T.raises(function() json.decode(42) end, "string expected", "number argument")
  T.raises(function() json.decode(nil) end, "string expected", "nil argument")
end)

T.case("max_depth argument", function()
  local v, _, code = json.decode("[[1]]", 1)
  T.eq(v, nil, "depth 1")
  T.eq(code, "BAD_JSON", "depth 1 code")
  T.eq(json.encode(json.decode("[[1]]", 2)), "[[1]]", "depth 2")
  -- the default comes back on the next call without the argument
  T.eq(type(json.decode(string.rep("[", 1000) .. string.rep("]", 1000))), "table", "default")
  local deep = string.rep("[", 5000) .. string.rep("]", 5000)
  T.eq(json.decode(deep), nil, "5000 deep over the default")
  T.eq(type(json.decode(deep, 5000)), "table", "5000 deep with max_depth")
  T.raises(function() json.decode("1", 0) end, "max_depth", "zero")
  T.raises(function() json.decode("1", 10001) end, "max_depth", "too large")
end)

T.case("strings: escapes, control characters, UTF-8", function()
  T.eq(json.encode('a"b\\c/d'), '"a\\"b\\\\c/d"', "quote, backslash, slash")
  T.eq(json.encode("\b\f\n\r\t"), '"\\b\\f\\n\\r\\t"', "short escapes")
  T.eq(json.encode("\0\1\x1f\x7f"), '"\\u0000\\u0001\\u001f\x7f"', "other control characters")
  local all = {}
  for c = 0, 31 do all[#all + 1] = string.char(c) end
  local enc = json.encode(table.concat(all))
  T.eq(json.decode(enc), table.concat(all), "every control character round-trips")
  T.eq(enc:find("[%z\1-\31]"), nil, "no raw control character in the output")
  local text = "h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xe2\x80\xa8"
  T.eq(json.encode(text), '"' .. text .. '"', "valid UTF-8 passes through")
  T.eq(json.decode('"\\u00e9\\ud83d\\ude00"'), "\xc3\xa9\xf0\x9f\x98\x80", "decoded escapes")
  T.eq(json.decode('"a\\ud83dz"'), "a\xef\xbf\xbdz", "lone high surrogate -> U+FFFD")
  T.eq(json.decode('"\\ude00"'), "\xef\xbf\xbd", "lone low surrogate -> U+FFFD")
  T.eq(json.decode('"\\/\\b\\f\\n\\r\\t\\"\\\\"'), '/\b\f\n\r\t"\\', "simple escapes")
  T.eq(json.decode('"plain \xc3\xa9 text"'), "plain \xc3\xa9 text", "UTF-8 passes through")
  T.eq(json.decode('"a\xffb"'), "a\xef\xbf\xbdb", "an ill-formed byte becomes U+FFFD")
  T.eq(json.decode('"\xe6\x97"'), "\xef\xbf\xbd", "a truncated sequence becomes one U+FFFD")
  T.eq(json.decode('"x\\n\xc0\xafy"'), "x\n\xef\xbf\xbd\xef\xbf\xbdy", "after an escape too")
  -- keys too, so sorting by key is the same before and after a round trip (found by fuzzing)
  local doc = json.decode('{"k\xff":1,"k~":2}')
  T.eq(doc["k\xef\xbf\xbd"], 1, "repaired key")
  local once = json.encode(doc)
  T.eq(json.encode(json.decode(once)), once, "encode(decode(encode(x))) is stable")
end)

T.case("invalid UTF-8 becomes U+FFFD", function()
  local R = "\xef\xbf\xbd"
  local cases = {
    {"\xff", R}, {"a\x80b", "a" .. R .. "b"}, {"\xc3", R}, {"\xc3(", R .. "("},
    {"\xe2\x82", R}, {"\xe2\x82\xac", "\xe2\x82\xac"}, {"\xc0\xaf", R .. R},
    {"\xed\xa0\x80", R .. R .. R}, {"\xf4\x90\x80\x80", R .. R .. R .. R},
    {"\xf0\x9f\x98", R}, {"\xf0\x9f\x98\x80\xf0", "\xf0\x9f\x98\x80" .. R},
  }
  for i, c in ipairs(cases) do
    local out = json.encode(c[1])
    T.eq(out, '"' .. c[2] .. '"', "case " .. i)
    T.truthy(utf8.len(out), "valid UTF-8 output, case " .. i)
  end
  T.eq(json.encode({["k\xff"] = 1}), '{"k' .. R .. '":1}', "object key")
  local junk = {}
  for i = 0, 255 do junk[#junk + 1] = string.char(i, 255 - i, (i * 7) % 256) end
  local out = json.encode(table.concat(junk))
  T.truthy(utf8.len(out), "random bytes give valid UTF-8")
  T.eq(type(json.decode(out)), "string", "and valid JSON")
end)

T.case("cycles and depth raise with a path", function()
  local t = {}
  t.x = {y = t}
  local err = T.raises(function() json.encode(t) end,
    "srm.json.encode: cycle (a table contains itself) at $.x.y", "object cycle")
  T.eq(err:match(" at (%S+)$"), "$.x.y", "the message ends with the path")
  local a = {}
  a[1] = {2, a}
  T.raises(function() json.encode(a) end, "cycle (a table contains itself) at $[1][2]", "array")
  local shared = {1}
  T.eq(json.encode({shared, shared}), "[[1],[1]]", "a shared table is not a cycle")
  local deep = {}
  local cur = deep
  for _ = 2, 100 do cur.n = {} cur = cur.n end
  T.truthy(json.encode(deep), "100 levels")
  cur.n = {}
  T.raises(function() json.encode(deep) end, "nested deeper than 100 at $.n.n", "101 levels")
end)

T.case("values JSON cannot hold raise with a path", function()
  local err = T.raises(function() json.encode({a = {b = {print}}}) end,
    "srm.json.encode: cannot encode a function at $.a.b[1]", "function")
  T.eq(err:match(" at (%S+)$"), "$.a.b[1]", "the message ends with the path")
  T.raises(function() json.encode({co = coroutine.create(print)}) end, "cannot encode a thread at $.co")
  T.raises(function() json.encode(io.stdout) end, "cannot encode a userdata at $")
  T.raises(function() json.encode({[true] = 1}) end, "cannot encode a boolean key at $")
  T.raises(function() json.encode({x = {[{}] = 1}}) end, "cannot encode a table key at $.x")
  T.raises(function() json.encode({[1] = "a", ["1"] = "b"}) end, 'duplicate key "1"')
  T.raises(function() json.encode(json.array({1, x = 2})) end, "keys other than 1..n at $")
  T.raises(function() json.encode({["a b"] = {1, print}}) end, 'function at $["a b"][2]')
  T.raises(function() json.encode({[7] = {print}, [9] = 1}) end, "function at $[\"7\"][1]")
end)

T.case("NaN and infinities", function()
  T.raises(function() json.encode({v = 0 / 0}) end, "srm.json.encode: cannot encode NaN at $.v")
  T.raises(function() json.encode({math.huge}) end, "infinite number at $[1]")
  T.raises(function() json.encode(-math.huge) end, "infinite number at $")
  T.eq(json.encode({v = 0 / 0, w = 1}, {nan_as_null = true}), '{"v":null,"w":1}')
  T.eq(json.encode({math.huge, -math.huge}, {nan_as_null = true}), "[null,null]")
  T.eq(json.encode(0 / 0, {nan_as_null = true}), "null")
end)

T.case("pretty printing", function()
  local v = {name = "srm", tags = {"a", "b"}, meta = {n = 1, empty = {}, none = json.empty_array}}
  local want = table.concat({
    '{',
    '  "meta": {',
    '    "empty": {},',
    '    "n": 1,',
    '    "none": []',
    '  },',
    '  "name": "srm",',
    '  "tags": [',
    '    "a",',
    '    "b"',
    '  ]',
    '}',
  }, "\n")
  T.eq(json.encode(v, {indent = 2}), want, "indent 2")
  T.eq(json.encode({1, {2}}, {indent = 0}), "[\n1,\n[\n2\n]\n]", "indent 0")
  T.eq(json.encode({a = 1}, {indent = 4}), '{\n    "a": 1\n}', "indent 4")
  T.eq(json.encode(5, {indent = 2}), "5", "scalar")
end)

T.case("options are checked", function()
  T.raises(function() json.encode({}, {indnet = 2}) end, "unknown option 'indnet'")
  T.raises(function() json.encode({}, {indent = -1}) end, "indent must be")
  T.raises(function() json.encode({}, {indent = 1.5}) end, "indent must be")
  T.raises(function() json.encode({}, {nan_as_null = 1}) end, "nan_as_null must be a boolean")
  T.raises(function() json.encode({}, "x") end, "table expected")
  T.raises(function() json.encode() end, "value expected")
end)

T.case("null and scalars", function()
  T.eq(json.decode("null"), json.null, "null sentinel")
  T.eq(json.encode(json.null), "null")
  T.eq(json.encode(nil), "null")
  T.eq(json.encode({a = json.null}), '{"a":null}')
  local v = json.decode('[null, 1]')
  T.eq(v[1], json.null, "null in an array")
  T.eq(json.encode(v), "[null,1]")
  T.eq(json.encode(true), "true")
  T.eq(json.encode(false), "false")
  T.eq(math.type(json.decode("5")), "integer", "top-level integer")
  T.eq(json.decode('"x"'), "x", "top-level string")
end)

T.case("large values grow and reuse the scratch buffers", function()
  local arr = {}
  for i = 1, 100000 do arr[i] = i * 3 end
  local s = json.encode(arr)
  T.eq(#s, #table.concat(arr, ",") + 2, "length")
  local back = json.decode(s)
  T.eq(#back, 100000, "count")
  T.eq(back[100000], 300000, "last")
  T.eq(math.type(back[5]), "integer", "integers")
  local obj = {}
  for i = 1, 20000 do obj[string.format("key%05d", 20001 - i)] = {i} end
  local os_ = json.encode(obj)
  T.truthy(os_:find('^{"key00001":%[20000%],"key00002":%[19999%],'), "sorted big object")
  local huge = string.rep("x\n", 1500000) -- 3 MB in, 4.5 MB out: past the keep threshold
  T.eq(#json.encode(huge), 4500002, "huge string")
  T.eq(json.encode({1, "two"}), '[1,"two"]', "small value after a huge one")
end)

T.case("strings: a special byte at every position around the 16-byte scan blocks", function()
  for len = 1, 40 do
    for pos = 1, len do
      for _, special in ipairs { '"', "\\", "\n", "\1", "\xc3\xa9", "\xff", "\x7f" } do
        local s = string.rep("a", pos - 1) .. special .. string.rep("b", len - pos)
        local enc = json.encode(s)
        local want = special == "\xff" and (string.rep("a", pos - 1) .. "\xef\xbf\xbd" .. string.rep("b", len - pos)) or s
        T.eq(json.decode(enc), want, ("len %d pos %d byte %q"):format(len, pos, special))
      end
    end
  end
end)

T.done()
