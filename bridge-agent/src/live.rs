//! `ringside run`: the engine on a live NFQUEUE, in the phone line.
//!
//! Threads: the queue thread receives each packet and gives its verdict as soon as the engine
//! has decided (DESIGN rule 1); the sink thread writes the call log and recordings; the
//! announcer sends LAN announcements; a housekeeping thread runs the engine's timers and
//! swaps in new filters and settings when the store changes; the main thread waits for
//! SIGTERM/SIGINT and then ends every call cleanly; the console (its own thread and runtime)
//! sees the calls in progress through a [`LiveHub`] and sends its commands back through the
//! housekeeping thread. Engine, outputs and injector sit behind
//! one mutex that the queue thread holds for one packet at a time and the housekeeping
//! thread for one timer tick.
//!
//! The queue is opened fail-open and the rules carry `--queue-bypass`: if the agent is slow,
//! stopped or killed, calls go through unrecorded rather than not at all.
//!
//! Beside this file: the queue thread's scheduling policy (`priority`), the raw socket that
//! answers blocked callers (`injector`), and dropping root (`privileges`).
//!
//! A panic of the engine never leaves the agent deaf: the queue and housekeeping threads
//! catch it and recover in place, or the process exits for systemd to restart it (see
//! [`crate::recovery`] for how, and why the engine's state stays fit to use).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use nix::sys::signal::{SigSet, Signal};
use ringside_core::call::CallKey;
use ringside_core::call_view::CallView;
use ringside_core::packet::LinkType;
use ringside_core::{Engine, EngineConfig, Event, Timestamp, Verdict};
use ringside_hub::{Command, LiveCall, LiveHub};
use web_console::ConsoleState;

use crate::announcer::{default_targets, AnnouncerThread};
use crate::config::Config;
use crate::fragments::FragmentGuard;
use crate::recorder::{repair_recordings, Recorder};
use crate::recovery::{guard_thread, message, Recovery};
use crate::sink::{EventSink, SinkThread};
use crate::store::Store;
use crate::timefmt::{now, utc};

mod injector;
mod priority;
mod privileges;

use injector::Injector;
use priority::QueuePriority;
use privileges::drop_privileges;

/// Batches of events (those of one packet, mostly one) waiting for the disk at most; beyond,
/// they are dropped and counted, packets never wait.
const SINK_CAPACITY: usize = 16_384;
/// Packets the kernel holds for the agent before `--queue-bypass`/fail-open let them pass.
const QUEUE_MAX_LEN: u32 = 4096;
/// How often timers run and the store is checked for new filters and settings.
const HOUSEKEEPING: Duration = Duration::from_millis(250);

/// What `ringside run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The configuration (file and defaults).
    pub config: Config,
}

/// Everything the packet path touches, behind one lock: the engine and the threads, sockets
/// and console hub its events go to.
struct Agent {
    engine: Engine,
    sink: SinkThread,
    announcer: Option<AnnouncerThread>,
    injector: Injector,
    /// Calls in progress, for the console.
    hub: LiveHub,
    /// What to do when the engine panics.
    recovery: Recovery,
    /// Calls started and not yet ended (blocked ones too), from the engine's events: the
    /// queue thread runs at a real-time priority only while there are any.
    calls_in_progress: usize,
}

impl Agent {
    /// The engine's verdict on one packet (and the packet as it must go on, when changed),
    /// or what it said when it panicked.
    fn judge(
        &mut self,
        at: Timestamp,
        packet: &[u8],
        from_phone: Option<bool>,
    ) -> Result<Verdict, String> {
        let engine = &mut self.engine;
        catch_unwind(AssertUnwindSafe(|| {
            engine.handle_frame(at, LinkType::RawIp, packet, from_phone)
        }))
        .map_err(|panic| message(&*panic))
    }

    /// After the engine panicked on `packet` (already accepted): settles its call, keeps the
    /// packet in the quarantine and says so in the log and on the console.
    fn recover(&mut self, at: Timestamp, packet: &[u8], panic: &str) {
        let recovered = self.recovery.packet(&mut self.engine, at, packet);
        let (call, kept) = recovered.describe(&self.engine);
        tracing::error!(
            "the engine panicked on a packet ({panic}); it was let through, {call} ended, {kept}; \
             {} panics survived so far",
            self.recovery.total
        );
        self.hub
            .fault(format!("{panic} ({call} ended; {kept})"), utc(at));
    }

