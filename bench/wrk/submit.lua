-- wrk script: POST /api/v1/submissions with a different, valid form on every request.
--
--   wrk -t T -c C -d D -s bench/wrk/submit.lua URL -- <threads> <quota> <seed> <destinations.lua> [done-file]
--
-- quota 0: post for the whole duration (-d). quota N > 0: the threads post N forms in all, exactly,
-- and each thread stops (wrk.thread:stop()) once its share has been answered, appending a line to
-- done-file; wrk itself only returns after -d (or SIGINT), so the driver watches that file and
-- interrupts wrk once every thread is done (bench/load.py WrkRun).
--
-- Every request has its own phone number, ID number and Idempotency-Key, and an X-Forwarded-For
-- address out of 4,096 per thread, so intake's per-phone and per-address limits are evaluated on
-- every request without being reached (the server trusts 127.0.0.1 as its ingress). The unit and
-- subunit come from destinations.lua (the 83 tenants of the 2021 tree, weighted like the real
-- campaign); names, titles, descriptions (170 to 700 characters of Vietnamese) and the optional
-- fields vary. Bodies are assembled from pieces prepared in init(), so that the load generator
-- spends its CPU on sending, not on formatting.
--
-- done() prints one line "BENCH_RESULT {json}" that the driver (bench/load.py) reads: answers by
-- status, socket errors, latency percentiles (microseconds).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local names_family = { "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
  "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Nông", "Hà", "Lò", "Mai" }
local names_middle = { "Thị", "Văn", "Đức", "Minh", "Thu", "Ngọc", "Hữu", "Thanh", "Quốc", "Bảo", "Kim", "Xuân" }
local names_given = { "Hoa", "Lan", "Hùng", "Dũng", "Trang", "Tuấn", "Hương", "Nam", "Bình", "Yến", "Sơn",
  "Thảo", "Long", "Nga", "Phúc", "Quyên", "Khánh", "Vy", "An", "Tâm" }
local groups = { "doanh_nghiep", "khoi_co_quan" }
local fields = { "san_xuat", "san_pham_moi", "an_toan_moi_truong", "cai_cach_hanh_chinh", "cong_dong", "khac" }
local title_heads = { "Cải tiến", "Số hoá", "Tự động hoá", "Hợp lý hoá", "Ứng dụng phần mềm cho",
  "Giải pháp tiết kiệm điện trong", "Rút ngắn thời gian", "Nâng cao an toàn khi" }
local title_tails = { "quy trình đóng gói sản phẩm", "sổ theo dõi đoàn viên công đoàn cơ sở",
  "khâu kiểm tra chất lượng đầu vào", "việc tổng hợp báo cáo thi đua", "dây chuyền may hoàn thiện",
  "công tác vận hành lò hơi", "quy trình tiếp nhận hồ sơ một cửa", "việc bảo dưỡng thiết bị nâng hạ" }
local sentences = {
  "Trước đây việc này làm thủ công trên giấy, mỗi tháng mất khoảng ba ngày công để tổng hợp.",
  "Sáng kiến thay bằng bảng tính dùng chung, mỗi tổ tự cập nhật số liệu hằng ngày.",
  "Sau ba tháng áp dụng, thời gian tổng hợp giảm còn nửa ngày, sai sót gần như không còn.",
  "Người lao động được hướng dẫn trong một buổi, không cần mua thêm thiết bị.",
  "Giải pháp đã được Ban Giám đốc công nhận và nhân rộng ra các phân xưởng khác.",
  "Chi phí thực hiện dưới năm triệu đồng, giá trị làm lợi ước tính hơn hai trăm triệu đồng mỗi năm.",
  "Đã điều chỉnh lại trình tự thao tác để công nhân không phải cúi người khi nâng vật nặng.",
  "Số vụ tai nạn lao động nhẹ tại tổ giảm từ bốn vụ xuống còn không vụ trong năm.",
  "Lắp thêm cảm biến hẹn giờ để tắt đèn và quạt ở khu vực không có người làm việc.",
  "Hồ sơ được quét và lưu trữ điện tử, tra cứu chỉ mất vài giây thay vì cả buổi sáng.",
}

