//! `lua-devserver`: command-line front end. Parses flags into a [`Config`], starts the server,
//! prints one line with its URL, and runs until Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use lua_devserver::{AgentSpec, BackupSpec, BackupUpload, Config, Seed, Storage, TlsConfig};

/// A local Lua platform: the platform API over HTTP with SQLite persistence, an admin dashboard,
/// a request counter and fault injection for tests.
#[derive(Debug, Parser)]
#[command(name = "lua-devserver", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on; 0 picks a free port.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// SQLite database file (its folder is created if missing).
    #[arg(
        long,
        value_name = "PATH",
        default_value = ".lua-devserver/platform.db"
    )]
    db: PathBuf,
    /// Keep everything in memory instead of a database file.
    #[arg(long, conflicts_with = "db")]
    memory: bool,
    /// The API key clients must send as `Authorization: Bearer KEY` (also the dashboard login).
    #[arg(long, value_name = "KEY", env = "LUA_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Create this agent at start if it does not exist (repeatable).
    #[arg(long = "agent", value_name = "ID[=NAME]")]
    agents: Vec<AgentSpec>,
    /// Load agents and persona versions from this JSON file (only agents not already present).
    #[arg(long, value_name = "FILE.json")]
    seed: Option<PathBuf>,
    /// Also accept this name in the `Host` header (repeatable). Besides these, only
    /// localhost, 127.0.0.1, ::1 and the --host address are accepted (DNS-rebinding defence).
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// Serve without any authentication. For throwaway local use only: refuses a --host
    /// other than a loopback address.
    #[arg(long)]
    insecure_no_auth: bool,
    /// Enable fault injection (`POST /_devserver/faults`).
    #[arg(long)]
    faults: bool,
    /// Upload every file under this folder as the backup of `--backup-agent` at start
    /// (replacing its backup; skips `.git` and `node_modules`).
    #[arg(long, value_name = "DIR", requires = "backup_agent")]
    backup_from: Option<PathBuf>,
    /// The agent whose backup `--backup-from` replaces (it must exist, e.g. from `--agent`).
    #[arg(long, value_name = "ID", requires = "backup_from")]
    backup_agent: Option<String>,
    /// Serve HTTPS: make a certificate authority and a server certificate for localhost,
    /// 127.0.0.1, ::1 and --host, and write the CA to `DIR/ca.pem` (printed at start).
    #[arg(long)]
    tls: bool,
    /// Where --tls writes the CA certificate.
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".lua-devserver/tls",
        requires = "tls"
    )]
    tls_dir: PathBuf,
    /// Model a network with this round-trip time: one round trip before a new connection's
    /// first byte, half of one on every chunk in each direction.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("lua_devserver=info")),
        )
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("lua-devserver: error: {message}");
            }
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let seed = args
        .seed
        .as_deref()
        .map(Seed::from_file)
        .transpose()
        .map_err(|e| e.to_string())?;
    let backups = match (args.backup_from.as_deref(), args.backup_agent) {
        (Some(dir), Some(agent_id)) => vec![BackupUpload {
            agent_id,
            backup: BackupSpec::from_dir(dir).map_err(|e| e.to_string())?,
        }],
        _ => Vec::new(),
    };
    let config = Config {
        host: args.host,
        port: args.port,
        storage: if args.memory {
            Storage::Memory
        } else {
            Storage::File(args.db)
        },
        api_key: args.api_key.filter(|k| !k.is_empty()),
        insecure_no_auth: args.insecure_no_auth,
        agents: args.agents,
        seed,
        faults: args.faults,
        backups,
        allow_hosts: args.allow_hosts,
        tls: args.tls.then(|| TlsConfig::new(args.tls_dir)),
        latency: Duration::from_millis(args.latency),
        ..Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let server = lua_devserver::start(config)
            .await
            .map_err(|e| e.to_string())?;
        announce(&server.url(), server.ca_path())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
        wait_for_stop_signal().await;
        tracing::info!("stopping");
        server.shutdown().await;
        Ok(())
    })
}

/// The line on stdout that scripts and tests wait for (the last one), after the CA file's
/// path with `--tls`.
#[allow(clippy::print_stdout)]
fn announce(url: &str, ca: Option<&std::path::Path>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if let Some(ca) = ca {
        writeln!(out, "lua-devserver CA certificate: {}", ca.display())?;
    }
    writeln!(out, "lua-devserver listening on {url}")?;
    out.flush()
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