    /// Runs the engine's timers; a panic there is counted and said (the calls go on).
    fn tick(&mut self, at: Timestamp) {
        let engine = &mut self.engine;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| engine.handle_timeout(at))) {
            let panic = message(&*panic);
            self.recovery.timers();
            tracing::error!(
                "the engine's timers panicked ({panic}); {} panics survived so far",
                self.recovery.total
            );
            self.hub.fault(format!("timers: {panic}"), utc(at));
        }
    }

    fn drain(&mut self) {
        while let Some(transmit) = self.engine.poll_transmit() {
            self.injector.send(&transmit);
        }
        let mut stored = Vec::new();
        while let Some(event) = self.engine.poll_event() {
            match event {
                Event::CallStarted(_) => self.calls_in_progress += 1,
                Event::CallEnded { .. } => {
                    self.calls_in_progress = self.calls_in_progress.saturating_sub(1);
                }
                _ => {}
            }
            if let Some(announcer) = &mut self.announcer {
                announcer.offer(&event);
            }
            self.tell_console(&event);
            if let Event::Audio { call, frames, .. } = &event {
                if self.hub.listening() {
                    self.hub.audio(call.0, frames.clone());
                }
            }
            stored.push(event);
        }
        if !stored.is_empty() {
            self.sink.try_send(stored);
        }
    }

    fn tell_console(&self, event: &Event) {
        match event {
            Event::CallStarted(info) if info.blocked_by.is_none() => {
                let recording = self.engine.is_recorded(info.key);
                self.hub.started(LiveCall {
                    key: info.key.0,
                    call: CallView::starting(info),
                    recording,
                });
            }
            Event::CallAnswered { call, at, .. } => self.hub.answered(call.0, utc(*at)),
            Event::CallEnded { call, .. } => self.hub.ended(call.0),
            _ => {}
        }
    }

    /// Carries out what the console asked.
    fn obey(&mut self, command: Command) {
        match command {
            Command::SetRecording { key, on } => {
                self.engine.set_recording(CallKey(key), on);
                self.hub.recording(key, on);
            }
        }
    }
}

/// The agent behind its lock. Once shut down (every call ended, the log and the recordings
/// closed), the queue thread accepts whatever comes without looking and the housekeeping
/// thread stops.
#[expect(
    clippy::large_enum_variant,
    reason = "one value for the whole run, made once: boxing would save nothing"
)]
enum Lifecycle {
    /// Judging packets, running timers, recording.
    Running(Agent),
    /// Stopping: nothing is judged or recorded any more.
    ShutDown,
}

impl Lifecycle {
    /// The agent, while it runs.
    fn running(&mut self) -> Option<&mut Agent> {
        match self {
            Lifecycle::Running(agent) => Some(agent),
            Lifecycle::ShutDown => None,
        }
    }
}

type Shared = Arc<Mutex<Lifecycle>>;

/// What is opened as root, before the agent drops its privileges.
struct Privileged {
    queue: nfq::Queue,
    console: std::net::TcpListener,
    password_set: bool,
    injector: Injector,
    /// The interface index of the phone's bridge port, if configured.
    phone_port: Option<u32>,
}

/// Runs the agent until SIGTERM or SIGINT.
pub fn run(options: &RunOptions) -> anyhow::Result<()> {
    let config = &options.config;
    let data_dir = &options.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let repaired = repair_recordings(data_dir).context("cannot check the recordings")?;
    if !repaired.is_empty() {
        tracing::warn!("mended {} recordings a crash had left open", repaired.len());
    }
    // Signals are taken by the main thread alone: block them before any thread starts.
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGTERM);
    signals.add(Signal::SIGINT);
    signals.thread_block().context("cannot block signals")?;

    let Privileged {
        queue,
        console,
        password_set,
        injector,
        phone_port,
    } = open_privileged(config, data_dir)?;
    if let Some(user) = &config.user {
        drop_privileges(user, data_dir)?;
    }
    let (agent, hub, commands) = start_agent(config, data_dir, injector)?;
    let shared: Shared = Arc::new(Mutex::new(Lifecycle::Running(agent)));
    spawn_console(console, ConsoleState::new(data_dir.clone()).with_live(hub))?;
    spawn_packet_threads(queue, phone_port, &shared, commands, data_dir)?;
    if cfg!(feature = "fault-injection") {
        tracing::warn!("this is a test build: a SIP header X-Ringside-Fault panics the engine");
    }
    eprintln!(
        "ringside: running on queue {}, data in {}, console on http://{}/ ({})",
        config.queue,
        data_dir.display(),
        config.http,
        web_console::access_note(password_set)
    );

    let signal = signals.wait().context("cannot wait for signals")?;
    tracing::info!("{signal:?}: ending calls and closing recordings");
    shut_down(&shared);
    Ok(())
}

