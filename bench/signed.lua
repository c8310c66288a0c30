-- signed.lua: wrk script for kanca's benchmark (bench/bench.py writes the request file).
--
-- Usage: wrk -t T -c C -d D -s bench/signed.lua URL -- REQUEST_FILE T
--
-- REQUEST_FILE has one request a line: "<lowercase hex X-Signature>\t<body>". Thread k (0-based)
-- takes the lines k, k+T, k+2T, ...: the slices are disjoint and every request is sent at most
-- once. When a thread has sent its whole slice it sends GET /__kanca_bench_exhausted__ instead
-- (a 404 from lighttpd, never a 2xx) and counts it, so an undersized file cannot produce a
-- duplicate delivery and is reported. done() prints one line "KANCA-BENCH {json}".

local threads = {}
local nthreads_setup = 0

function setup(thread)
	thread:set("tid", nthreads_setup)
	nthreads_setup = nthreads_setup + 1
	table.insert(threads, thread)
end

function init(args)
	local file = args[1]
	local nthreads = tonumber(args[2])
	if not file or not nthreads then
		error("usage: wrk ... -s signed.lua URL -- REQUEST_FILE THREADS")
	end
	sigs, bodies = {}, {}
	local i = 0
	for line in io.lines(file) do
		if i % nthreads == tid then
			local tab = line:find("\t", 1, true)
			sigs[#sigs + 1] = line:sub(1, tab - 1)
			bodies[#bodies + 1] = line:sub(tab + 1)
		end
		i = i + 1
	end
	n = #bodies
	idx = 0
	exhausted = 0
	c2xx = 0
	cother = 0
	counts = {}
	path = wrk.path
	hdrs = {["Content-Type"] = "application/json", ["X-Signature"] = ""}
end

function request()
	idx = idx + 1
	if idx > n then
		exhausted = exhausted + 1
		return wrk.format("GET", "/__kanca_bench_exhausted__")
	end
	hdrs["X-Signature"] = sigs[idx]
	local r = wrk.format("POST", path, hdrs, bodies[idx])
	-- drop the references: memory stays flat and a request can never be sent twice
	sigs[idx] = nil
	bodies[idx] = nil
	return r
end

function response(status, headers, body)
	if status >= 200 and status < 300 then
		c2xx = c2xx + 1
	else
		cother = cother + 1
		counts[status] = (counts[status] or 0) + 1
	end
end

function done(summary, latency, requests)
	local c2, co, ex, sent, avail = 0, 0, 0, 0, 0
	local st = {}
	for _, t in ipairs(threads) do
		c2 = c2 + t:get("c2xx")
		co = co + t:get("cother")
		ex = ex + t:get("exhausted")
		avail = avail + t:get("n")
		local i = t:get("idx")
		sent = sent + i
		local cs = t:get("counts")
		if cs then
			for k, v in pairs(cs) do
				st[k] = (st[k] or 0) + v
			end
		end
	end
	local parts = {}
	for k, v in pairs(st) do
		parts[#parts + 1] = string.format("\"%d\":%d", k, v)
	end
	local e = summary.errors
	io.write(string.format(
		"KANCA-BENCH {\"duration_us\":%d,\"requests\":%d,\"c2xx\":%d,\"cother\":%d,\"exhausted\":%d," ..
		"\"available\":%d,\"issued\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f," ..
		"\"err_connect\":%d,\"err_read\":%d,\"err_write\":%d,\"err_status\":%d,\"err_timeout\":%d," ..
		"\"statuses\":{%s}}\n",
		summary.duration, summary.requests, c2, co, ex, avail, sent,
		latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
		e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
