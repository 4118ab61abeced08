//! What the queue benchmarks measure ringside against: a trivial consumer of the lab's queue
//! that accepts every packet at once, and the kernel's count of packets queued.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use crate::lab::{Lab, PHONE, PROVIDER};

/// The queue the lab's rules send to.
const QUEUE: u16 = 5061;

/// A thread in the bridge namespace that opens the queue fail-open, with ringside's queue
/// length, and accepts every packet at once.
pub struct TrivialConsumer {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
    /// The thread's id, for its CPU time in `/proc/self/task/<tid>/stat`.
    pub tid: i32,
}

impl TrivialConsumer {
    /// Starts it and waits until it holds the queue.
    pub fn start(lab: &Lab) -> TrivialConsumer {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let ns = format!("/run/netns/{}", lab.ns("br"));
        let (ready, wait) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let file = std::fs::File::open(&ns).expect("namespace");
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let mut queue = nfq::Queue::open().expect("queue");
            queue.bind(QUEUE).expect("bind");
            queue.set_fail_open(QUEUE, true).expect("fail-open");
            queue.set_queue_max_len(QUEUE, 4096).expect("length");
            ready.send(nix::unistd::gettid().as_raw()).expect("ready");
            while !flag.load(Ordering::Relaxed) {
                let Ok(mut message) = queue.recv() else {
                    continue;
                };
                message.set_verdict(nfq::Verdict::Accept);
                let _ = queue.verdict(message);
            }
        });
        let tid = wait.recv().expect("the trivial consumer started");
        TrivialConsumer { stop, thread, tid }
    }

    /// Stops it: its blocking receive is woken by a few more packets across the bridge.
    pub fn stop(self, lab: &Lab) {
        self.stop.store(true, Ordering::Relaxed);
        let waker = lab.udp_socket("prov", &format!("{PROVIDER}:0"));
        for _ in 0..3 {
            let _ = waker.send_to(b"wake", format!("{PHONE}:9"));
            std::thread::sleep(Duration::from_millis(20));
        }
        self.thread.join().expect("trivial consumer");
    }
}

/// The kernel's count of packets handed to the queue in the bridge namespace (its next
/// packet id, from `/proc/net/netfilter/nfnetlink_queue`).
pub fn queued(lab: &Lab) -> u64 {
    let table = lab.in_ns("br", &["cat", "/proc/net/netfilter/nfnetlink_queue"]);
    let queue = QUEUE.to_string();
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(queue.as_str()))
        .and_then(|l| l.split_whitespace().nth(7))
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}
