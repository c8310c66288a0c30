function done(s) print(s.requests, s.errors.status) end
