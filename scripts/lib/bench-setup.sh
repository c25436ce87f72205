# Sourced by the bench scripts. `bench_setup DEVSERVER LUA WORK` starts DEVSERVER on a free
# port, seeded with the example agent plus deployed primitives (3 items of each of the five
# kinds, 2 MCP servers), and makes two copies of the example project in WORK, both with a
# lua.skill.yaml listing those items at their server versions:
#   WORK/insync   pulled once with LUA, so nothing differs
#   WORK/drift    the example as it is (its persona differs from the seed's)
# Sets `url` and `key`; the devserver is killed and WORK removed on exit.
bench_setup() {
  local devserver=$1 lua=$2 work=$3
  key="bench-key"
  python3 - examples/seed.json "$work/seed.json" "$work/lua.skill.yaml" <<'PY'
import json, sys
seed_in, seed_out, yaml_out = sys.argv[1:4]
seed = json.load(open(seed_in))
agent = seed["agents"][0]
yaml = [f"agent:\n  agentId: {agent['id']}"]
for kind, id_field in [("skills", "skillId"), ("webhooks", "webhookId"), ("jobs", "jobId"),
                       ("preprocessors", "preprocessorId"), ("postprocessors", "postprocessorId")]:
    short = kind[:-1]
    items = [{"id": f"{short}_{n}", "name": f"{short}-{n}", "versions": ["1.0.0", "1.1.0"]}
             for n in range(3)]
    agent[kind] = items
    yaml.append(f"{kind}:")
    yaml += [f"  - name: {i['name']}\n    version: 1.1.0\n    {id_field}: {i['id']}" for i in items]
agent["mcpServers"] = [{"id": f"mcp_{n}", "name": f"mcp-{n}"} for n in range(2)]
yaml.append("mcpServers:")
yaml += [f"  - name: mcp-{n}\n    mcpServerId: mcp_{n}" for n in range(2)]
json.dump(seed, open(seed_out, "w"))
open(yaml_out, "w").write("\n".join(yaml) + "\n")
PY
  "$devserver" --memory --port 0 --api-key "$key" --seed "$work/seed.json" >"$work/out" 2>"$work/err" &
  local pid=$!
  # shellcheck disable=SC2064 # expand now: the values are this call's
  trap "kill $pid 2>/dev/null || true; rm -rf '$work'" EXIT
  url=""
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^lua-devserver listening on //p' "$work/out" | head -n 1)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/err" >&2; exit 2; }
  local dir
  for dir in drift insync; do
    mkdir -p "$work/$dir"
    cp -R examples/support-bot/. "$work/$dir/"
    cp "$work/lua.skill.yaml" "$work/$dir/"
  done
  (cd "$work/insync" && LUA_API_URL="$url" LUA_API_KEY="$key" "$lua" sync --accept >/dev/null)
}
