-- srm.report.svg: the inline SVG plots of `srm report` and `srm diff` (no script, no external
-- resources; every text is escaped, so row contents cannot inject markup). Trusted host code.
--
--   V.esc(s)                         text for HTML/SVG: &<>"' escaped, invalid UTF-8 bytes as '?'
--   V.fmt(x)                         a short number: integers as they are, else 3 significant digits
--   V.histogram(h, opts)             h: {bins, below, above, lo, hi}; vertical bars
--   V.hbars(items, opts)             items: {{label=, count=}}; labelled horizontal bars
--   V.scatter(points, opts)          points: {{x, y, group}}; opts.groups orders the legend;
--                                    opts.lines: trend polylines {{points = {{x, y}}, group}}
--   V.PALETTE                        series colours
local V = {}

V.PALETTE = { "#3b6fb6", "#e07b39", "#4a9b5b", "#b8474d", "#7d5ba6", "#8c6d46", "#c75fa5",
  "#6b6b6b", "#a8a832", "#2fa3b5", "#5c7c3a", "#9c3d78" }

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

-- Escaped text; a string that is not valid UTF-8 has its bytes >= 0x80 replaced by '?', and
-- control characters other than tab and newline are dropped.
function V.esc(s)
  s = tostring(s)
  if utf8.len(s) == nil then s = s:gsub("[\128-\255]", "?") end
  s = s:gsub("[%z\1-\8\11\12\14-\31\127]", "")
  return (s:gsub("[&<>\"']", ESC))
end

function V.fmt(x)
  if x == nil then return "–" end
  if math.type(x) == "integer" then return tostring(x) end
  if x ~= x then return "nan" end
  local a = math.abs(x)
  if x == math.floor(x) and a < 1e15 then return string.format("%d", x) end
  if a >= 1e15 then return string.format("%.3g", x) end
  if a >= 100 then return string.format("%.0f", x) end
  if a >= 10 then return string.format("%.1f", x) end
  return string.format("%.3g", x)
end

local function n2(x) -- coordinates: one decimal is plenty
  return string.format("%.1f", x)
end

local function open_svg(w, h, label)
  return { string.format('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" '
    .. 'height="%d" role="img" aria-label="%s">', w, h, w, h, V.esc(label or "plot")) }
end

local function text(out, x, y, s, anchor, cls)
  out[#out + 1] = string.format('<text x="%s" y="%s"%s%s>%s</text>', n2(x), n2(y),
    anchor and (' text-anchor="' .. anchor .. '"') or "", cls and (' class="' .. cls .. '"') or "",
    V.esc(s))
end

