-- bench/run_workers.sh: a CPU-bound rule skill (a dozen regex checks per record) for measuring
-- how --workers scales.
local srm = require "srm"
local checks = {}
local patterns = {
  [=[\b(\w+)\s+\1\b]=], [=[\d+\s*[*x]\s*\d+\s*=\s*\d+]=], [=[(?i)\b(?:total|sum|altogether)\b]=],
  [=[[A-Z][a-z]+\s+(?:has|buys|gives)]=], [=[\$\s?\d+(?:\.\d\d)?]=], [=[(?:\d{1,3},)+\d{3}]=],
  [=[\b(?:then|so|therefore)\b.*\d]=], [=[[.!?]\s+[A-Z]]=], [=[(\w)\1{2,}]=], [=[\b\w{12,}\b]=],
  [=[####\s*-?\d+]=], [=[^\s*$]=],
}
for i, p in ipairs(patterns) do
  checks["p" .. i] = srm.rule.regex { field = "response", pattern = p }
end
return srm.skill {
  name = "regex_heavy",
  evidence = checks,
  policy = srm.policy.mean { "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11", "p12" },
}