/// Opens what needs root: the queue, the console's port, the raw socket for answers.
fn open_privileged(config: &Config, data_dir: &Path) -> anyhow::Result<Privileged> {
    let queue = open_queue(config.queue)?;
    let password_set = Store::open_checked(data_dir)?
        .console_password_hash()?
        .is_some();
    let console = web_console::bind(config.http, password_set)?;
    let injector = Injector::open()?;
    let phone_port = match &config.phone_port {
        Some(port) => Some(
            nix::net::if_::if_nametoindex(port.as_str())
                .with_context(|| format!("phone_port: there is no interface `{port}`"))?,
        ),
        None => None,
    };
    Ok(Privileged {
        queue,
        console,
        password_set,
        injector,
        phone_port,
    })
}

/// The engine with the store's filters, the sink and announcer threads, and the console's
/// hub with the receiver of its commands.
fn start_agent(
    config: &Config,
    data_dir: &Path,
    injector: Injector,
) -> anyhow::Result<(Agent, LiveHub, std::sync::mpsc::Receiver<Command>)> {
    let store = Store::open(data_dir).context("cannot open the database")?;
    let interrupted = store.settle_interrupted_calls()?;
    if interrupted > 0 {
        tracing::warn!("{interrupted} calls were cut off by a crash; their end time is unknown");
    }
    let mut engine = Engine::new(EngineConfig {
        phone_addresses: config.phone_addresses.clone(),
        ..EngineConfig::default()
    });
    engine.set_policy(store.policy()?);
    let announcer = if config.announce.enabled {
        let targets = if config.announce.targets.is_empty() {
            default_targets(&config.bridge)
        } else {
            config.announce.targets.clone()
        };
        tracing::info!("announcing calls to {targets:?}");
        Some(AnnouncerThread::spawn(data_dir, targets)?)
    } else {
        None
    };
    let (hub, commands) = LiveHub::new();
    let agent = Agent {
        engine,
        sink: SinkThread::spawn(
            EventSink::new(store, Recorder::new(data_dir))
                .with_maintenance()
                .notifying(hub.clone()),
            SINK_CAPACITY,
        )?,
        announcer,
        injector,
        hub: hub.clone(),
        recovery: Recovery::new(data_dir),
        calls_in_progress: 0,
    };
    Ok((agent, hub, commands))
}

/// Serves the console on its own thread (with its own runtime).
fn spawn_console(console: std::net::TcpListener, state: ConsoleState) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("ringside-console".into())
        .spawn(move || {
            if let Err(error) = web_console::serve(console, state) {
                tracing::error!("the console stopped: {error}");
            }
        })?;
    Ok(())
}

/// Starts the queue thread and the housekeeping thread (timers, filters, console commands).
fn spawn_packet_threads(
    mut queue: nfq::Queue,
    phone_port: Option<u32>,
    shared: &Shared,
    commands: std::sync::mpsc::Receiver<Command>,
    data_dir: &Path,
) -> anyhow::Result<()> {
    let for_queue = Arc::clone(shared);
    std::thread::Builder::new()
        .name("ringside-queue".into())
        .spawn(move || {
            guard_thread("queue", || queue_loop(&mut queue, &for_queue, phone_port));
        })?;
    let for_housekeeping = Arc::clone(shared);
    let watcher = Store::open(data_dir)?;
    std::thread::Builder::new()
        .name("ringside-timers".into())
        .spawn(move || {
            guard_thread("housekeeping", || {
                housekeeping_loop(&for_housekeeping, &watcher, &commands);
            });
        })?;
    Ok(())
}

/// Ends every call, finishes the recordings and the log. The queue thread accepts whatever
/// comes after this without looking.
fn shut_down(shared: &Shared) {
    let mut guard = shared.lock().unwrap_or_else(PoisonError::into_inner);
    let Lifecycle::Running(mut agent) = std::mem::replace(&mut *guard, Lifecycle::ShutDown) else {
        return;
    };
    drop(guard);
    agent.engine.finish(now());
    agent.drain();
    if let Some(announcer) = agent.announcer {
        let _ = announcer.finish();
    }
    let report = agent.sink.finish();
    eprintln!(
        "ringside: stopped; {} calls logged this run, {} recordings, {} events dropped",
        report.calls.len(),
        report.recordings,
        report.dropped
    );
}

