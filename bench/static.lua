-- static.lua: wrk script for the static ceiling (GET of a small file from the same lighttpd).
-- No request()/response() hooks, so wrk sends its cached request at full speed; done() prints
-- the same "KANCA-BENCH {json}" line as signed.lua (2xx = requests minus non-2xx/3xx answers).

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"KANCA-BENCH {\"duration_us\":%d,\"requests\":%d,\"c2xx\":%d,\"cother\":%d,\"exhausted\":0," ..
		"\"available\":0,\"issued\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f," ..
		"\"err_connect\":%d,\"err_read\":%d,\"err_write\":%d,\"err_status\":%d,\"err_timeout\":%d," ..
		"\"statuses\":{}}\n",
		summary.duration, summary.requests, summary.requests - e.status, e.status, summary.requests,
		latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
		e.connect, e.read, e.write, e.status, e.timeout))
end
