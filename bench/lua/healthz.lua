-- GET /healthz, the no-op baseline
dofile(os.getenv("LUA_DIR") .. "/common.lua")
function init(args) reqs[1] = wrk.format("GET", "/healthz") end
