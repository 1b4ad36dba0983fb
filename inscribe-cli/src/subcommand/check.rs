//! `lumamesh check`

use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bootstrap_codec::RelayEntry;
use harness::browser::{BrowserError, Engine, LaunchOptions};
use harness::check::{
    check_stored, CheckError, CheckOptions, LoadContext, Problem, Relay, DEFAULT_WATCH,
};
use harness::server::Inscription;
use harness::watch::Observation;
use harness::{netns, InscriptionId};
use indicatif::{ProgressBar, ProgressStyle};
use keystore::write_atomic;
use lumamesh_relay::local::LocalRelay;
use regex::Regex;

use crate::input::read_verified_relays;
use crate::{output, Failed, UsageError};

mod targets;

use targets::{
    embedded_relays, link_placeholders, load_targets, placeholder_id, referenced_ids, Targets,
};

#[derive(Debug, clap::Args)]
pub struct Check {
    /// An HTML page, or a folder of inscriptions in the harness store format
    /// (`<id>.html`, `<id>.js`, sidecars; see harness/README.md). Optional with --reveal.
    ///
    /// With a folder, every HTML inscription in it is checked, and the folder's other
    /// inscriptions are served beside it. Each page is served as ord serves it, loaded as
    /// the top document and inside an explorer's `<iframe sandbox=allow-scripts>`, and
    /// passes only if a DataChannel opens in both and nothing was refused or leaked.
    #[arg(value_name = "PAGE|DIR", required_unless_present = "reveal")]
    target: Option<PathBuf>,
    /// A reveal transaction, in hex (or raw bytes); repeatable.
    ///
    /// Every inscription in it is served at its id `<txid>i<n>` exactly as ord would serve
    /// it (content type, content encoding, metadata, parents, delegate), and every HTML one
    /// (`text/html…`), or one delegating to an HTML one, is checked. Its pages import their
    /// libraries from these reveals.
    #[arg(long, value_name = "FILE")]
    reveal: Vec<PathBuf>,
    /// Relay list the runtime embeds (every entry must verify).
    ///
    /// The runtime served for --lib ids and for `/content/LUMAMESH_LIBRARY_ID` is built for
    /// these relays. They, and every signed relay entry found in the served inscriptions
    /// (an on-chain library's, a relay list's), are the only UDP destinations a page may
    /// use: any other address a page's WebRTC sends to, any ICE (STUN/TURN) server and any
    /// remote candidate elsewhere fails the check. Without --relays, a throwaway relay is
    /// started on 127.0.0.1 for the runtime (only if some page needs it).
    #[arg(long, value_name = "FILE")]
    relays: Option<PathBuf>,
    /// Serve the Lumamesh runtime (built for --relays) as /content/ID; repeatable.
    ///
    /// Only ids named here, and the `LUMAMESH_LIBRARY_ID` placeholder that `page new
    /// --publish` writes, are answered with the runtime. Any other id a page imports that
    /// no folder or --reveal provides is answered 404, as ord would, and fails the check
    /// with its id: the check never judges a page by a library it was not given.
    #[arg(long = "lib", value_name = "ID")]
    libs: Vec<InscriptionId>,
    /// Seconds to wait, per page and load context, for a DataChannel to open.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    timeout: f64,
    /// Seconds to keep watching after the DataChannel opens, and again after typing and
    /// clicking.
    ///
    /// A page is watched for its whole visit: load, the DataChannel opening, SECONDS more
    /// (5 by default: a leak timed a few seconds after load is caught), then the check types
    /// into every field, presses Enter and clicks every button as a visitor would, and
    /// watches SECONDS again, so code that waits for a gesture runs too. Anything the page
    /// or its workers, iframes and popups do at any time in that window counts. Both load
    /// contexts run at once, each in its own browser.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_WATCH.as_secs_f64())]
    watch: f64,
    /// Do not type, press or click (the second watch is skipped too).
    #[arg(long)]
    no_gestures: bool,
    /// Print the result as JSON (and no progress bar).
    #[arg(long)]
    json: bool,
    /// Also write a JUnit XML report: one testcase per page and load context, one
    /// failure per problem.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// The browser engines that check each page: chromium, firefox or all.
    ///
    /// Default: every engine installed (a missing one is named, with how to install it).
    /// Naming an engine that is not installed is an error. Firefox runs the whole check in
    /// a private network namespace (loopback and one private address, nothing beyond), so
    /// a page that leaks reaches nothing, and every packet Firefox sends there is captured
    /// and judged (a problem of api `wire` names its destination); only the check's own throwaway relay is
    /// reachable there, so Firefox cannot check a page with --relays or with relays of its
    /// own (those are checked in Chromium).
    #[arg(long, value_enum, value_name = "ENGINE")]
    browser: Option<BrowserChoice>,
}

