-- Containment cases through `srm run`: each record names a program; the evidence runs it in the
-- sandbox and reports the sandbox's verdict. Used by tests/cli/test_code_sandbox.lua.
local srm = require "srm"

local PROGRAMS = {
  normal = { src = "print(6 * 7)" },
  fork_bomb = { src = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    timeout = 2, nproc = 32 },
  infinite_loop = { src = "while True:\n    pass\n", cpu_s = 1 },
  allocate_4gib = { src = "x = bytearray(4 << 30)\nprint('allocated')", memory_mb = 256 },
  output_100mb = { src = "import sys\nc = 'x' * 65536\nfor _ in range(1600):\n    sys.stdout.write(c)\n" },
  write_outside = { src = "import os\ntry:\n    open('/tmp/srm-cli-escape', 'w').write('x')\n    print('WROTE')\n"
    .. "except OSError as e:\n    print('denied')\n" },
  environment = { src = "import os\nprint(os.environ.get('SRM_SECRET', 'none'))\n"
    .. "try:\n    print(open('/proc/%d/environ' % os.getppid(), 'rb').read())\nexcept OSError:\n    print('hidden')\n" },
  connect = { src = "import socket, sys\ntry:\n    socket.create_connection(('127.0.0.1', int(sys.argv[1])), 2)\n"
    .. "    print('CONNECTED')\nexcept OSError:\n    print('refused')\n" },
  sleep_forever = { cmd = { "sleep", "31337" }, timeout = 60 },
}

return srm.skill {
  name = "code_cases",
  evidence = {
    sandbox = function(record)
      local p = PROGRAMS[record.case]
      local cmd = p.cmd or { "python3", "-I", "main.py", tostring(record.port or 0) }
      local r = srm.code.run { cmd = cmd, files = { ["main.py"] = p.src or "" },
        timeout = p.timeout or 10, cpu_s = p.cpu_s, memory_mb = p.memory_mb, nproc = p.nproc }
      if r.status ~= "ok" then return { status = r.status, reason = r.reason, detail = { message = r.message } } end
      return { score = r.stdout == record.expect and 1 or 0, detail = { stdout = r.stdout:sub(1, 200) } }
    end,
  },
  policy = "sandbox",
}
