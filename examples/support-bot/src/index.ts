import { LuaAgent } from "lua-cli";
import { PERSONA } from "./persona";

// Agent configuration: `lua sync` compares `name`, `model` and `persona` with the platform.
const agent = new LuaAgent({
  name: "Support Bot",
  model: "gpt-4o",
  persona: PERSONA,
  skills: [],
});

export default agent;
