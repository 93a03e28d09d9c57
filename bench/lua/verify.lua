-- POST /v1/verify, a different token (from the file $TOKENS) each request; $BEARER holds ward:introspect
dofile(os.getenv("LUA_DIR") .. "/common.lua")
function init(args)
  local h = headers()
  lines(os.getenv("TOKENS"), function(t) reqs[#reqs + 1] = wrk.format("POST", "/v1/verify", h, '{"token":"' .. t .. '"}') end)
end
