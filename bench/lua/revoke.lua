-- POST /v1/tokens/{id}/revoke, each id of the file $IDS once (this thread's share)
dofile(os.getenv("LUA_DIR") .. "/common.lua")
local h, ids, k = {}, {}, 0
function init(args)
  h = headers()
  lines(os.getenv("IDS"), function(id) ids[#ids + 1] = id end)
end
function request()
  k = k + 1
  return wrk.format("POST", "/v1/tokens/" .. (ids[k] or "tok_pool_exhausted") .. "/revoke", h, "")
end
