//! [`Kind`]: one kind of primitive as a component sees it (its id, its `lua.skill.yaml`
//! section, its listing), the row type of the table in `kinds`. A kind registered from
//! outside this crate builds one of these and hands it to [`super::component::Primitives`].
//!
//! Uses `skill_yaml` (the section) and `lua-contract` (the listing); no other module here.

use lua_contract::PrimitiveKind;

use super::skill_yaml::Section;

/// One kind of primitive.
pub struct Kind {
    /// Component id (`lua.toml`, JSON, sync state).
    pub id: &'static str,
    pub title: &'static str,
    pub order: i32,
    /// Its section of `lua.skill.yaml`.
    pub section: Section,
    /// Its listing (a row of the contract's table, or one built by the registering crate);
    /// `None` for MCP servers (a listing of their own, without versions).
    pub platform: Option<&'static PrimitiveKind>,
    /// The noun of the reference CLI's `lua push <noun>`; `None`: no such command.
    pub push_noun: Option<&'static str>,
    /// The listing's path, for messages.
    pub path_hint: &'static str,
}

impl Kind {
    /// How to deploy `name` instead (sync does not push primitives).
    pub fn deploy_hint(&self, name: &str) -> String {
        match self.push_noun {
            Some(noun) => format!("deploy it with the Lua CLI: `lua push {noun} --name {name}`"),
            None => format!("add or remove `{name}` among the agent's MCP servers on the platform"),
        }
    }

    /// What `--push` and the prompt say for this item.
    pub fn push_hint(&self, name: &str) -> String {
        match self.push_noun {
            Some(noun) => format!(
                "lua sync does not deploy {}; deploy with the Lua CLI: `lua push {noun} --name {name}`",
                self.id
            ),
            None => format!(
                "lua sync does not change the platform's MCP servers; {}",
                self.deploy_hint(name)
            ),
        }
    }
}