-- Nice tick values covering [lo, hi] (about n of them).
function V.ticks(lo, hi, n)
  if hi <= lo then return { lo } end
  local raw = (hi - lo) / (n or 5)
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local step = mag
  for _, m in ipairs({ 1, 2, 2.5, 5, 10 }) do
    if raw <= m * mag + 1e-12 then step = m * mag; break end
  end
  local list = {}
  local t = math.ceil(lo / step - 1e-9) * step
  while t <= hi + step * 1e-9 and #list < 50 do
    list[#list + 1] = math.abs(t) < step * 1e-9 and 0 or t
    t = t + step
  end
  return list
end

-- histogram(h, {width, height, color, title, xlabel}): one bar per bin, plus a bar for values
-- below and above the range when there are any. Each bar has a tooltip with its range and count.
function V.histogram(h, opts)
  opts = opts or {}
  local W, H = opts.width or 360, opts.height or 150
  local ml, mr, mt, mb = 36, 8, 14, 30
  local extra = {}
  if h.below > 0 then extra[#extra + 1] = { label = "<" .. V.fmt(h.lo), count = h.below, first = true } end
  if h.above > 0 then extra[#extra + 1] = { label = ">" .. V.fmt(h.hi), count = h.above } end
  local nb = #h.bins + #extra
  local max = 0
  for _, c in ipairs(h.bins) do if c > max then max = c end end
  for _, e in ipairs(extra) do if e.count > max then max = e.count end end
  local out = open_svg(W, H, opts.title or "histogram")
  local pw, ph = W - ml - mr, H - mt - mb
  local bw = pw / math.max(nb, 1)
  out[#out + 1] = string.format('<line x1="%d" y1="%d" x2="%d" y2="%d" class="ax"/>', ml, mt + ph, W - mr, mt + ph)
  local color = opts.color or V.PALETTE[1]
  local slot = 0
  local function bar(count, tip, fill)
    local bh = max > 0 and count / max * ph or 0
    if count > 0 and bh < 1 then bh = 1 end
    out[#out + 1] = string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>',
      n2(ml + slot * bw + 0.5), n2(mt + ph - bh), n2(math.max(bw - 1, 0.5)), n2(bh), fill, V.esc(tip))
    slot = slot + 1
  end
  if extra[1] and extra[1].first then
    bar(extra[1].count, extra[1].label .. ": " .. extra[1].count, "#999")
    text(out, ml + (slot - 0.5) * bw, H - mb + 12, extra[1].label, "middle", "tk")
  end
  local x0 = ml + slot * bw
  local nbins = #h.bins
  local w = (h.hi - h.lo) / nbins
  for i, c in ipairs(h.bins) do
    local a, b = h.lo + (i - 1) * w, h.lo + i * w
    bar(c, string.format("[%s, %s%s: %d", V.fmt(a), V.fmt(b), i == nbins and "]" or ")", c), color)
  end
  for _, t in ipairs(V.ticks(h.lo, h.hi, 4)) do
    local x = x0 + (t - h.lo) / (h.hi - h.lo) * nbins * bw
    text(out, x, H - mb + 12, V.fmt(t), "middle", "tk")
  end
  for _, e in ipairs(extra) do
    if not e.first then
      bar(e.count, e.label .. ": " .. e.count, "#999")
      text(out, ml + (slot - 0.5) * bw, H - mb + 12, e.label, "middle", "tk")
    end
  end
  text(out, ml - 4, mt + 4, V.fmt(max), "end", "tk")
  text(out, ml - 4, mt + ph, "0", "end", "tk")
  if opts.xlabel then text(out, ml + pw / 2, H - 4, opts.xlabel, "middle", "lb") end
  out[#out + 1] = "</svg>"
  return table.concat(out)
end

-- hbars(items, {width, color, title, total}): label | bar | count (share of total).
function V.hbars(items, opts)
  opts = opts or {}
  local W = opts.width or 420
  local rowh = 18
  local lw = opts.label_width or 120
  local H = #items * rowh + 6
  local max, total = 0, 0
  for _, it in ipairs(items) do
    if it.count > max then max = it.count end
    total = total + it.count
  end
  total = opts.total or total
  local out = open_svg(W, H, opts.title or "bars")
  local pw = W - lw - 110
  for i, it in ipairs(items) do
    local y = (i - 1) * rowh + 3
    local bw = max > 0 and it.count / max * pw or 0
    if it.count > 0 and bw < 1 then bw = 1 end
    text(out, lw - 6, y + 12, it.label, "end", "tk")
    out[#out + 1] = string.format('<rect x="%d" y="%d" width="%s" height="%d" fill="%s"><title>%s: %d</title></rect>',
      lw, y, n2(bw), rowh - 4, it.color or opts.color or V.PALETTE[1], V.esc(it.label), it.count)
    local share = total > 0 and string.format(" (%.1f%%)", 100 * it.count / total) or ""
    text(out, lw + bw + 4, y + 12, tostring(it.count) .. share, nil, "tk")
  end
  out[#out + 1] = "</svg>"
  return table.concat(out)
end

-- scatter(points, {width, height, xlabel, ylabel, groups = {key, ...}, title}): points are
-- {x, y, group}; groups give the colours (in order) and the legend.
function V.scatter(points, opts)
  opts = opts or {}
  local W, H = opts.width or 560, opts.height or 300
  local legend = opts.groups and #opts.groups > 1
  local ml, mr, mt, mb = 48, 12, legend and 26 or 14, 36
  local pw, ph = W - ml - mr, H - mt - mb
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, 0, 1
  for _, p in ipairs(points) do
    if p[1] < xmin then xmin = p[1] end
    if p[1] > xmax then xmax = p[1] end
    if p[2] < ymin then ymin = p[2] end
    if p[2] > ymax then ymax = p[2] end
  end
  if xmin == math.huge then xmin, xmax = 0, 1 end
  if xmax == xmin then xmin, xmax = xmin - 1, xmax + 1 end
  local pad = (xmax - xmin) * 0.02
  xmin, xmax = xmin - pad, xmax + pad
  local xt = V.ticks(xmin, xmax, 6)
  local yt = V.ticks(ymin, ymax, 4)
  local function px(x) return ml + (x - xmin) / (xmax - xmin) * pw end
  local function py(y) return mt + ph - (y - ymin) / (ymax - ymin) * ph end
  local out = open_svg(W, H, opts.title or "scatter")
  out[#out + 1] = string.format('<rect x="%d" y="%d" width="%d" height="%d" class="pl"/>', ml, mt, pw, ph)
  for _, t in ipairs(xt) do
    text(out, px(t), H - mb + 14, V.fmt(t), "middle", "tk")
  end
  for _, t in ipairs(yt) do
    text(out, ml - 4, py(t) + 4, V.fmt(t), "end", "tk")
    out[#out + 1] = string.format('<line x1="%d" y1="%s" x2="%d" y2="%s" class="gr"/>', ml, n2(py(t)), ml + pw, n2(py(t)))
  end
  local color = {}
  for i, g in ipairs(opts.groups or {}) do color[g] = V.PALETTE[(i - 1) % #V.PALETTE + 1] end
  for _, p in ipairs(points) do
    out[#out + 1] = string.format('<circle cx="%s" cy="%s" r="2.2" fill="%s" fill-opacity="0.35"/>', n2(px(p[1])),
      n2(py(p[2])), color[p[3]] or V.PALETTE[1])
  end
  -- trend lines: {{points = {{x, y}, ...}, group = key}, ...}, drawn over the points
  for _, line in ipairs(opts.lines or {}) do
    local pts = {}
    for _, q in ipairs(line.points) do pts[#pts + 1] = n2(px(q[1])) .. "," .. n2(py(q[2])) end
    if #pts >= 2 then
      out[#out + 1] = string.format('<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"><title>%s</title></polyline>',
        table.concat(pts, " "), color[line.group] or "#222", V.esc(line.title or "mean"))
    end
  end
  if legend then
    for i, g in ipairs(opts.groups) do
      local x = ml + 8 + (i - 1) * 90
      out[#out + 1] = string.format('<circle cx="%d" cy="%d" r="4" fill="%s"/>', x, 10, color[g])
      text(out, x + 7, 14, (opts.group_label or "") .. g, nil, "tk")
    end
  end
  if opts.xlabel then text(out, ml + pw / 2, H - 4, opts.xlabel, "middle", "lb") end
  if opts.ylabel then
    out[#out + 1] = string.format('<text transform="translate(12 %s) rotate(-90)" text-anchor="middle" class="lb">%s</text>',
      n2(mt + ph / 2), V.esc(opts.ylabel))
  end
  out[#out + 1] = "</svg>"
  return table.concat(out)
end

return V
