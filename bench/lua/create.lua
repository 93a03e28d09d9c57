-- POST /v1/tokens with a new name each request; $BEARER holds ward:tokens
dofile(os.getenv("LUA_DIR") .. "/common.lua")
local h, k = {}, 0
function init(args) h = headers() end
function request()
  k = k + 1
  return wrk.format("POST", "/v1/tokens", h,
    '{"name":"w' .. tid .. '-' .. k .. '","type":"pipeline","scopes":["ward:introspect"]}')
end
