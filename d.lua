function request() return wrk.format("GET", "/s.json", {["Content-Type"]="application/json", ["X-Signature"]="abababababababababababababababababababababababababababababababab"}) end
function response(status, headers, body) if status == 200 then c = (c or 0) + 1 end end
