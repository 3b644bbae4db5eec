-- wrk script: one abuser flooding POST /api/v1/submissions (bench/flood.py).
--
--   wrk -t T -c C -d D -s bench/wrk/flood.lua URL -- <mode> <seed> <delay-ms>
--
-- mode "ip": every request from one address (X-Forwarded-For 203.0.113.x), each with its own
-- phone and ID number; "phone": one phone, each request from its own address with its own number;
-- "id": one ID number, its own address and phone each time. Every body is a valid form, so what
-- stops the flood is the limit of that one key, not validation. Each connection waits delay-ms
-- before each request (a fixed rate: C x 1000 / delay-ms at most), 0 for as fast as it can.
--
-- done() prints "BENCH_RESULT {json}" in submit.lua's format (bench/load.py parse_wrk).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local mode, seed, delay_ms
posted, answered, accepted, refused = 0, 0, 0, 0
statuses = {}

function init(args)
  mode = args[1]
  seed = tonumber(args[2])
  delay_ms = tonumber(args[3])
  if delay_ms and delay_ms > 0 then
    function delay() return delay_ms end
  end
end

local head = '{"full_name":"Trần Văn Lũ","id_number":"'
local middle = '","phone":"'
local tail = '","unit":"cao-bang","subunit":"H045","group":"doanh_nghiep","field":"san_xuat",' ..
  '"title":"Gửi liên tục","description":"Một người gửi rất nhiều lần trong một phút.","consent":true}'

function request()
  posted = posted + 1
  local n = (posted * 64 + tid) % 100000000
  local id = string.format("0%011d", (seed * 104729 + n) % 100000000000)
  local phone = string.format("09%08d", (seed * 7919 + n) % 100000000)
  local addr = string.format("172.%d.%d.%d", 16 + n % 16, math.floor(n / 256) % 256, n % 256)
  if mode == "ip" then
    addr = string.format("203.0.113.%d", seed % 254 + 1)  -- one per run: a counter of its own
  elseif mode == "phone" then
    phone = string.format("09%08d", seed % 100000000)
  elseif mode == "id" then
    id = string.format("0%011d", seed % 100000000000)
  end
  return wrk.format("POST", "/api/v1/submissions", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = addr,
  }, head .. id .. middle .. phone .. tail)
end

function response(status, headers, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 then accepted = accepted + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local acc, ref, post = 0, 0, 0
  local codes = {}
  for _, t in ipairs(threads) do
    acc = acc + t:get("accepted")
    ref = ref + t:get("refused")
    post = post + t:get("posted")
    for code, n in pairs(t:get("statuses")) do codes[code] = (codes[code] or 0) + n end
  end
  local cs = {}
  for code, n in pairs(codes) do cs[#cs + 1] = string.format('"%d":%d', code, n) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us":%d,"requests":%d,"posted":%d,"accepted":%d,"refused":%d,"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
    summary.duration, summary.requests, post, acc, ref, table.concat(cs, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