local TEMPLATES = 512
local ADDRESSES = 4096
local heads, middles, tails = {}, {}, {}  -- body = head .. id .. middle .. phone .. "\",\"unit\":\"" .. unit ..
local destinations                        --        "\",\"subunit\":\"" .. subunit .. tail
local quota, seed, nthreads, done_file
local first = true
-- globals: done() reads them from each thread with thread:get()
posted, answered, accepted, refused = 0, 0, 0, 0
statuses = {}

local function pick(t) return t[math.random(#t)] end

-- BENCH_DELAY_MS (the soak, bench/soak.py): each connection waits that long before each request,
-- so that a fixed number of connections offers a steady rate instead of as many as the server
-- can take. wrk starts a request's clock when it is written, so the wait is not in the latency.
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  function delay() return delay_ms end
end

function init(args)
  nthreads = tonumber(args[1])
  quota = tonumber(args[2])
  seed = tonumber(args[3])
  destinations = dofile(args[4])
  done_file = args[5]
  if quota > 0 then
    -- this thread's exact share of the total
    local share = math.floor(quota / nthreads)
    if tid < quota % nthreads then share = share + 1 end
    quota = share
  end
  math.randomseed(seed * 1000 + tid)
  for i = 1, TEMPLATES do
    local parts = {}
    for j = 1, 2 + (i % 7) do parts[j] = sentences[((i * 7 + j * 3) % #sentences) + 1] end
    local extra = ""
    if i % 3 == 0 then
      extra = string.format(
        ',"birth_year":%d,"position":"Tổ trưởng sản xuất","workplace":"Phân xưởng %d",' ..
        '"email":"nguoi%d.%d@congdoan.vn","applied_from":"Tháng %d/2021","benefit":"Tiết kiệm %d triệu đồng mỗi năm"',
        1965 + i % 40, i % 12 + 1, tid, i, i % 4 + 2, 10 + i % 300)
    end
    heads[i] = string.format('{"full_name":"%s %s %s","id_number":"', pick(names_family), pick(names_middle),
      pick(names_given))
    middles[i] = '","phone":"'
    tails[i] = string.format('","group":"%s","field":"%s","title":"%s %s (%d)","description":"%s","consent":true%s}',
      pick(groups), pick(fields), pick(title_heads), pick(title_tails), i, table.concat(parts, "\\n"), extra)
  end
end

function request()
  if quota > 0 and (first or posted >= quota) then
    -- the first call may be wrk's own check of the script (its request is never sent), and
    -- after the share is posted the connections only idle until the thread stops
    first = false
    return wrk.format("GET", "/healthz")
  end
  posted = posted + 1
  local k = posted
  local n = k * nthreads + tid
  local t = (k % TEMPLATES) + 1
  local d = destinations[math.random(#destinations)]
  local a = k % ADDRESSES
  local body = heads[t] .. string.format("0%011d", (seed * 104729 + n) % 100000000000) .. middles[t] ..
    string.format("09%08d", (seed * 7919 + n) % 100000000) ..
    '","unit":"' .. d[1] .. '","subunit":"' .. d[2] .. tails[t]
  return wrk.format("POST", "/api/v1/submissions", {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("bench-%d-%d-%d", seed, tid, k),
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d", 64 + tid % 128, math.floor(a / 256), a % 256),
  }, body)
end

function response(status, headers, body)
  if quota > 0 and status == 200 then return end  -- a /healthz answer
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 then accepted = accepted + 1 else refused = refused + 1 end
  if quota > 0 and answered == quota then
    if done_file then
      local f = io.open(done_file, "a")
      f:write(string.format("%d\n", tid))
      f:close()
    end
    wrk.thread:stop()
  end
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