fn open_queue(number: u16) -> anyhow::Result<nfq::Queue> {
    let hint = "(is this root, with the nfnetlink_queue module?)";
    let mut queue = nfq::Queue::open().with_context(|| format!("cannot open NFQUEUE {hint}"))?;
    queue
        .bind(number)
        .with_context(|| format!("cannot bind NFQUEUE {number} {hint}"))?;
    queue.set_fail_open(number, true)?;
    queue.set_queue_max_len(number, QUEUE_MAX_LEN)?;
    queue.set_copy_range(number, u16::MAX)?;
    Ok(queue)
}

/// Consecutive queue errors after which the agent gives up, so that the kernel stops queueing
/// to it and `--queue-bypass` lets every packet pass.
const MAX_QUEUE_ERRORS: u32 = 100;

fn queue_loop(queue: &mut nfq::Queue, shared: &Shared, phone_port: Option<u32>) {
    let mut priority = QueuePriority::default();
    let mut errors = 0;
    let mut fragments = FragmentGuard::default();
    loop {
        if errors >= MAX_QUEUE_ERRORS {
            tracing::error!("the queue keeps failing; exiting so that packets bypass Ringside");
            std::process::exit(3);
        }
        let message = match queue.recv() {
            Ok(message) => message,
            Err(error) => {
                // ENOBUFS and the like: the kernel let packets pass (fail-open); go on.
                tracing::warn!("queue: {error}");
                errors += 1;
                continue;
            }
        };
        let from_phone = phone_port.map(|port| message.get_physindev() == port);
        let refused = fragments.refuses(message.get_payload(), from_phone);
        let mut guard = shared.lock().unwrap_or_else(PoisonError::into_inner);
        // The packet goes on first; what the engine has to say (answers to blocked callers,
        // announcements, the console, the log) follows.
        match decide(queue, guard.running(), message, refused, from_phone) {
            Ok(()) => errors = 0,
            Err(error) => {
                tracing::warn!("queue verdict: {error}");
                errors += 1;
            }
        }
        if let Some(agent) = guard.running() {
            agent.drain();
            priority.follow(agent.calls_in_progress > 0);
        }
    }
}

/// Gives the queue its verdict on `message` (the agent's, or accept when it is shut down);
/// after an engine panic, the packet goes on as it came and the agent recovers.
fn decide(
    queue: &mut nfq::Queue,
    agent: Option<&mut Agent>,
    mut message: nfq::Message,
    refused: bool,
    from_phone: Option<bool>,
) -> std::io::Result<()> {
    let Some(agent) = agent else {
        message.set_verdict(nfq::Verdict::Accept);
        return queue.verdict(message);
    };
    // Read under the lock, as the timers do: the engine's time never runs backwards.
    let at = now();
    let judged = if refused {
        Ok(Verdict::Drop)
    } else {
        agent.judge(at, message.get_payload(), from_phone)
    };
    // A panic: the packet goes on as it came, and is kept for the recovery.
    let (verdict, panicked) = match judged {
        Ok(verdict) => (verdict, None),
        Err(panic) => (
            Verdict::Accept,
            Some((panic, message.get_payload().to_vec())),
        ),
    };
    let verdict = match verdict {
        Verdict::Accept => nfq::Verdict::Accept,
        Verdict::Drop => nfq::Verdict::Drop,
        Verdict::Replace(packet) => {
            // A courtesy beep in the phone's audio, on its way to the remote party.
            message.set_payload(packet);
            nfq::Verdict::Accept
        }
    };
    message.set_verdict(verdict);
    let sent = queue.verdict(message);
    if let Some((panic, packet)) = panicked {
        agent.recover(at, &packet, &panic);
    }
    sent
}

fn housekeeping_loop(
    shared: &Shared,
    watcher: &Store,
    commands: &std::sync::mpsc::Receiver<Command>,
) {
    let mut version = watcher.data_version().ok();
    loop {
        std::thread::sleep(HOUSEKEEPING);
        let changed = watcher.data_version().ok();
        let policy = if changed == version {
            None
        } else {
            version = changed;
            match watcher.policy() {
                Ok(policy) => Some(policy),
                Err(error) => {
                    tracing::error!("cannot read the filters, keeping the old ones: {error}");
                    None
                }
            }
        };
        let mut guard = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(agent) = guard.running() else { return };
        if let Some(policy) = policy {
            tracing::info!("filters and settings reloaded");
            agent.engine.set_policy(policy);
        }
        while let Ok(command) = commands.try_recv() {
            agent.obey(command);
        }
        // Someone listening live gets the audio every 20 ms rather than every 512 ms.
        let listening = agent.hub.listening();
        agent.engine.set_listening(listening);
        agent.tick(now());
        agent.drain();
    }
}
