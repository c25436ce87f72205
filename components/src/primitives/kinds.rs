//! The table of primitive kinds: one row per component, all served by the generic
//! [`Primitives`] component, each registered like any other component. The listings are the
//! rows of `lua-contract`'s table, which the devserver serves too.
//!
//! Uses `kind` (the row type), `component` (the generic component) and `skill_yaml`.

use lua_core::Registration;

use super::component::Primitives;
use super::kind::Kind;
use super::skill_yaml::Section;

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
    platform: Some(&lua_contract::SKILL),
    push_noun: Some("skill"),
    path_hint: "/developer/skills",
};
pub static WEBHOOKS: Kind = Kind {
    id: "webhooks",
    title: "Webhook",
    order: 110,
    section: versioned("webhooks", "webhookId"),
    platform: Some(&lua_contract::WEBHOOK),
    push_noun: Some("webhook"),
    path_hint: "/developer/webhooks",
};
pub static JOBS: Kind = Kind {
    id: "jobs",
    title: "Job",
    order: 120,
    section: versioned("jobs", "jobId"),
    platform: Some(&lua_contract::JOB),
    push_noun: Some("job"),
    path_hint: "/developer/jobs",
};
pub static PREPROCESSORS: Kind = Kind {
    id: "preprocessors",
    title: "Preprocessor",
    order: 130,
    section: versioned("preprocessors", "preprocessorId"),
    platform: Some(&lua_contract::PREPROCESSOR),
    push_noun: Some("preprocessor"),
    path_hint: "/developer/preprocessors",
};
pub static POSTPROCESSORS: Kind = Kind {
    id: "postprocessors",
    title: "Postprocessor",
    order: 140,
    section: versioned("postprocessors", "postprocessorId"),
    platform: Some(&lua_contract::POSTPROCESSOR),
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
