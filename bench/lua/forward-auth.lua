-- GET /v1/forward-auth as nginx's auth_request sends it: a different token (from the file
-- $TOKENS) each request, original request GET /containers (list_containers in ops.toml)
dofile(os.getenv("LUA_DIR") .. "/common.lua")
function init(args)
  lines(os.getenv("TOKENS"), function(t)
    local h = { ["Authorization"] = "Bearer " .. t, ["X-Original-Method"] = "GET", ["X-Original-URI"] = "/containers" }
    reqs[#reqs + 1] = wrk.format("GET", "/v1/forward-auth", h)
  end)
end
