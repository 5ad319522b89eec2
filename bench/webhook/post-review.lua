-- wrk script: every request POSTs the AdmissionReview in the file named by $REVIEW_FILE.
-- With $VERIFY=1 it also checks every response (status 200 and a JSON Patch in the body) and
-- prints "verify: checked=<n> bad=<n>"; the driver does that only in the warm-up, because reading
-- each body in Lua costs client CPU that the measured runs share with the server.
local file = assert(io.open(os.getenv("REVIEW_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

if os.getenv("VERIFY") == "1" then
  local threads = {}

  function setup(thread)
    table.insert(threads, thread)
  end

  function init(args)
    checked = 0
    bad = 0
  end

  function response(status, headers, body)
    checked = checked + 1
    if status ~= 200 or not string.find(body, '"patchType":"JSONPatch"', 1, true) then
      bad = bad + 1
    end
  end

  function done(summary, latency, requests)
    local c, b = 0, 0
    for _, t in ipairs(threads) do
      c = c + t:get("checked")
      b = b + t:get("bad")
    end
    io.write(string.format("verify: checked=%d bad=%d\n", c, b))
  end
end
