-- POST /auth/token with the OAuth2 password form of one seeded account (BENCH_LOGIN,
-- BENCH_PASSWORD): the sign-ins that run next to GET /users/{id}.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local function encode(s)
   return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

wrk.method = "POST"
wrk.body = "username=" .. encode(os.getenv("BENCH_LOGIN"))
   .. "&password=" .. encode(os.getenv("BENCH_PASSWORD"))
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
