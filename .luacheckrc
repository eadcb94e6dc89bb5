-- luacheck over the Redis scripts (daemon/**/*.lua): `luacheck daemon`.
-- Redis runs Lua 5.1 with its own globals; the store's scripts stand on the prelude's top-level
-- names (store_scripts.cpp puts the prelude around each of them), read from the prelude itself.
std = "lua51"
max_line_length = 100
read_globals = {"redis", "cjson", "cmsgpack", "bit", "struct", "KEYS", "ARGV"}

local prelude_names = {}
for line in io.lines("daemon/store/lua/prelude.lua") do
  local names = line:match("^local function ([%w_]+)") or line:match("^local ([%w_, ]+)")
  if names then
    names = names:gsub("%s*=.*", "")
    for name in names:gmatch("[%w_]+") do prelude_names[#prelude_names + 1] = name end
  end
end

files["daemon/store/lua"] = {read_globals = prelude_names}
-- The prelude's names are for the scripts: unused in the prelude itself.
files["daemon/store/lua/prelude.lua"] = {unused = false}
