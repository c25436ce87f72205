//! The agent page's sections for what is deployed beside the persona: governance (a JSON
//! editor), the five kinds of primitives with their versions and active version, MCP servers
//! and the source backup. Plain data in, maud markup out (escaped by default).

use maud::{Markup, html};
use serde_json::Value;

use super::views::{encode_segment, format_utc};
use crate::spec::Kind;
use crate::store::backup::{Entry, Summary};
use crate::store::primitives::{Item, McpServer};

/// What the sections show, loaded in one database call.
pub(super) struct Deployed {
    pub governance: Option<Value>,
    pub kinds: Vec<(Kind, Vec<Item>)>,
    pub mcp_servers: Vec<McpServer>,
    pub backup: Option<Summary>,
    pub manifest: Vec<Entry>,
}

/// The section's heading: the plural, capitalised (`Skills`).
fn title(kind: Kind) -> String {
    let key = kind.key();
    let mut chars = key.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Where an item's forms post: `/agents/{id}/primitives/{kind}/{name}`.
fn item_href(agent_href: &str, kind: &str, name: &str) -> String {
    format!("{agent_href}/primitives/{kind}/{}", encode_segment(name))
}

/// All the sections, in page order.
pub(super) fn sections(agent_href: &str, csrf: &str, d: &Deployed) -> Markup {
    html! {
        (governance_section(agent_href, csrf, d.governance.as_ref()))
        @for (kind, items) in &d.kinds {
            (kind_section(agent_href, csrf, *kind, items))
        }
        (mcp_section(agent_href, csrf, &d.mcp_servers))
        (backup_section(d.backup.as_ref(), &d.manifest))
    }
}

fn governance_section(agent_href: &str, csrf: &str, governance: Option<&Value>) -> Markup {
    let text = governance
        .map(|g| serde_json::to_string_pretty(g).unwrap_or_else(|_| g.to_string()))
        .unwrap_or_default();
    html! {
        section id="governance" {
            h2 { "Governance" }
            @if governance.is_none() { p.meta { "No governance set." } }
            form method="post" action={ (agent_href) "/governance" } {
                input type="hidden" name="csrf" value=(csrf);
                textarea name="governance" { "\n" (text) }
                p.meta {
                    "A JSON object such as " code { r#"{"mode": "sdk", "rules": {"tokenBudget": 5000}}"# }
                    ". Empty or " code { "null" } " removes it. Invalid JSON changes nothing."
                }
                button { "Save governance" }
            }
        }
    }
}

fn kind_section(agent_href: &str, csrf: &str, kind: Kind, items: &[Item]) -> Markup {
    let key = kind.key();
    html! {
        section id=(key) {
            h2 { (title(kind)) }
            @if items.is_empty() {
                p.meta { "None deployed." }
            } @else {
                table {
                    thead { tr { th { "Name" } th { "Id" } th { "Versions" } th { "Publish a version" } } }
                    tbody {
                        @for item in items { (item_row(agent_href, csrf, key, item)) }
                    }
                }
            }
            form method="post" action={ (agent_href) "/primitives/" (key) } {
                input type="hidden" name="csrf" value=(csrf);
                input type="text" name="name" placeholder="name" required;
                " "
                input type="text" name="version" placeholder="first version (optional)";
                " "
                button { "Add" }
            }
        }
    }
}

fn item_row(agent_href: &str, csrf: &str, key: &str, item: &Item) -> Markup {
    let href = item_href(agent_href, key, &item.name);
    let active = item.active_version_id.as_deref();
    html! {
        tr.item data-name=(item.name) {
            td { strong { (item.name) } }
            td { code { (item.id) } }
            td {
                @for v in &item.versions {
                    div.item-version {
                        code { (v.version) }
                        @if Some(v.id.as_str()) == active {
                            span.badge.current { "active" }
                        } @else {
                            " "
                            form.inline method="post" action={ (href) "/active" } {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="version" value=(v.version);
                                button.secondary { "Make active" }
                            }
                        }
                    }
                }
                @if item.versions.is_empty() { span.meta { "no versions" } }
            }
            td {
                form.inline method="post" action={ (href) "/versions" } {
                    input type="hidden" name="csrf" value=(csrf);
                    input.short type="text" name="version" placeholder="1.0.1" required;
                    " "
                    button { "Publish" }
                }
                " "
                form.inline method="post" action={ (href) "/delete" } {
                    input type="hidden" name="csrf" value=(csrf);
                    button.secondary { "Delete" }
                }
            }
        }
    }
}

fn mcp_section(agent_href: &str, csrf: &str, servers: &[McpServer]) -> Markup {
    html! {
        section id="mcp-servers" {
            h2 { "MCP servers" }
            @if servers.is_empty() {
                p.meta { "None." }
            } @else {
                table {
                    thead { tr { th { "Name" } th { "Id" } th { "Source" } th { "Active" } th {} } }
                    tbody {
                        @for m in servers {
                            tr.item data-name=(m.name) {
                                td { strong { (m.name) } }
                                td { code { (m.id) } }
                                td { (m.source.as_deref().unwrap_or("–")) }
                                td {
                                    @match m.active {
                                        Some(true) => "yes",
                                        Some(false) => "no",
                                        None => "–",
                                    }
                                }
                                td {
                                    form.inline method="post" action={ (item_href(agent_href, "mcp-servers", &m.name)) "/delete" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button.secondary { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action={ (agent_href) "/primitives/mcp-servers" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="text" name="name" placeholder="name" required;
                " "
                label { "Source "
                    select name="source" {
                        option value="" { "(none)" }
                        option value="manual" { "manual" }
                        option value="integration" { "integration" }
                    }
                }
                " "
                label { "Active "
                    select name="active" {
                        option value="" { "(not set)" }
                        option value="true" { "true" }
                        option value="false" { "false" }
                    }
                }
                " "
                button { "Add" }
            }
        }
    }
}

fn backup_section(summary: Option<&Summary>, manifest: &[Entry]) -> Markup {
    html! {
        section id="backup" {
            h2 { "Source backup" }
            @match summary {
                None => p.meta { "No backup." },
                Some(s) => p.meta {
                    (s.file_count) @if s.file_count == 1 { " file" } @else { " files" }
                    " · created " (format_utc(s.created_date))
                },
            }
            @if !manifest.is_empty() {
                table {
                    thead { tr { th { "Path" } th { "Hash" } th {} } }
                    tbody {
                        @for f in manifest {
                            tr {
                                td { code { (f.relative_path) } }
                                td { code { (f.hash.chars().take(16).collect::<String>()) } }
                                td.meta {
                                    @if f.external { "external " }
                                    @if f.gzip { "gzip" }
                                }
                            }
                        }
                    }
                }
            }
            p.meta {
                "Upload one with " code { "lua-devserver --backup-from DIR --backup-agent ID" }
                " or " code { "POST /_devserver/agents/{id}/backup" } "."
            }
        }
    }
}