/// `--browser`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum BrowserChoice {
    Chromium,
    Firefox,
    All,
}

#[derive(Debug, serde::Serialize)]
struct Output {
    ok: bool,
    /// The relay.txt lines the runtime was built with (none if no page needed it).
    relays: Vec<String>,
    /// Whether those are a throwaway relay started for the check.
    local_relay: bool,
    /// The relays a page's WebRTC may reach (`host:port`): those above and every signed
    /// entry found in the served inscriptions.
    allowed_relays: Vec<String>,
    /// Seconds watched after the DataChannel opened (and again after the gestures).
    watch_seconds: f64,
    /// Whether the check typed, pressed Enter and clicked.
    gestures: bool,
    /// The engines every page was checked in.
    browsers: Vec<Engine>,
    /// The engines whose every packet was captured and judged (Firefox, in the check's
    /// private network namespace): a problem of api `wire` is one such packet.
    wire_capture: Vec<Engine>,
    pages: Vec<PageOutput>,
}

#[derive(Debug, serde::Serialize)]
struct PageOutput {
    page: String,
    /// The inscription id the page was served under.
    id: InscriptionId,
    /// What replaces the page's served URL in human output.
    #[serde(skip)]
    location: String,
    ok: bool,
    /// Ids the page references that were served as the freshly built runtime.
    runtime_ids: Vec<String>,
    /// Ids the page references that nothing provides (answered 404).
    missing_ids: Vec<String>,
    contexts: Vec<ContextOutput>,
}

#[derive(Debug, serde::Serialize)]
struct ContextOutput {
    /// The engine of this verdict.
    browser: Engine,
    context: LoadContext,
    url: String,
    ok: bool,
    data_channel_opened: bool,
    problems: Vec<Problem>,
    observation: Observation,
}

