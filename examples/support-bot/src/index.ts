import { LuaAgent } from "lua-cli";
import { PERSONA } from "./persona";

// Agent configuration: `lua sync` compares `name` and `persona` with the platform.
const agent = new LuaAgent({
  name: "Support Bot",
  persona: PERSONA,
  skills: [],
});

export default agent;
