-- wrk script: every request POSTs the file named by $BODY_FILE as JSON to the URL's path.
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
