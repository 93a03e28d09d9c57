-- GET $SERVICE_PATH on the example resource server, with $BEARER (bench/sdk.sh)
dofile(os.getenv("LUA_DIR") .. "/common.lua")
function init(args) reqs[1] = wrk.format("GET", os.getenv("SERVICE_PATH"), headers()) end
