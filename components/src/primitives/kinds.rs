//! The table of primitive kinds: one row per component, all served by the generic
//! [`Primitives`] component, each registered like any other component.

use lua_core::Registration;
use lua_core::platform::PrimitiveKind;

use super::component::Primitives;
use super::skill_yaml::Section;

/// One kind of primitive.
pub struct Kind {
    /// Component id (`lua.toml`, JSON, sync state).
    pub id: &'static str,
    pub title: &'static str,
    pub order: i32,
    /// Its section of `lua.skill.yaml`.
    pub section: Section,
    /// Its listing; `None` for MCP servers (a listing of their own, without versions).
    pub platform: Option<PrimitiveKind>,
    /// The noun of the reference CLI's `lua push <noun>`; `None`: no such command.
    pub push_noun: Option<&'static str>,
    /// The listing's path, for messages.
    pub path_hint: &'static str,
}

impl Kind {
    /// How to deploy `name` instead (sync does not push primitives).
    pub fn deploy_hint(&self, name: &str) -> String {
        match self.push_noun {
            Some(noun) => {
                format!("deploy it with lua-cli: `npx lua-cli push {noun} --name {name}`")
            }
            None => format!("add or remove `{name}` among the agent's MCP servers on the platform"),
        }
    }

    /// What `--push` and the prompt say for this item.
    pub fn push_hint(&self, name: &str) -> String {
        match self.push_noun {
            Some(noun) => format!(
                "lua sync does not deploy {}; deploy with lua-cli: `npx lua-cli push {noun} --name {name}`",
                self.id
            ),
            None => format!(
                "lua sync does not change the platform's MCP servers; {}",
                self.deploy_hint(name)
            ),
        }
    }
}

const fn versioned(key: &'static str, id_field: &'static str) -> Section {
    Section {
        key,
        id_field,
        versioned: true,
    }
}

pub static SKILLS: Kind = Kind {
    id: "skills",
    title: "Skill",
    order: 100,
    section: versioned("skills", "skillId"),
    platform: Some(PrimitiveKind::Skill),
    push_noun: Some("skill"),
    path_hint: "/developer/skills",
};
pub static WEBHOOKS: Kind = Kind {
    id: "webhooks",
    title: "Webhook",
    order: 110,
    section: versioned("webhooks", "webhookId"),
    platform: Some(PrimitiveKind::Webhook),
    push_noun: Some("webhook"),
    path_hint: "/developer/webhooks",
};
pub static JOBS: Kind = Kind {
    id: "jobs",
    title: "Job",
    order: 120,
    section: versioned("jobs", "jobId"),
    platform: Some(PrimitiveKind::Job),
    push_noun: Some("job"),
    path_hint: "/developer/jobs",
};
pub static PREPROCESSORS: Kind = Kind {
    id: "preprocessors",
    title: "Preprocessor",
    order: 130,
    section: versioned("preprocessors", "preprocessorId"),
    platform: Some(PrimitiveKind::Preprocessor),
    push_noun: Some("preprocessor"),
    path_hint: "/developer/preprocessors",
};
pub static POSTPROCESSORS: Kind = Kind {
    id: "postprocessors",
    title: "Postprocessor",
    order: 140,
    section: versioned("postprocessors", "postprocessorId"),
    platform: Some(PrimitiveKind::Postprocessor),
    push_noun: Some("postprocessor"),
    path_hint: "/developer/postprocessors",
};
pub static MCP_SERVERS: Kind = Kind {
    id: "mcp_servers",
    title: "MCP server",
    order: 150,
    section: Section {
        key: "mcpServers",
        id_field: "mcpServerId",
        versioned: false,
    },
    platform: None,
    push_noun: None,
    path_hint: "/developer/agents/{agentId}/mcp-servers",
};

macro_rules! register {
    ($($kind:ident => $make:ident),* $(,)?) => {
        $(
            fn $make() -> Box<dyn lua_core::Syncable> {
                Box::new(Primitives::new(&$kind))
            }
            lua_core::inventory::submit! {
                Registration { id: $kind.id, order: $kind.order, make: $make }
            }
        )*
    };
}

register! {
    SKILLS => make_skills,
    WEBHOOKS => make_webhooks,
    JOBS => make_jobs,
    PREPROCESSORS => make_preprocessors,
    POSTPROCESSORS => make_postprocessors,
    MCP_SERVERS => make_mcp_servers,
}