impl Check {
    pub fn run(self) -> anyhow::Result<()> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(UsageError(format!(
                "--timeout {} must be a number of seconds between 0 and 3600",
                self.timeout
            ))
            .into());
        }
        if !(self.watch.is_finite() && self.watch >= 0.0 && self.watch <= 600.0) {
            return Err(UsageError(format!(
                "--watch {} must be a number of seconds between 0 and 600",
                self.watch
            ))
            .into());
        }
        // In the namespace `rerun_in_namespace` made, its network comes first.
        let inside = netns::inside();
        let relay_ip = if inside {
            netns::setup()
                .map_err(|e| environment(e, "cannot set up the check's network namespace"))?
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        };
        let mut targets = load_targets(self.target.as_deref(), &self.reveal)?;
        link_placeholders(&mut targets);
        let relays = match &self.relays {
            Some(path) => Some(read_verified_relays(path)?),
            None => None,
        };
        let mut engines = self.engines(!inside)?;
        let mut firefox_error = None;
        if !inside && engines.contains(&Engine::Firefox) {
            let own_relays = self.relays.is_some()
                || targets
                    .store
                    .iter()
                    .any(|(_, i)| !embedded_relays(i).is_empty());
            let why = if own_relays {
                Some(
                    "the pages' relays (--relays, or signed relay entries in the served inscriptions) are outside the private network namespace Firefox checks in, where only the check's own throwaway relay is reachable"
                        .to_owned(),
                )
            } else {
                netns::probe().err().map(|e| e.to_string())
            };
            let Some(why) = why else {
                return rerun_in_namespace();
            };
            let why = format!("firefox cannot check here: {why}");
            match self.browser {
                Some(BrowserChoice::Firefox) => return Err(UsageError(why).into()),
                Some(BrowserChoice::All) => {
                    eprintln!("error: {why}; checking in chromium only");
                    firefox_error = Some(why);
                }
                _ => eprintln!("note: {why}; checking in chromium only"),
            }
            engines.retain(|e| *e != Engine::Firefox);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let out = runtime.block_on(self.check_all(targets, relays, &engines, relay_ip))?;
        if let Some(path) = &self.junit {
            write_atomic(path, junit(&out).as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        output::print(self.json, &out)?;
        match firefox_error {
            _ if !out.ok => Err(Failed.into()),
            Some(why) => Err(UsageError(why).into()),
            None => Ok(()),
        }
    }

    /// The engines to check in: `--browser`'s, or every one installed. A named engine
    /// that is missing is an error; without `--browser`, a missing one is noted (if
    /// `notes`) and an error only if none is installed.
    fn engines(&self, notes: bool) -> anyhow::Result<Vec<Engine>> {
        let wanted = match self.browser {
            Some(BrowserChoice::Chromium) => vec![Engine::Chromium],
            Some(BrowserChoice::Firefox) => vec![Engine::Firefox],
            Some(BrowserChoice::All) | None => Engine::ALL.to_vec(),
        };
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for engine in wanted {
            match engine.executable(None) {
                Ok(_) => found.push(engine),
                Err(e) => missing.push(e.to_string()),
            }
        }
        if self.browser.is_some() && !missing.is_empty() {
            return Err(UsageError(missing.join("; ")).into());
        }
        if found.is_empty() {
            return Err(
                UsageError(format!("no browser to check with: {}", missing.join("; "))).into(),
            );
        }
        if notes {
            for m in missing {
                eprintln!("note: {m}; checking without it");
            }
        }
        Ok(found)
    }

    async fn check_all(
        &self,
        targets: Targets,
        relays: Option<Vec<RelayEntry>>,
        engines: &[Engine],
        relay_ip: IpAddr,
    ) -> anyhow::Result<Output> {
        let Targets {
            pages: targets,
            store,
        } = targets;
        // The runtime is served only under ids the user names (and the placeholder).
        // Every other id nothing provides is missing (ord answers 404).
        let placeholder = placeholder_id();
        let (runtime_ids, missing_ids): (Vec<Vec<InscriptionId>>, Vec<Vec<InscriptionId>>) =
            targets
                .iter()
                .map(|target| {
                    let (runtime, other): (Vec<_>, Vec<_>) = referenced_ids(&target.html)
                        .into_iter()
                        .partition(|id| self.libs.contains(id) || *id == placeholder);
                    let missing = other
                        .into_iter()
                        .filter(|id| store.get(id).is_none())
                        .collect();
                    (runtime, missing)
                })
                .unzip();
        let needs_runtime = runtime_ids.iter().any(|ids| !ids.is_empty());
        // Kept alive until every page is checked; dropping it stops the relay.
        let mut local = None;
        let entries = match relays {
            Some(entries) => entries,
            None if needs_runtime => {
                let relay = LocalRelay::start(relay_ip)
                    .await
                    .map_err(|e| environment(e, "cannot start a local relay"))?;
                let entry = relay.entry().clone();
                local = Some(relay);
                vec![entry]
            }
            None => Vec::new(),
        };
        let runtime_js = if needs_runtime {
            let bundle = sandbox_runtime::bundle(&entries).context("building the runtime")?;
            Some(Inscription::brotli("text/javascript", bundle.js.as_bytes()))
        } else {
            None
        };
        let mut allowed: Vec<RelayEntry> = entries.clone();
        for (_, inscription) in store.iter() {
            for entry in embedded_relays(inscription) {
                if !allowed.contains(&entry) {
                    allowed.push(entry);
                }
            }
        }

        let options = CheckOptions {
            timeout: Duration::from_secs_f64(self.timeout),
            watch: Duration::from_secs_f64(self.watch),
            exercise: !self.no_gestures,
            require_data_channel: true,
            relays: allowed.iter().map(relay_of).collect(),
            ..CheckOptions::default()
        };
        let progress = self.progress(targets.len());
        let mut pages = Vec::new();
        let mut result = Ok(());
        for ((target, runtime_ids), missing_ids) in
            targets.into_iter().zip(runtime_ids).zip(missing_ids)
        {
            progress.set_message(target.name.clone());
            let mut served = store.clone();
            if let (Some(runtime_js), false) = (&runtime_js, runtime_ids.is_empty()) {
                progress.suspend(|| {
                    eprintln!(
                        "note: {}: serving the runtime built for {} relay(s) as {}",
                        target.name,
                        entries.len(),
                        runtime_ids
                            .iter()
                            .map(|id| format!("/content/{id}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                });
                for id in &runtime_ids {
                    served.insert(*id, runtime_js.clone());
                }
            }
            let mut contexts: Vec<ContextOutput> = Vec::new();
            for &engine in engines {
                let options = CheckOptions {
                    launch: LaunchOptions::engine(engine),
                    wire: wire_capture(engine),
                    ..options.clone()
                };
                let verdict = match check_stored(served.clone(), target.id, &options).await {
                    Ok(verdict) => verdict,
                    Err(e) => {
                        result = Err(check_error(e));
                        break;
                    }
                };
                contexts.extend(verdict.contexts.into_iter().map(|mut c| {
                    missing_problems(&mut c.problems, &missing_ids);
                    ContextOutput {
                        browser: engine,
                        context: c.context,
                        url: c.url,
                        ok: c.data_channel_opened && c.problems.is_empty(),
                        data_channel_opened: c.data_channel_opened,
                        problems: c.problems,
                        observation: c.observation,
                    }
                }));
            }
            if result.is_err() {
                break;
            }
            pages.push(PageOutput {
                page: target.name,
                id: target.id,
                location: target.location,
                ok: contexts.iter().all(|c| c.ok),
                runtime_ids: runtime_ids.iter().map(ToString::to_string).collect(),
                missing_ids: missing_ids.iter().map(ToString::to_string).collect(),
                contexts,
            });
            progress.inc(1);
        }
        progress.finish_and_clear();
        drop(local);
        result?;
        Ok(Output {
            ok: pages.iter().all(|p| p.ok),
            relays: entries.iter().map(RelayEntry::to_line).collect(),
            local_relay: self.relays.is_none() && needs_runtime,
            allowed_relays: options
                .relays
                .iter()
                .map(|r| format!("{}:{}", r.host, r.port))
                .collect(),
            watch_seconds: self.watch,
            gestures: !self.no_gestures,
            browsers: engines.to_vec(),
            wire_capture: engines
                .iter()
                .copied()
                .filter(|e| wire_capture(*e))
                .collect(),
            pages,
        })
    }

    /// A bar on stderr, only for people watching a terminal.
    fn progress(&self, pages: usize) -> ProgressBar {
        if self.json || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(pages as u64);
        // The template is a literal known to parse.
        let style = ProgressStyle::with_template("{spinner} checking [{pos}/{len}] {wide_msg}")
            .expect("valid progress template");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

/// Whether `engine`'s checks capture every packet: Firefox (it has no NetLog), in the
/// private network namespace only (elsewhere a capture would see the whole machine).
fn wire_capture(engine: Engine) -> bool {
    engine == Engine::Firefox && netns::inside()
}

/// Runs this very command again inside a private network namespace (see
/// [`harness::netns`]) and exits with its exit code: Firefox reaches the check's relay
/// there from both load contexts, and nothing the page sends leaves it.
fn rerun_in_namespace() -> anyhow::Result<()> {
    let status = netns::rerun(std::env::args_os().skip(1))
        .map_err(|e| environment(e, "cannot run the check in a network namespace"))?;
    // The child printed its own report; a signal death is an environment failure.
    std::process::exit(status.code().unwrap_or(2));
}

/// An error that means the check could not run here: exit code 2, causes kept.
fn environment(error: impl std::error::Error + Send + Sync + 'static, what: &str) -> anyhow::Error {
    anyhow::Error::new(error).context(UsageError(what.to_owned()))
}

fn check_error(error: CheckError) -> anyhow::Error {
    match error {
        // Its message says how to install Chromium.
        CheckError::Browser(e @ BrowserError::NotFound(_)) => UsageError(e.to_string()).into(),
        CheckError::Browser(e) => environment(e, "the browser failed; the page was not checked"),
        CheckError::Server(e) => environment(e, "cannot serve the page"),
        CheckError::Wire(e) => environment(
            e,
            "the packet capture failed; what the page sent is not known, so it was not checked",
        ),
    }
}

fn relay_of(entry: &RelayEntry) -> Relay {
    Relay {
        host: match entry.address().ip() {
            Some(ip) => ip.to_string(),
            None => entry.address().to_string(),
        },
        port: entry.port(),
    }
}

/// A problem for every referenced id nothing provides that the page did not request
/// while watched (it would be answered 404 on ord when it does).
fn missing_problems(problems: &mut Vec<Problem>, missing: &[InscriptionId]) {
    for id in missing {
        let path = format!("/content/{id}");
        if problems
            .iter()
            .any(|p| p.url.as_deref().is_some_and(|u| u.ends_with(&path)))
        {
            continue;
        }
        problems.push(Problem {
            api: "missing".into(),
            url: Some(path.clone()),
            source: None,
            line: None,
            at_ms: None,
            message: format!(
                "references {path}, which the check does not have; ord answers 404 until it is inscribed: give it with --reveal FILE or a folder, or, if it is the Lumamesh runtime, with --lib {id}"
            ),
        });
    }
}

fn context_name(context: LoadContext) -> &'static str {
    match context {
        LoadContext::TopLevel => "top-level",
        LoadContext::SandboxedIframe => "sandboxed-iframe",
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for page in &self.pages {
            writeln!(f, "{}", page.page)?;
            for c in &page.contexts {
                let verdict = if c.ok { "PASS" } else { "FAIL" };
                let channel = if c.data_channel_opened {
                    "DataChannel open"
                } else {
                    "no DataChannel"
                };
                writeln!(
                    f,
                    "  {verdict}  {:<17} {:<9}{channel}",
                    context_name(c.context),
                    c.browser.name()
                )?;
                for p in &c.problems {
                    let message = served_as(&p.message, &page.id, &page.location);
                    writeln!(f, "        {}: {message}", p.api)?;
                }
            }
        }
        let gestures = if self.gestures {
            format!(", typed and clicked, then {} s more", self.watch_seconds)
        } else {
            String::new()
        };
        let wire = if self.wire_capture.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = self.wire_capture.iter().map(|e| e.name()).collect();
            format!(
                "; in {}, every packet sent was captured and judged",
                names.join(", ")
            )
        };
        writeln!(
            f,
            "watched each page {} s after its DataChannel opened{gestures}; UDP allowed only to {}{wire}",
            self.watch_seconds,
            if self.allowed_relays.is_empty() {
                "no relay".to_owned()
            } else {
                self.allowed_relays.join(", ")
            }
        )?;
        let failed = self.pages.iter().filter(|p| !p.ok).count();
        if failed == 0 {
            writeln!(f, "ok: {} page(s) passed", self.pages.len())
        } else {
            writeln!(
                f,
                "FAILED: {failed} of {} page(s) would break or leak on chain",
                self.pages.len()
            )
        }
    }
}

/// Names the page instead of the harness URL it was served at (`…/content/<id>:11`
/// becomes `lobby.html:11`), so people see where to look.
fn served_as(message: &str, id: &InscriptionId, page: &str) -> String {
    // The pattern is built from an id (hex digits, `i`, digits) and known to compile.
    let served =
        Regex::new(&format!(r"https?://[^/\s]+/(?:content|preview)/{id}")).expect("valid regex");
    served
        .replace_all(message, regex::NoExpand(page))
        .into_owned()
}

/// JUnit XML: one testsuite, one testcase per page and context, one failure per problem.
fn junit(out: &Output) -> String {
    let cases: Vec<(&PageOutput, &ContextOutput)> = out
        .pages
        .iter()
        .flat_map(|p| p.contexts.iter().map(move |c| (p, c)))
        .collect();
    let failures = cases.iter().filter(|(_, c)| !c.ok).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // Writing into a String cannot fail.
    let _ = writeln!(
        xml,
        "<testsuites name=\"lumamesh check\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        cases.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"lumamesh check\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        cases.len()
    );
    for (page, c) in cases {
        let _ = write!(
            xml,
            "    <testcase classname=\"{}\" name=\"{} ({})\"",
            escape(&page.page),
            context_name(c.context),
            c.browser.name()
        );
        if c.ok {
            xml.push_str("/>\n");
            continue;
        }
        xml.push_str(">\n");
        let mut problems: Vec<&Problem> = c.problems.iter().collect();
        let none = Problem {
            api: "RTCDataChannel".into(),
            url: None,
            source: None,
            line: None,
            at_ms: None,
            message: "no DataChannel opened".into(),
        };
        if problems.is_empty() {
            problems.push(&none);
        }
        for p in problems {
            let _ = writeln!(
                xml,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                escape(&p.api),
                escape(&p.message),
                escape(&format!(
                    "{}\nurl: {}\nat: {}:{}",
                    p.message,
                    p.url.as_deref().unwrap_or("-"),
                    p.source.as_deref().unwrap_or("-"),
                    p.line.map_or("-".to_owned(), |l| l.to_string())
                ))
            );
        }
        xml.push_str("    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Escapes text for XML content and attribute values; characters XML 1.0 cannot carry
/// become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use harness::check::PAGE_ID;

    use super::{escape, served_as};

    #[test]
    fn messages_name_the_page_file() {
        let message = format!(
            "opens a WebSocket to ws://127.0.0.2:9/ at http://127.0.0.1:45353/preview/{PAGE_ID}:11; refused"
        );
        assert_eq!(
            served_as(&message, &PAGE_ID.parse().unwrap(), "lobby.html"),
            "opens a WebSocket to ws://127.0.0.2:9/ at lobby.html:11; refused"
        );
    }

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{fffd}&#10;"
        );
    }
}
