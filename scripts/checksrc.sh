#!/bin/sh
# checksrc.sh FILE...: fails (exit 1, naming file:line) when C code calls a banned function. The build
# runs it over every source file (make all), as curl's checksrc does: comments and string literals are
# ignored. Banned, with what to use instead:
#   sprintf, vsprintf  snprintf / buf_printf (bounded)
#   strcpy, strcat     memcpy with a checked length, snprintf, buf_append
#   atoi, atol, atoll  strtol / strtoll with end and errno checks
#   system, popen      process/exec.c (fork + execve, no shell, an allow-listed environment)
#   gets               fgets
status=0
for f in "$@"; do
	awk -v file="$f" '
	BEGIN { incomment = 0; bad = 0 }
	{
		line = $0; out = ""; i = 1; n = length(line)
		while (i <= n) {
			c = substr(line, i, 1); c2 = substr(line, i, 2)
			if (incomment) {
				if (c2 == "*/") { incomment = 0; i += 2 } else i++
				continue
			}
			if (c2 == "/*") { incomment = 1; i += 2; continue }
			if (c2 == "//") break
			if (c == "\"" || c == "\047") {
				q = c; i++
				while (i <= n) {
					d = substr(line, i, 1)
					if (d == "\\") { i += 2; continue }
					i++
					if (d == q) break
				}
				out = out " "
				continue
			}
			out = out c; i++
		}
		if (match(out, /(^|[^A-Za-z0-9_>.])(sprintf|vsprintf|strcpy|strcat|atoi|atol|atoll|system|popen|gets)[ \t]*\(/)) {
			name = substr(out, RSTART, RLENGTH)
			sub(/^[^A-Za-z_]/, "", name); sub(/[ \t]*\($/, "", name)
			printf "%s:%d: banned function %s()\n", file, NR, name
			bad = 1
		}
	}
	END { exit bad }' "$f" || status=1
done
exit $status
