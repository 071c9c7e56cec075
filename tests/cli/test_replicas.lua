-- Scale-out (docs/deploy.md): two `srm serve` replicas behind nginx on loopback; one replica is
-- stopped (SIGTERM) in the middle of the load and no request is lost: its in-flight requests
-- finish, and nginx sends new ones to the other replica.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local json = require "srm.json"

if not os.execute("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx") then
  print("SKIPPED: nginx is not installed (Debian package nginx-light)")
  os.exit(77)
end
local nginx_bin = os.execute("test -x /usr/sbin/nginx") and "/usr/sbin/nginx" or "nginx"

local dir = C.tmpdir("replicas")
local skill = C.write(dir .. "/equal.lua", [[
local srm = require "srm"
return srm.skill {
  name = "equal",
  evidence = { same = function(r) srm.sleep(0.002) return r.response == r.label end },
  policy = "same",
}
]])

local function start_replica()
  local url, h = C.serve({ skill }, dir)
  return h, url:match(":(%d+)$")
end

local function free_port()
  local p = assert(io.popen([[/usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"]]))
  local port = p:read("l")
  p:close()
  return port
end

T.case("stopping one replica mid-load loses no request", function()
  local a, port_a = start_replica()
  local b, port_b = start_replica()
  local port = free_port()
  local conf = C.write(dir .. "/nginx.conf", ([[
daemon off;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/nginx.error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %s/body;
  proxy_temp_path %s/proxy;
  fastcgi_temp_path %s/fastcgi;
  uwsgi_temp_path %s/uwsgi;
  scgi_temp_path %s/scgi;
  upstream srm {
    server 127.0.0.1:%s max_fails=1 fail_timeout=10s;
    server 127.0.0.1:%s max_fails=1 fail_timeout=10s;
  }
  server {
    listen 127.0.0.1:%s;
    location / {
      proxy_pass http://srm;
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 2;
    }
  }
}
]]):format(dir, dir, dir, dir, dir, dir, dir, port_a, port_b, port))
  os.execute(nginx_bin .. " -c " .. C.quote(conf) .. " -p " .. C.quote(dir) .. " >" .. C.quote(dir .. "/nginx.out") .. " 2>&1 &")
  local up = false
  for _ = 1, 100 do
    if os.execute("/usr/bin/python3 tests/cli/http_client.py GET http://127.0.0.1:" .. port .. "/healthz >/dev/null 2>&1") then
      up = true
      break
    end
    os.execute("sleep 0.05")
  end
  T.truthy(up, "nginx is up: " .. (C.read(dir .. "/nginx.error.log") or ""))
  local p = assert(io.popen("/usr/bin/python3 tests/cli/load_client.py http://127.0.0.1:" .. port
    .. " 600 8 " .. a:pid() .. " 150"))
  local out = p:read("a")
  p:close()
  local r = json.decode(out)
  T.truthy(r, "load client output: " .. out)
  T.eq(r.killed, true, "replica A was stopped mid-load")
  T.eq({ r.ok, r.failed }, { 600, 0 }, "every request answered: " .. out)
  local code = a:wait(10)
  T.eq(code, 0, "replica A drained and exited cleanly")
  os.execute("kill $(cat " .. C.quote(dir .. "/nginx.pid") .. ") 2>/dev/null")
  b:kill("TERM")
  T.eq((b:wait(10)), 0, "replica B")
end)

T.done()
