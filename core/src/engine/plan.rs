//! The plan of a resolution: what it will write and send, decided before anything is
//! done. Pulls become files (composed in one overlay, committed together), pushes become
//! requests (sent in order, each confirmed before it is recorded). `--dry-run` shows it;
//! the JSON report carries it. Plain data; no I/O.

use crate::component::PushRequest;

/// Which way a step moves a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Server -> project.
    Pull,
    /// Project -> server.
    Push,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Pull => "pull",
            Direction::Push => "push",
        }
    }
}

/// One action of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The component's id.
    pub id: &'static str,
    pub key: Option<String>,
    pub title: &'static str,
    pub direction: Direction,
    /// Pull: the project files it changes. Empty for a push.
    pub files: Vec<String>,
    /// Push: the request it sends, where the component describes it.
    pub request: Option<PushRequest>,
    /// The hash the step is guarded by: the server value the diff showed (push) or the
    /// local value it replaces (pull).
    pub guard: Option<String>,
}

impl Step {
    pub fn label(&self) -> String {
        match &self.key {
            Some(key) => format!("{} {key}", self.title),
            None => self.title.to_string(),
        }
    }
}

/// One file the plan writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedFile {
    /// Project-relative path.
    pub path: String,
    /// What it holds now (`None`: it is created).
    pub old: Option<Vec<u8>>,
    pub new: Vec<u8>,
}

/// Every step of a resolution, and the files its pulls write together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub files: Vec<PlannedFile>,
    /// Whether it was only shown (`--dry-run`): nothing was written or sent.
    pub dry_run: bool,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.files.is_empty()
    }

    pub fn pushes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.direction == Direction::Push)
    }

    pub fn pulls(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.direction == Direction::Pull)
    }
}
